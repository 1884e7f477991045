"""Results of the authors' own code, the outside yardsticks of the replications: where a user
gets each one, how it is found beside the data, and how it is loaded safely.

A reference file is looked for under `reference/` in the data folders (`aelib.data.datasets.search_dirs`:
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

from aelib.data.datasets import ChecksumError, search_dirs


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


# The filters of the Theano DAE tutorial's dA.py (784-500 tied sigmoid, cross-entropy, SGD 0.1, batch 20,
# 15 epochs on the first 50,000 MNIST training digits in their stored order), as the tutorial's own figures:
# by masking fraction. The figures were made by the dA.py of commit d71dce9 (February 2010), whose initial
# weights are uniform in +-sqrt(6 / (784 + 500)) = +-0.0684 (aelib.models.autoencoders.glorot_init_bound);
# every later dA.py draws from a range four times wider, but the figures (the same files at commit 11c4651,
# from which these copies come) were never remade.
TUTORIAL_UNITS_SHOWN = 100  # the figures show the filters of hidden units 0-99, as a 10 x 10 grid
TUTORIAL_DAE_FILTERS = {
    0.0: Reference("reference/theano-dae-tutorial/filters_corruption_0.png",
                   "1b3bdb676f862469a8c45e51c69566688b4d1eb5af6950ca210cd35ed8a1a87c",
                   "The Theano DAE tutorial's filters at 0% corruption: file filters_corruption_0.png of the "
                   "public GitHub repository lisa-lab/DeepLearningTutorials (commit 11c4651, BSD-3-Clause), made by "
                   "its dA.py of commit d71dce9 (2010, initial weights in +-sqrt(6 / (n_visible + n_hidden)))"),
    0.3: Reference("reference/theano-dae-tutorial/filters_corruption_30.png",
                   "2923d8842ccad97f8832a04091462a42e87ac1526eca1c6b05b9ee8fb0660484",
                   "The Theano DAE tutorial's filters at 30% corruption: file filters_corruption_30.png of the "
                   "public GitHub repository lisa-lab/DeepLearningTutorials (commit 11c4651, BSD-3-Clause), made by "
                   "its dA.py of commit d71dce9 (2010, initial weights in +-sqrt(6 / (n_visible + n_hidden)))"),
}


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


def load_tile_grid(path: str | os.PathLike, reference: Reference, tile: tuple[int, int] = (28, 28),
                   grid: tuple[int, int] = (10, 10), gap: int = 1) -> torch.Tensor:
    """Filters drawn as a grid of tiles (the tutorials' tile_raster_images: each tile scaled to its
    own range, `gap` pixels between tiles) read back as rows [n_tiles, tile pixels], values in [0, 1].
    Each tile is its filter up to a positive scale and an offset, which is all that filter
    locality (aelib.measures.locality.filter_locality) is blind to."""
    from matplotlib.image import imread

    image = imread(io.BytesIO(verified_bytes(Path(path), reference)), format="png")
    image = image[..., 0] if image.ndim == 3 else image
    rows, columns = grid
    height, width = tile
    expected = (rows * (height + gap) - gap, columns * (width + gap) - gap)
    if image.shape != expected:
        raise ValueError(f"{path}: a {rows} x {columns} grid of {height} x {width} tiles is {expected[0]} x "
                         f"{expected[1]} pixels, this image is {image.shape[0]} x {image.shape[1]}")
    tiles = [image[r * (height + gap):r * (height + gap) + height, c * (width + gap):c * (width + gap) + width]
             for r in range(rows) for c in range(columns)]
    return torch.from_numpy(np.stack(tiles).reshape(len(tiles), -1).astype(np.float32))
