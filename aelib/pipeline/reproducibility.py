"""Seeding, determinism and the provenance record that every result carries."""

from __future__ import annotations

import datetime
import os
import platform
import random
import subprocess
import time
from importlib import metadata
from pathlib import Path

import numpy as np
import torch

# The packages whose versions can change a number in results/.
RECORDED_PACKAGES = ("aelib", "torch", "numpy", "scipy", "scikit-learn", "scikit-image",
                     "pandas", "matplotlib", "mlxtend", "papermill")


def seed_everything(seed: int, deterministic: bool = True) -> None:
    """Seed Python, NumPy and PyTorch (CPU and CUDA) and ask for deterministic kernels.

    The thread count is not changed here (it changes float results, so
    `provenance` records it); set it with `torch.set_num_threads` before calling.
    """
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
    if deterministic:
        # Needed by cuBLAS for deterministic matrix products; harmless on CPU.
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True)
        torch.backends.cudnn.benchmark = False


def default_device() -> torch.device:
    """CUDA when present, the CPU otherwise."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def resolve_device(name: str) -> torch.device:
    """'auto' picks CUDA when present; 'cpu' and 'cuda[:N]' are taken as asked."""
    if name == "auto":
        return default_device()
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} was asked for, but no CUDA device is available; "
                         "use device='cpu' or 'auto'")
    if device.type not in ("cpu", "cuda"):
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda[:N]', got {name!r}")
    return device


def git_state(directory: str | os.PathLike = ".") -> dict:
    """The commit checked out at `directory` and whether tracked files differ from it.
    Run outputs (results/, report/) do not count: a run rewrites them, the code is what matters."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=directory, capture_output=True,
                              text=True, check=True, timeout=30).stdout.strip()
    try:
        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no", "--", ":(top)",
                         ":(top,exclude)results", ":(top,exclude)report"))
    except (OSError, subprocess.SubprocessError):
        return {"git_commit": "unknown", "git_dirty": None}
    return {"git_commit": commit, "git_dirty": dirty}


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in RECORDED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def describe_device(device: torch.device) -> str:
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return f"cpu ({platform.processor() or platform.machine()})"


class Provenance:
    """Collects what produced a result: started at construction, closed by `record()`.

    The record holds the git commit and dirty flag, package versions, device,
    thread count, platform, data checksums, seed, start time and duration.
    """

    def __init__(self, seed: int, device: torch.device, data_files: dict[str, str] | None = None):
        self.seed = seed
        self.device = device
        self.data_files = dict(data_files or {})
        self.started = datetime.datetime.now(datetime.timezone.utc)
        self._clock = time.monotonic()

    def add_data(self, files: dict[str, str]) -> None:
        """Record the checksums of data files that were read."""
        self.data_files.update(files)

    def record(self) -> dict:
        return {
            **git_state(Path(__file__).resolve().parent),
            "versions": package_versions(),
            "device": describe_device(self.device),
            "threads": torch.get_num_threads(),
            "platform": platform.platform(),
            "data": self.data_files,
            "seed": self.seed,
            "started": self.started.isoformat(timespec="seconds"),
            "duration_seconds": round(time.monotonic() - self._clock, 1),
        }

