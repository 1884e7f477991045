import subprocess

import pytest
import torch

from aelib.pipeline.reproducibility import Provenance, git_state, resolve_device, seed_everything


def test_seeding_makes_torch_draws_repeat():
    seed_everything(5)
    first = torch.rand(4)
    seed_everything(5)
    assert torch.equal(torch.rand(4), first)
    assert torch.are_deterministic_algorithms_enabled()


@pytest.mark.parametrize("seed", [-1, 1.5, "3"])
def test_bad_seeds_are_refused(seed):
    with pytest.raises(ValueError, match="seed"):
        seed_everything(seed)


def test_devices():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type in ("cpu", "cuda")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA device"):
            resolve_device("cuda")
    with pytest.raises(ValueError, match="device must be"):
        resolve_device("meta")


def test_git_state_outside_a_repository_says_unknown(tmp_path):
    assert git_state(tmp_path) == {"git_commit": "unknown", "git_dirty": None}


def test_provenance_records_data_checksums_and_a_duration():
    provenance = Provenance(1, torch.device("cpu"), {"a.gz": "00ff"})
    provenance.add_data({"b.gz": "11ee"})
    record = provenance.record()
    assert record["data"] == {"a.gz": "00ff", "b.gz": "11ee"}
    assert record["duration_seconds"] >= 0 and record["threads"] >= 1
    assert record["device"].startswith("cpu")


def test_git_state_counts_code_changes_but_not_run_outputs(tmp_path):
    def git(*args):
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=tmp_path, check=True,
                       capture_output=True)
    for name in ("code.py", "results/metrics.json", "report/README.md"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("1")
    (tmp_path / "notebooks").mkdir()
    git("init", "-q")
    git("add", ".")
    git("commit", "-qm", "first")
    (tmp_path / "results/metrics.json").write_text("2")
    (tmp_path / "report/README.md").write_text("2")
    assert git_state(tmp_path / "notebooks")["git_dirty"] is False  # a run rewrote its outputs only
    (tmp_path / "code.py").write_text("2")
    assert git_state(tmp_path / "notebooks")["git_dirty"] is True
