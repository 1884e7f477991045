"""The notebooks' regression test compares what every machine computes alike, and still fails on a change.

nbval compares the stored output of each notebook's claims cell with a fresh run's, after masking every
number (tests/nbval_sanitize.cfg): a run on another CPU, instruction set or thread count passes, a
changed verdict or claim set fails. Shown here on a tiny notebook run by nbval itself, and on the
committed notebooks' stored claims.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SANITIZER = ROOT / "tests" / "nbval_sanitize.cfg"
CHECKED_CELL_MARKER = "# NBVAL_CHECK_OUTPUT"
VERDICT_LINE = re.compile(r"^\[(holds|DOES NOT HOLD|not evaluated)\] (\w+): ")


def sanitize(text: str) -> str:
    """The output as nbval compares it: every pattern of the sanitizer applied, in order."""
    for pattern, replacement in re.findall(r"^regex: (.*)$\n^replace: (.*)$", SANITIZER.read_text(), re.MULTILINE):
        text = re.sub(pattern, replacement, text)
    return text


def claims_output(notebook: Path) -> str:
    cell, = [c for c in json.loads(notebook.read_text())["cells"]
             if c["cell_type"] == "code" and CHECKED_CELL_MARKER in "".join(c["source"])]
    return "".join("".join(o.get("text", "")) for o in cell["outputs"] if o.get("name") == "stdout")


def claims_notebook(path: Path, stored: str) -> Path:
    """A notebook whose claims cell prints two verdicts with machine-dependent digits, stored as `stored`."""
    source = (f"{CHECKED_CELL_MARKER}\nimport random\nbound = -100 - random.random()\n"
              "print(f'[holds] bound_is_finite: test ELBO {bound:.2f} nats (tolerance: finite)')\n"
              "print(f'[DOES NOT HOLD] bound_above_minus_90: {bound:.1f} (tolerance: > -90)')\n")
    cell = {"cell_type": "code", "execution_count": 1, "id": "claims", "metadata": {}, "source": source,
            "outputs": [{"output_type": "stream", "name": "stdout", "text": stored}]}
    path.write_text(json.dumps({"cells": [cell], "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                                               "language": "python"}},
                                "nbformat": 4, "nbformat_minor": 5}))
    return path


def nbval(notebook: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax",
                           "--nbval-current-env", f"--nbval-sanitize-with={SANITIZER}", notebook.name],
                          cwd=notebook.parent, capture_output=True, text=True, timeout=300)


STORED = ("[holds] bound_is_finite: test ELBO -100.37 nats (tolerance: finite)\n"
          "[DOES NOT HOLD] bound_above_minus_90: -100.4 (tolerance: > -90)\n")


@pytest.mark.parametrize("stored, passes", [
    (STORED, True),  # other digits than this run's: the same verdicts
    (STORED.replace("[DOES NOT HOLD]", "[holds]"), False),  # a tampered verdict
    (STORED.splitlines(keepends=True)[0], False),  # a claim dropped
    (STORED.replace("bound_is_finite", "bound_is_real"), False),  # a claim renamed
])
def test_nbval_passes_other_digits_and_fails_a_changed_verdict(tmp_path, stored, passes):
    done = nbval(claims_notebook(tmp_path / "claims.ipynb", stored))
    assert (done.returncode == 0) == passes, done.stdout[-2000:]


NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[n.stem for n in NOTEBOOKS])
def test_each_stored_claim_keeps_its_verdict_and_id_through_the_sanitizer(notebook):
    printed = claims_output(notebook).splitlines()
    lines = [line for line in printed if not line.startswith("    why: ")]  # a diagnosis, below its verdict
    assert all(not printed[i].startswith("    why: ") or VERDICT_LINE.match(printed[i - 1]) for i in range(1, len(printed)))
    verdicts = [VERDICT_LINE.match(line) for line in lines]
    assert lines and all(verdicts), f"{notebook.name}: every line of its claims cell must be a verdict: {lines}"
    for line, verdict in zip(lines, verdicts):
        assert sanitize(line).startswith(verdict.group(0))  # what nbval compares keeps the verdict and the id
        flipped = line.replace(verdict.group(1), "holds" if verdict.group(1) != "holds" else "DOES NOT HOLD", 1)
        assert sanitize(flipped) != sanitize(line)
