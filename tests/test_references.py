"""aelib.data.references: checksum first, a numpy-only unpickler, and the author's layout converted to ours."""

from __future__ import annotations

import io
import os
import pickle

import numpy as np
import pytest

from aelib.data.datasets import ChecksumError
from aelib.data.references import (
    RANK_ORDERED_NETWORK,
    NumpyOnlyUnpickler,
    find_reference,
    load_rank_ordered_network,
    where_to_get,
)


class RunsCode:
    def __reduce__(self):
        return (os.system, ("echo this must never run",))


def test_the_unpickler_admits_arrays_and_refuses_any_other_global():
    arrays = pickle.dumps([np.arange(6, dtype=np.float32).reshape(2, 3), np.float64(2.5), (1, "a")])
    loaded = NumpyOnlyUnpickler(io.BytesIO(arrays)).load()
    assert loaded[0].shape == (2, 3) and loaded[1] == 2.5
    with pytest.raises(pickle.UnpicklingError, match="refusing to load posix.system|refusing to load os.system"):
        NumpyOnlyUnpickler(io.BytesIO(pickle.dumps(RunsCode()))).load()


def test_a_tampered_file_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "network_state.pkl"
    path.write_bytes(pickle.dumps(RunsCode()))
    with pytest.raises(ChecksumError, match="nothing was read from it"):
        load_rank_ordered_network(path)


def test_a_reference_is_found_in_the_data_folder_given_first_and_a_missing_one_says_where_to_get_it(tmp_path):
    placed = tmp_path / RANK_ORDERED_NETWORK.path
    placed.parent.mkdir(parents=True)
    placed.write_bytes(b"")
    assert find_reference(RANK_ORDERED_NETWORK, tmp_path) == placed
    assert "paulbertens/rank-ordered-autoencoder" in where_to_get(RANK_ORDERED_NETWORK)


def test_the_authors_network_is_converted_to_our_patch_layout():
    path = find_reference(RANK_ORDERED_NETWORK)
    if path is None:
        pytest.skip(where_to_get(RANK_ORDERED_NETWORK))
    state = load_rank_ordered_network(path)
    raw = pickle.load(open(path, "rb"), encoding="latin1")[0]  # the checksum above vouches for the file
    weight = state["weight"].numpy()
    assert weight.shape == (169, 147) and state["epoch"] == 86
    for unit, row, column, channel in [(0, 0, 0, 0), (5, 3, 6, 2), (168, 6, 1, 1)]:
        ours = weight[unit, channel * 49 + row * 7 + column]
        assert ours == raw[(row * 7 + column) * 3 + channel, unit]


def test_a_tile_grid_is_read_back_tile_by_tile(tmp_path):
    import hashlib

    import matplotlib.image
    import torch

    from aelib.data.references import Reference, load_tile_grid

    tiles = torch.rand(6, 4, 5, generator=torch.Generator().manual_seed(0))
    image = torch.zeros(2 * 5 - 1, 3 * 6 - 1)
    for index, tile in enumerate(tiles):
        row, column = divmod(index, 3)
        image[row * 5:row * 5 + 4, column * 6:column * 6 + 5] = tile
    path = tmp_path / "grid.png"
    matplotlib.image.imsave(path, image.numpy(), cmap="gray", vmin=0, vmax=1)
    reference = Reference("grid.png", hashlib.sha256(path.read_bytes()).hexdigest(), "a test grid")
    read = load_tile_grid(path, reference, tile=(4, 5), grid=(2, 3))
    assert read.shape == (6, 20)
    assert torch.allclose(read, tiles.reshape(6, 20), atol=2 / 255)  # 8 bits through a 256-entry colour map
    with pytest.raises(ValueError, match="a 3 x 3 grid"):
        load_tile_grid(path, reference, tile=(4, 5), grid=(3, 3))


def test_the_tutorial_filters_have_the_locality_measured_in_the_issue():
    from aelib.data.references import TUTORIAL_DAE_FILTERS, load_tile_grid
    from aelib.measures.locality import filter_locality

    for level, expected in ((0.0, 0.19), (0.3, 0.58)):
        path = find_reference(TUTORIAL_DAE_FILTERS[level])
        if path is None:
            pytest.skip(where_to_get(TUTORIAL_DAE_FILTERS[level]))
        locality = filter_locality(load_tile_grid(path, TUTORIAL_DAE_FILTERS[level]), (28, 28))
        assert locality.median().item() == pytest.approx(expected, abs=0.01)
