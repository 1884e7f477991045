"""One study's run: its notebook executed by papermill into a staging folder that replaces the record only when the run finishes, with its checkpoints kept beside the record so that the same command resumes it; and the workflow's job around it (python -m aelib run-study)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import time
from pathlib import Path

from aelib.pipeline.arguments import studies
from aelib.pipeline.notebooks import strip_run_metadata
from aelib.pipeline.results import project_root, write_json_atomic


def checkpoint_folder(study: str, profile: str, parameters: dict, final: Path, root: Path) -> Path:
    """Where a run of `study` recorded in `final` keeps its training checkpoints: beside the record,
    in <final>.checkpoints/<digest>, so that the same command run again finds them and resumes. The
    digest covers the profile, the parameters, the code cells of the notebook and the aelib modules
    it imports: a run with other parameters or other code starts afresh, in a folder of its own."""
    from aelib.pipeline.workflow import library_inputs

    notebook = studies(root)[study]
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    digest = hashlib.sha256(json.dumps({"profile": profile, "parameters": parameters}, sort_keys=True,
                                       default=str).encode())
    digest.update("\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code").encode())
    for module in library_inputs(notebook, root):
        digest.update(module.read_bytes())
    return final.with_name(final.name + ".checkpoints") / digest.hexdigest()[:16]


def run_notebook(study: str, profile: str, parameters: dict, final: Path, root: Path) -> None:
    """Execute one study's notebook into a staging folder beside `final`, and swap it into place
    only when it finishes: an interrupted or failed run leaves the record as it was.

    A notebook that declares a `checkpoint_dir` parameter is given `checkpoint_folder(...)`, outside
    the staging folder (which every run starts empty): its training saves checkpoints there, and the
    same command run again after an interruption resumes from them. They are deleted once the run is
    recorded."""
    import papermill

    from aelib.pipeline.study import parameter_names

    notebook = studies(root)[study]
    staging = final.with_name(final.name + ".running")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    injected = {**parameters, "profile": profile, "output_dir": str(staging)}
    checkpoints = None
    if "checkpoint_dir" in parameter_names(notebook):
        checkpoints = checkpoint_folder(study, profile, parameters, final, root)
        injected["checkpoint_dir"] = str(checkpoints)
    print(f"== {study} ({profile} profile) -> {final.relative_to(root)}", flush=True)
    if checkpoints is not None and checkpoints.exists() and any(checkpoints.iterdir()):
        print(f"   resuming from the checkpoints in {checkpoints.relative_to(root)}", flush=True)
    started = time.monotonic()
    try:
        papermill.execute_notebook(str(notebook), str(staging / f"{study}.ipynb"), cwd=str(notebook.parent),
                                   parameters=injected, kernel_name="python3", progress_bar=False)
    except BaseException:
        resume = (f"; rerun the same command to resume from its checkpoints in {checkpoints}"
                  if checkpoints is not None and checkpoints.exists() else "")
        print(f"   {study} failed; its partial output is in {staging}; {final} is unchanged{resume}", file=sys.stderr)
        raise
    executed = staging / f"{study}.ipynb"
    if executed.exists():
        strip_run_metadata(executed)
    replace_folder(staging, final)
    if checkpoints is not None:
        shutil.rmtree(checkpoints.parent, ignore_errors=True)  # the record is in place: no run resumes these
    print(f"   done in {time.monotonic() - started:.0f} s", flush=True)


def run_study(study: str, profile: str, seed: int, threads: int, parameters: dict, stamp: Path) -> int:
    """One workflow job (called by workflow/Snakefile): the notebook at `seed`, recorded in the
    seed's folder; writes `stamp` when done, or the reason beside it when it fails."""
    from aelib.pipeline import workflow

    root = project_root()
    notebook = studies(root)[study]
    parameters = {**parameters, "seed": seed}
    if "threads" in workflow.parameter_names(notebook) and "threads" not in parameters:
        parameters["threads"] = threads
    os.environ.update({name: str(threads) for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")})
    final = workflow.seed_record_dir(study, profile, seed, workflow.default_seed(notebook), root)
    failure = workflow.failure_path(stamp)
    failure.unlink(missing_ok=True)
    try:
        run_notebook(study, profile, parameters, final, root)
    except Exception as error:
        log = workflow.log_path(profile, study, seed)
        write_json_atomic(failure, {"reason": workflow.failure_reason(error), "log": str(log)})
        print(workflow.failure_reason(error), file=sys.stderr)
        return 1
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.touch()
    return 0


def replace_folder(new: Path, final: Path) -> None:
    """Swap a finished run into place; the old record is removed only after."""
    old = final.with_name(final.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        os.replace(final, old)
    os.replace(new, final)
    shutil.rmtree(old, ignore_errors=True)
