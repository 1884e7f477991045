"""The studies as a Snakemake workflow (workflow/Snakefile): one job per (study, profile, seed),
then the report. `python -m aelib reproduce` writes the workflow's configuration and runs it.

- Incremental: a job's inputs are its notebook, the aelib modules the notebook imports (directly
  or through other aelib modules), its profile's YAML; its parameters and the data folder are
  the job's params. Snakemake reruns a job when one of them changed, and only then.
- Keep going: each job runs its notebook into a staging folder and swaps it into the record only
  when it finishes (aelib.pipeline.cli.run_notebook), so a failed job leaves the record as it was.
  The job's output is a stamp under .aelib/workflow/, never the record itself (Snakemake deletes
  the outputs of a failed job); a failed job writes the reason beside its stamp instead.
- Seeds: the notebook's default seed writes the usual folder (results/<study>/, or
  results/quick/<study>/); seed n writes results/<study>.seed-n/ beside it.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from aelib.pipeline.results import study_dir
from aelib.pipeline.study import parameter_names

STATE = Path(".aelib")


def seed_record_dir(study: str, profile: str, seed: int, default_seed: int, root: Path) -> Path:
    """Where a run of `study` at `seed` is recorded: the study's folder for its default seed,
    a sibling `<study>.seed-<seed>` for any other."""
    folder = study_dir(study, profile, root)
    return folder if seed == default_seed else folder.with_name(f"{folder.name}.seed-{seed}")


def stamp_path(profile: str, study: str, seed: int) -> Path:
    """The job's output (relative to the checkout): written once the record is in place."""
    return STATE / "workflow" / profile / study / f"seed-{seed}.done"


def failure_path(stamp: Path) -> Path:
    return stamp.with_suffix(".failed")


def log_path(profile: str, study: str, seed: int) -> Path:
    return STATE / "logs" / profile / study / f"seed-{seed}.log"


def default_seed(notebook: Path) -> int:
    """The `seed = N` of the notebook's parameters cell."""
    cells = json.loads(Path(notebook).read_text(encoding="utf-8"))["cells"]
    source = next("".join(c["source"]) for c in cells if "parameters" in c.get("metadata", {}).get("tags", []))
    for statement in ast.parse(source).body:
        if isinstance(statement, ast.Assign) and any(getattr(t, "id", None) == "seed" for t in statement.targets):
            return ast.literal_eval(statement.value)
    raise ValueError(f"{notebook}: its parameters cell sets no seed")


def _aelib_imports(source: str, module: str = "") -> set[str]:
    """The aelib modules that Python source imports (as dotted names)."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            base = node.module
            if node.level:
                base = module.rsplit(".", node.level)[0] + "." + base
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return {name for name in found if name == "aelib" or name.startswith("aelib.")}


def library_inputs(notebook: Path, root: Path) -> list[Path]:
    """The files of the aelib modules that the notebook's code imports, directly or through other
    aelib modules (packages count with their __init__.py)."""
    cells = json.loads(Path(notebook).read_text(encoding="utf-8"))["cells"]
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    lines = [line for line in code.splitlines() if not line.lstrip().startswith(("%", "!"))]
    pending, files = set(_aelib_imports("\n".join(lines))), {}
    while pending:
        name = pending.pop()
        parts = name.split(".")
        for candidate in (root.joinpath(*parts).with_suffix(".py"), root.joinpath(*parts, "__init__.py")):
            if candidate.is_file() and name not in files:
                files[name] = candidate
                pending |= _aelib_imports(candidate.read_text(encoding="utf-8"), name) - set(files)
        for depth in range(1, len(parts)):  # importing aelib.pipeline.study runs the packages' __init__.py
            package = root.joinpath(*parts[:depth], "__init__.py")
            if package.is_file():
                files.setdefault(".".join(parts[:depth]), package)
    return sorted(files.values())


@dataclass
class Job:
    """One (study, seed) of a workflow run, and how it ended."""
    study: str
    seed: int
    stamp: Path
    failure: dict | None = None


def write_config(path: Path, *, studies: list[str], profile: str, seeds: list[int] | None,
                 parameters: dict[str, dict], threads_per_job: int, root: Path) -> dict:
    """The workflow's configuration (what the Snakefile reads), written to `path`. With no seeds
    given, each study runs at its notebook's default seed."""
    notebooks = {study: root / "notebooks" / f"{study}.ipynb" for study in studies}
    config = {"profile": profile, "studies": studies, "threads_per_job": threads_per_job,
              "seeds": {study: seeds or [default_seed(notebooks[study])] for study in studies},
              "default_seeds": {study: default_seed(notebooks[study]) for study in studies},
              "parameters": parameters, "has_threads": {study: "threads" in parameter_names(notebooks[study])
                                                        for study in studies},
              "data_dir": os.environ.get("AELIB_DATA_DIR", "")}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(config, indent=1, sort_keys=True))
    return config


def run_snakemake(config_path: Path, root: Path, *, cores: int, dry_run: bool, force: bool,
                  executor: str | None, workflow_profile: str | None, targets: list[str] | None = None) -> int:
    """Run the workflow (keep going past failed jobs); returns Snakemake's exit status."""
    command = [sys.executable, "-m", "snakemake", *(targets or []), "--snakefile", str(root / "workflow" / "Snakefile"),
               "--directory", str(root), "--configfile", str(config_path), "--cores", str(cores),
               "--keep-going", "--rerun-triggers", "mtime", "params", "input"]
    if dry_run:
        command.append("--dry-run")
    if force:
        command += ["--forcerun", "study"]
    if executor:
        command += ["--executor", executor]
    if workflow_profile:
        command += ["--profile", workflow_profile]
    return subprocess.run(command, cwd=root).returncode


def outcomes(config: dict, root: Path) -> list[Job]:
    """Every job of the configuration with its failure (reason and log), if it failed."""
    jobs = []
    for study in config["studies"]:
        for seed in config["seeds"][study]:
            stamp = root / stamp_path(config["profile"], study, seed)
            failed = failure_path(stamp)
            failure = json.loads(failed.read_text()) if failed.exists() and not stamp.exists() else None
            if failure is None and not stamp.exists():
                failure = {"reason": "did not run (Snakemake stopped before it)",
                           "log": str(log_path(config["profile"], study, seed))}
            jobs.append(Job(study, seed, stamp, failure))
    return jobs


def failure_reason(error: BaseException) -> str:
    """One line: what went wrong, and for missing data how to get it."""
    name = getattr(error, "ename", type(error).__name__)
    text = str(getattr(error, "evalue", error)).strip()
    first = text.splitlines()[0] if text else "no message"
    if ": missing " in first:  # DataNotFoundError lists every missing file: count them instead
        head, missing = first.split(": missing ", 1)
        files = [f for f in missing.rstrip(".").split("; ") if f]
        first = f"{head}: {len(files)} file(s) missing, e.g. {files[0]}" if files else first
    reason = f"{name}: {first if len(first) <= 200 else first[:197] + '...'}"
    if "python -m aelib data fetch" in text:
        dataset = text.split("python -m aelib data fetch", 1)[1].split("`")[0].strip()
        reason += f" (set AELIB_DATA_DIR to a folder holding it, or run: python -m aelib data fetch {dataset})"
    return reason
