"""A study killed in the middle of its training, rerun by the same command, resumes from its checkpoints
and records what an uninterrupted run records: study 05 at a tiny size, its two latent sizes trained in
two processes side by side, through `python -m aelib run-study` (the workflow's job, which runs
aelib.pipeline.runs.run_notebook), on a copy of the checkout."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import torch

REPOSITORY = Path(__file__).resolve().parents[1]
# 2 latent sizes, one process each, 20,000 samples each: 200 steps cut into 20 segments of 1,000 (a checkpoint
# after each)
PARAMETERS = {"latent_sizes": [2, 3], "processes": 2, "threads": 2, "samples_per_latent_size": 20_000, "first_evaluation": 1_000,
              "evaluations_per_decade": 2, "train_bound_examples": 200, "checkpoint_every_samples": 1_000,
              "gaussian_epochs": 1, "modern_epochs": 1, "importance_samples": [1, 10], "iw_test_examples": 20,
              "manifold_grid": 3}
SEGMENTS = 20


def command(checkout: Path) -> list[str]:
    return [sys.executable, "-m", "aelib", "run-study", "05_vae", "--profile", "quick", "--seed", "0",
            "--parameters", json.dumps(PARAMETERS), "--stamp", str(checkout / "stamp.done")]


def recorded(record: Path) -> dict:
    """metrics.json without what varies between runs of the same computation: provenance and timings."""
    metrics = json.loads((record / "metrics.json").read_text())
    del metrics["provenance"]
    metrics["metrics"] = {k: v for k, v in metrics["metrics"].items() if "second" not in k}
    metrics["tables"] = {name: [{k: v for k, v in row.items() if k != "seconds"} for row in rows]
                         for name, rows in metrics["tables"].items()}
    return metrics


def kill_at_first_checkpoint(checkout: Path, checkpoints: Path) -> subprocess.Popen:
    """Start the command and kill it, its kernel included, as soon as its first checkpoint is written."""
    run = subprocess.Popen(command(checkout), cwd=checkout, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           env={**__import__("os").environ, "TQDM_DISABLE": "1"})
    deadline = time.monotonic() + 240
    while run.poll() is None and time.monotonic() < deadline:
        if list(checkpoints.glob("*/bernoulli_vaes_*.pt")):
            kernel = psutil.Process(run.pid).children(recursive=True)  # papermill's kernel and its workers
            run.kill()
            for process in kernel:
                process.kill()
            psutil.wait_procs(kernel, timeout=30)
            break
        time.sleep(0.005)
    run.wait(timeout=60)
    return run


@pytest.mark.slow
def test_a_killed_run_resumed_by_the_same_command_records_what_an_uninterrupted_one_records(tmp_path):
    checkout = tmp_path / "checkout"
    (checkout / "notebooks").mkdir(parents=True)
    shutil.copy(REPOSITORY / "pyproject.toml", checkout)
    for name in ("05_vae.ipynb", "05_vae.full.yaml"):  # the full profile: what the quick claims are judged against
        shutil.copy(REPOSITORY / "notebooks" / name, checkout / "notebooks")
    record = checkout / "results" / "quick" / "05_vae"
    checkpoints = record.with_name("05_vae.checkpoints")
    environment = {**__import__("os").environ, "TQDM_DISABLE": "1"}

    straight = subprocess.run(command(checkout), cwd=checkout, capture_output=True, text=True, timeout=300,
                              env=environment)
    assert straight.returncode == 0, straight.stderr[-3000:]
    uninterrupted = recorded(record)
    assert not checkpoints.exists()  # a recorded run leaves no checkpoints behind

    killed = kill_at_first_checkpoint(checkout, checkpoints)
    assert killed.returncode != 0  # it was killed, not finished
    assert recorded(record) == uninterrupted  # the record is untouched
    saved = [len(torch.load(path, weights_only=False)["history"]) for path in checkpoints.glob("*/bernoulli_vaes_*.pt")]
    assert saved and min(saved) >= 1 and max(saved) < SEGMENTS  # killed in the middle of the training

    resumed = subprocess.run(command(checkout), cwd=checkout, capture_output=True, text=True, timeout=300,
                             env=environment)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "resuming from the checkpoints in results/quick/05_vae.checkpoints/" in resumed.stdout
    assert recorded(record) == uninterrupted
    assert not checkpoints.exists()
    curve = uninterrupted["tables"]["test_bound_vs_samples_evaluated"]
    assert [row["samples"] for row in curve] == [1_000, 3_200, 10_000, 20_000]
