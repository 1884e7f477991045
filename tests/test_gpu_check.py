"""The CPU side of benchmarks/gpu_check.py: its smoke run, the verdicts it reads and compares, its errors."""

import json
import math
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import gpu_check  # noqa: E402
from study_verdicts import compare_verdicts, run_study, stored_verdicts  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def numbers(tree):
    """Every int or float in a JSON tree (booleans aside)."""
    if isinstance(tree, dict):
        return [n for value in tree.values() for n in numbers(value)]
    if isinstance(tree, list):
        return [n for value in tree for n in numbers(value)]
    return [tree] if isinstance(tree, (int, float)) and not isinstance(tree, bool) else []


@pytest.mark.slow
def test_the_cpu_smoke_run_writes_every_part(tmp_path):
    completed = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gpu_check.py"), str(tmp_path),
                                "--device", "cpu", "--smoke"], capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    result = json.loads((tmp_path / "gpu_check.json").read_text())
    assert result["complete"] and result["smoke"] and result["device"]["type"] == "cpu"
    assert {"torch", "name"} <= set(result["device"]) and "git_commit" in result["commit"]
    for part in ("throughput", "batched_sweep", "studies"):
        assert "error" not in result[part], result[part]
        assert result[part]["seconds"] > 0
    rows = result["throughput"]["rows"]
    assert {(r["model"].split()[0], r["precision"]) for r in rows} == {
        (model, precision) for model in ("DAE", "VAE", "rank-ordered") for precision in ("float32", "bf16 autocast")}
    for row in rows:
        assert all(math.isfinite(row[k]) and row[k] > 0 for k in
                   ("examples_per_second", "epoch_seconds", "gflops", "held_out_loss_float32", "speedup_over_float32"))
    sweep = result["batched_sweep"]
    assert len(sweep["rows"]) == 4 and all(r["images_per_second"] > 0 and r["speedup"] > 0 for r in sweep["rows"])
    assert all(r["max_weight_difference"] < 1e-4 for r in sweep["rows"])  # batched = sequential on this device
    assert all(math.isfinite(n) for n in numbers(result))
    studies = result["studies"]
    assert studies["rows"] == [{**studies["rows"][0], "study": "00_smoke_study", "status": "ok", "claims": 2,
                                "same": True, "differing": []}]
    assert studies["all_same"] and set(studies["stored_verdicts_parsed"]) == {p.stem for p in NOTEBOOKS}


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.stem)
def test_the_cpu_verdicts_are_read_from_each_committed_notebook(notebook):
    verdicts = stored_verdicts(notebook)
    source = "".join("".join(c["source"]) for c in json.loads(notebook.read_text())["cells"])
    assert verdicts and set(verdicts) <= set(re.findall(r'\.claim\(\s*"(\w+)"', source))
    assert set(verdicts.values()) <= {True, False, None}


def test_a_differing_verdict_a_missing_claim_and_an_extra_one_are_each_reported():
    cpu = {"a": True, "b": False, "c": None, "gone": True}
    device = [{"id": "a", "holds": True}, {"id": "b", "holds": True}, {"id": "c", "holds": None},
              {"id": "new", "holds": False}]
    assert compare_verdicts(cpu, device) == {"claims": 4, "same": False, "differing": [
        {"id": "b", "cpu": False, "device": True}, {"id": "gone", "cpu": True, "device": "missing"},
        {"id": "new", "cpu": "missing", "device": False}]}
    assert compare_verdicts(cpu, [{"id": k, "holds": v} for k, v in cpu.items()])["same"]


def test_a_run_whose_verdict_differs_from_the_stored_one_is_reported_as_differing(tmp_path):
    notebook = gpu_check.smoke_notebook(tmp_path / "00_smoke_study.ipynb", stored_holds=False)
    assert stored_verdicts(notebook) == {"ones_sum_to_three": False, "left_unjudged": None}
    result = run_study(notebook, tmp_path / "run", "cpu", timeout=60)
    assert result["status"] == "ok" and result["same"] is False
    assert result["differing"] == [{"id": "ones_sum_to_three", "cpu": False, "device": True}]


def test_a_failing_study_is_recorded_with_its_error(tmp_path):
    path = gpu_check.smoke_notebook(tmp_path / "broken.ipynb")
    notebook = json.loads(path.read_text())
    notebook["cells"][1]["source"] = 'raise RuntimeError("the model diverged")'
    path.write_text(json.dumps(notebook))
    result = run_study(path, tmp_path / "run", "cpu", timeout=60)
    assert result["status"] == "failed" and result["error"].startswith("RuntimeError: the model diverged (In [")
    assert "same" not in result and "Traceback" in result["log_tail"]


def test_a_study_past_its_time_is_stopped_and_recorded(tmp_path):
    path = gpu_check.smoke_notebook(tmp_path / "slow.ipynb")
    notebook = json.loads(path.read_text())
    notebook["cells"][1]["source"] = "import time\ntime.sleep(600)"
    path.write_text(json.dumps(notebook))
    started = time.monotonic()
    result = run_study(path, tmp_path / "run", "cpu", timeout=6)
    assert result["status"] == "timed out" and "time budget" in result["error"]
    assert time.monotonic() - started < 30


def test_cuda_without_cuda_fails_at_once_saying_what_to_do(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(gpu_check.torch.cuda, "is_available", lambda: False)
    assert gpu_check.main([str(tmp_path / "out"), "--device", "cuda"]) == 2
    message = capsys.readouterr().err
    assert "no CUDA device" in message and "On a GPU" in message and "--device cpu --smoke" in message
    assert not (tmp_path / "out").exists()


def test_an_unknown_study_is_refused_before_any_work(tmp_path, capsys):
    assert gpu_check.main([str(tmp_path / "out"), "--device", "cpu", "--studies", "99"]) == 2
    assert "unknown study '99'" in capsys.readouterr().err and not (tmp_path / "out").exists()
