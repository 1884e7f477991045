"""aelib.references: checksum first, a numpy-only unpickler, and the author's layout converted to ours."""

from __future__ import annotations

import io
import os
import pickle

import numpy as np
import pytest

from aelib.data import ChecksumError
from aelib.references import (
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
