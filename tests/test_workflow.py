"""The studies as a Snakemake workflow (aelib.pipeline.workflow, workflow/Snakefile), run for real
on a tiny checkout: the dry run's job list, keep-going past a failing study, the incremental rule,
and two seeds side by side."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from aelib.pipeline import workflow

REPOSITORY = Path(__file__).resolve().parents[1]

TOY = '''import json, os
from pathlib import Path
folder = Path(output_dir)
folder.mkdir(parents=True, exist_ok=True)
(folder / "metrics.json").write_text(json.dumps({
    "study": STUDY, "title": STUDY, "profile": profile, "params": {"seed": seed, "steps": steps},
    "metrics": {"value": seed * 10 + steps},
    "claims": [{"id": "positive", "statement": "s", "paper_value": "-", "paper_source": "-",
                "ours": str(seed * 10 + steps), "tolerance": "> 0", "holds": seed * 10 + steps > 0}],
    "figures": [], "tables": {}, "provenance": {"seed": seed, "threads": os.environ.get("OMP_NUM_THREADS")}}))
'''
MISSING_DATA = 'from aelib.data.datasets import load_dataset\nload_dataset("cifar10", "/nonexistent-folder", download=False)\n'


def notebook(path: Path, study: str, body: str) -> None:
    cells = [nbformat.v4.new_code_cell('profile = "quick"\nsteps = 2\nseed = 0\noutput_dir = None',
                                       metadata={"tags": ["parameters"]}),
             nbformat.v4.new_code_cell(f"STUDY = {study!r}\n" + body)]
    book = nbformat.v4.new_notebook(cells=cells)
    book.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
    nbformat.write(book, path)


@pytest.fixture
def checkout(tmp_path):
    """A checkout with a working study (01), one whose data are missing (02) and the real Snakefile."""
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "aelib"\n')
    (tmp_path / "notebooks").mkdir()
    notebook(tmp_path / "notebooks" / "01_toy.ipynb", "01_toy", TOY)
    notebook(tmp_path / "notebooks" / "02_needs_data.ipynb", "02_needs_data", MISSING_DATA)
    shutil.copytree(REPOSITORY / "workflow", tmp_path / "workflow")
    return tmp_path


def aelib(checkout: Path, *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "aelib", *arguments], cwd=checkout, capture_output=True,
                          text=True, timeout=300, env={**__import__("os").environ, "AELIB_DATA_DIR": ""})


def test_dry_run_lists_each_study_and_seed_and_runs_nothing(checkout):
    run = aelib(checkout, "reproduce", "--dry-run", "--seeds", "0", "3")
    assert run.returncode == 0, run.stderr
    listing = run.stdout + run.stderr
    for study in ("01_toy", "02_needs_data"):
        for seed in (0, 3):
            assert f"{study}/seed-{seed}.done" in listing
    assert "Missing output files" in listing or "missing output" in listing.lower()
    assert not (checkout / "results").exists()


@pytest.mark.slow
def test_a_failing_study_stops_nothing_else_and_a_second_run_runs_nothing(checkout):
    run = aelib(checkout, "reproduce")
    assert run.returncode == 1
    assert (checkout / "results" / "quick" / "01_toy" / "metrics.json").exists()
    assert not (checkout / "results" / "quick" / "02_needs_data").exists()  # its record: unchanged (none)
    summary = run.stderr[run.stderr.index("run(s) failed"):]
    assert "02_needs_data (seed 0): DataNotFoundError" in summary
    assert "python -m aelib data fetch cifar10" in summary and "seed-0.log" in summary
    assert "01_toy" not in summary
    assert (checkout / "report" / "quick" / "README.md").exists()  # built from the study that ran

    (checkout / "notebooks" / "02_needs_data.ipynb").unlink()
    again = aelib(checkout, "reproduce", "--dry-run")
    assert again.returncode == 0 and "rule study:" not in again.stdout + again.stderr  # only the report is left

    notebook(checkout / "notebooks" / "01_toy.ipynb", "01_toy", TOY + "\n# edited\n")
    stale = aelib(checkout, "reproduce", "--dry-run")
    listing = stale.stdout + stale.stderr
    assert "rule study:" in listing and "reason: Updated input files: notebooks/01_toy.ipynb" in listing
    changed = aelib(checkout, "reproduce", "--dry-run", "-p", "steps", "5")
    assert "rule study:" in changed.stdout + changed.stderr and "params" in (changed.stdout + changed.stderr).lower()


@pytest.mark.slow
def test_two_seeds_side_by_side_are_recorded_beside_the_default_folder(checkout):
    (checkout / "notebooks" / "02_needs_data.ipynb").unlink()
    run = aelib(checkout, "reproduce", "01", "--seeds", "0", "1", "--cores", "2", "--no-report")
    assert run.returncode == 0, run.stderr
    assert not (checkout / "report").exists()
    default = json.loads((checkout / "results" / "quick" / "01_toy" / "metrics.json").read_text())
    other = json.loads((checkout / "results" / "quick" / "01_toy.seed-1" / "metrics.json").read_text())
    assert default["params"]["seed"] == 0 and other["params"]["seed"] == 1
    assert other["provenance"]["threads"] == "1"  # two jobs on two cores: one thread each
    second = aelib(checkout, "reproduce", "01", "--seeds", "0", "1", "--no-report")
    assert second.returncode == 0 and "Nothing to be done" in second.stdout + second.stderr
    with_report = aelib(checkout, "reproduce", "01", "--seeds", "0", "1")  # only the report job is left
    assert "rule study:" not in with_report.stdout + with_report.stderr
    assert (checkout / "report" / "quick" / "README.md").exists()
    by_parameter = aelib(checkout, "reproduce", "01", "-p", "seed", "4", "--dry-run")
    assert "01_toy/seed-4.done" in by_parameter.stdout + by_parameter.stderr  # -p seed 4 is --seeds 4
    forced = aelib(checkout, "reproduce", "01", "--seeds", "0", "1", "--force", "--dry-run")
    assert "01_toy/seed-1.done" in forced.stdout + forced.stderr


def test_bad_workflow_arguments_are_refused_before_anything_runs(checkout):
    for arguments, message in ((["--seeds", "-1"], "--seeds takes distinct non-negative integers"),
                               (["--cores", "0"], "--cores takes a positive integer"),
                               (["--seeds", "1", "-p", "seed", "2"], "give the seed with --seeds")):
        run = aelib(checkout, "reproduce", "01", *arguments)
        assert run.returncode == 2 and message in run.stderr
    assert not (checkout / ".aelib").exists() or not any((checkout / ".aelib").rglob("*.done"))


def test_a_study_depends_on_the_library_modules_its_notebook_imports():
    inputs = {p.relative_to(REPOSITORY).as_posix()
              for p in workflow.library_inputs(REPOSITORY / "notebooks" / "04_rank_order_cifar_patches.ipynb", REPOSITORY)}
    assert {"aelib/training/rank_ordered_rule.py", "aelib/data/references.py", "aelib/pipeline/study.py",
            "aelib/data/datasets.py", "aelib/__init__.py", "aelib/training/__init__.py",
            "aelib/pipeline/__init__.py"} <= inputs
    assert "aelib/models/vae.py" not in inputs and "aelib/pipeline/report.py" not in inputs
