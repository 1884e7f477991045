"""A study's quick profile run on a device, its claims' verdicts compared with the CPU run's.

The CPU run's verdicts are the stored output of each committed notebook's claims cell (the
code cell marked `# NBVAL_CHECK_OUTPUT`), one line per claim, as `Claim.verdict` prints it:
    [holds] claim_id: ...    [DOES NOT HOLD] claim_id: ...    [not evaluated] claim_id: ...
A run on the device writes `metrics.json`, whose `claims` carry `id` and `holds`
(True, False or None). Each claim is the same, differs, or is missing from one side.

The notebook is run by papermill in its own process (kernel included), so that a run past its
time limit can be stopped; what it wrote stays in its run folder for inspection.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

CHECKED_CELL_MARKER = "# NBVAL_CHECK_OUTPUT"
VERDICT_LINE = re.compile(r"^\[(holds|DOES NOT HOLD|not evaluated)\] (\S+?):")
HOLDS = {"holds": True, "DOES NOT HOLD": False, "not evaluated": None}
ERROR_TAIL_CHARACTERS = 1500


def stored_verdicts(notebook: str | os.PathLike) -> dict[str, bool | None]:
    """claim id -> holds, read from the stored stdout of the notebook's claims cell."""
    notebook = Path(notebook)
    cells = [cell for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]
             if cell["cell_type"] == "code" and CHECKED_CELL_MARKER in "".join(cell["source"])]
    if len(cells) != 1:
        raise ValueError(f"{notebook} must have exactly one claims cell (marked {CHECKED_CELL_MARKER}), "
                         f"it has {len(cells)}")
    text = "".join("".join(output.get("text", "")) for output in cells[0].get("outputs", [])
                   if output.get("output_type") == "stream" and output.get("name") == "stdout")
    verdicts = {}
    for line in text.splitlines():
        match = VERDICT_LINE.match(line)
        if match:
            verdicts[match.group(2)] = HOLDS[match.group(1)]
    if not verdicts:
        raise ValueError(f"{notebook}: its claims cell has no stored verdict line; run `make notebooks`")
    return verdicts


def compare_verdicts(cpu: dict[str, bool | None], claims: list[dict]) -> dict:
    """The device run's `claims` (each with id and holds) against the CPU verdicts: whether every
    claim is the same, and each one that differs or is on one side only."""
    device = {claim["id"]: claim.get("holds") for claim in claims}
    differing = [{"id": claim_id, "cpu": cpu.get(claim_id, "missing"), "device": device.get(claim_id, "missing")}
                 for claim_id in [*cpu, *(i for i in device if i not in cpu)]
                 if claim_id not in cpu or claim_id not in device or cpu[claim_id] != device[claim_id]]
    return {"claims": len(device), "same": not differing, "differing": differing}


def run_study(notebook: str | os.PathLike, run_dir: str | os.PathLike, device: str, timeout: float) -> dict:
    """Run `notebook` in its quick profile with `device` into `run_dir`, at most `timeout` seconds,
    and compare its claims with the notebook's stored CPU verdicts. A failure is returned, not raised:
    status "ok" (with the comparison), "failed" or "timed out" (with a one-line error and the
    end of papermill's output)."""
    notebook, run_dir = Path(notebook), Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    result = {"study": notebook.stem, "status": "ok", "run_dir": str(run_dir)}
    started = time.perf_counter()
    try:
        cpu = stored_verdicts(notebook)
        parameters = {"device": device, "profile": "quick", "output_dir": str(run_dir.resolve())}
        executed = run_dir.resolve() / notebook.name
        command = [sys.executable, "-m", "papermill", str(notebook.resolve()), str(executed),
                   "-y", json.dumps(parameters), "-k", "python3", "--cwd", str(notebook.resolve().parent),
                   "--no-progress-bar", "--log-level", "WARNING"]
        status, log = _run(command, timeout, env={**os.environ, "TQDM_DISABLE": "1"})
        if status == "timed out":
            result.update(status=status, error=f"stopped after {timeout:.0f} s, when the time budget was spent",
                          log_tail=log[-ERROR_TAIL_CHARACTERS:])
        elif status == "failed":
            result.update(status=status, error=_cell_error(executed) or _last_line(log),
                          log_tail=log[-ERROR_TAIL_CHARACTERS:])
        else:
            metrics = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
            result.update(compare_verdicts(cpu, metrics["claims"]))
    except (OSError, ValueError, KeyError) as error:  # unreadable notebook or metrics.json
        result.update(status="failed", error=f"{type(error).__name__}: {error}")
    result["seconds"] = time.perf_counter() - started
    return result


def _cell_error(executed: Path) -> str | None:
    """The first error a cell of the executed notebook raised, as "Name: message (In [N])"."""
    try:
        cells = json.loads(executed.read_text(encoding="utf-8"))["cells"]
    except (OSError, ValueError, KeyError):
        return None
    for cell in cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                return f"{output.get('ename')}: {output.get('evalue')} (In [{cell.get('execution_count')}])"
    return None


def _last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1].strip() if lines else "no output"


def _run(command: list[str], timeout: float, env: dict) -> tuple[str, str]:
    """Run `command` in its own process group: ("ok", "failed" or "timed out", its output).
    Past `timeout` seconds papermill is interrupted (it then shuts its kernel down, and a kernel
    whose parent is gone stops by itself), and killed with its group 10 s later."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env=env, start_new_session=True)
    try:
        output, _ = process.communicate(timeout=max(timeout, 1.0))
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGINT)
        try:
            output, _ = process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            output, _ = process.communicate()
        return "timed out", output
    return ("ok" if process.returncode == 0 else "failed"), output
