"""Results of the authors' own code, the outside yardsticks of the replications: where a user
gets each one, how it is found beside the data, and how it is loaded safely.

A reference file is looked for under `reference/` in the data folders (`aelib.data.search_dirs`:
the `data_dir` given, $AELIB_DATA_DIR, the cache). Its sha256 is checked before anything reads
it; a pickle is then read by an unpickler that admits numpy arrays, dtypes and scalars and
nothing else, so a tampered file cannot run code.
"""

from __future__ import annotations

import hashlib
import importlib
import io
import os
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from aelib.data import ChecksumError, search_dirs


@dataclass(frozen=True)
class Reference:
    """One file of an author's results: where it lies under a data folder, its checksum, its origin."""
    path: str
    sha256: str
    origin: str


RANK_ORDERED_NETWORK = Reference(
    "reference/rank-ordered-autoencoder/network_state.pkl",
    "bfa36e1e7ae702e286737628f4011c96fbd16955e50807caf28f03136e475854",
    "P. Bertens' trained network: file network_state.pkl of the public GitHub repository "
    "paulbertens/rank-ordered-autoencoder (commit 78cffc5, GPL-3.0)")


def find_reference(reference: Reference, data_dir: str | os.PathLike | None = None) -> Path | None:
    """The reference file in the first data folder that has it, or None."""
    for folder in search_dirs(data_dir):
        if (folder / reference.path).is_file():
            return folder / reference.path
    return None


def where_to_get(reference: Reference) -> str:
    """One sentence for a user who does not have the file."""
    return (f"{reference.origin} was not found under {reference.path} in the data folders; put it there "
            "(set AELIB_DATA_DIR or pass data_dir) to compare with the author's own results.")


def verified_bytes(path: Path, reference: Reference) -> bytes:
    """The file's bytes once its sha256 matches the reference's; a ChecksumError otherwise."""
    data = Path(path).read_bytes()
    actual = hashlib.sha256(data).hexdigest()
    if actual != reference.sha256:
        raise ChecksumError(f"{path}: sha256 {actual} is not the published {reference.sha256}: the file is "
                            "corrupted or not the author's; nothing was read from it. Get it again "
                            f"({reference.origin}).")
    return data


def _numpy_global(module: str, name: str):
    if module.startswith("numpy.core"):  # the name in pickles written by numpy 1.x
        module = module.replace("numpy.core", "numpy._core" if hasattr(np, "_core") else "numpy.core", 1)
    return getattr(importlib.import_module(module), name)


class NumpyOnlyUnpickler(pickle.Unpickler):
    """Admits numpy arrays, dtypes and scalars (and pickle's own lists, tuples, numbers and
    strings); any other global is refused, so unpickling cannot run other code."""
    ALLOWED = {("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "_reconstruct"),
               ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "_reconstruct"),
               ("numpy._core.multiarray", "scalar")}

    def find_class(self, module: str, name: str):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}: only numpy arrays, dtypes and "
                                         "scalars are admitted")
        return _numpy_global(module, name)


def load_rank_ordered_network(path: str | os.PathLike, patch_size: int = 7, channels: int = 3) -> dict:
    """The author's trained network: `weight` as this project's [n_hidden, n_visible] tensor in
    its patch layout (channel planes in turn, CHW), converted from his [n_visible, n_hidden]
    columns in channels-last order (index (row * size + column) * channels + channel); `epoch`
    (zero-based) and his per-epoch `train_error` and `train_top_k_error` (his training patches,
    his metric ||x - S_k||)."""
    state = NumpyOnlyUnpickler(io.BytesIO(verified_bytes(Path(path), RANK_ORDERED_NETWORK)),
                               encoding="latin1").load()
    if not isinstance(state, (list, tuple)) or len(state) != 12 or not isinstance(state[0], np.ndarray):
        raise ValueError(f"{path}: not the author's network state (expected a list of 12 items, weights first)")
    weights = np.asarray(state[0], dtype=np.float32)  # [V, H], rows channels last
    n_visible = channels * patch_size * patch_size
    if weights.shape[0] != n_visible:
        raise ValueError(f"{path}: weights have {weights.shape[0]} rows, not {n_visible} = {channels} x "
                         f"{patch_size} x {patch_size}")
    hwc = weights.T.reshape(-1, patch_size, patch_size, channels)
    return {"weight": torch.from_numpy(np.ascontiguousarray(hwc.transpose(0, 3, 1, 2).reshape(len(hwc), -1))),
            "epoch": int(state[1]), "train_error": [float(e) for e in state[2]],
            "train_top_k_error": [np.asarray(v, dtype=np.float64) for v in state[3]]}
