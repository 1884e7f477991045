"""aelib.training.vae_sweep (the latent sizes of Kingma & Welling's figure 2 trained together) and
aelib.training.processes (calls side by side, one process each)."""

from __future__ import annotations

import os

import pytest
import torch

from aelib.training.processes import run_side_by_side
from aelib.training.vae_sweep import LatentSweep, merged_rows, sample_cost, split_by_cost, train_latent_sweep

IMAGES = torch.rand(300, 784, generator=torch.Generator().manual_seed(0))
BOUND_IMAGES = torch.bernoulli(IMAGES[:50], generator=torch.Generator().manual_seed(1))
TEST_IMAGES = torch.bernoulli(torch.rand(60, 784, generator=torch.Generator().manual_seed(2)))


def sweep(latent_sizes, checkpoint_every=300):
    return LatentSweep(latent_sizes=latent_sizes, samples=800, evaluation_samples=(200, 500, 800),
                       checkpoint_every=checkpoint_every, weight_prior=1 / 300, n_hidden=16, learning_rate=0.05)


def run(latent_sizes, **options):
    return train_latent_sweep(sweep(latent_sizes, **options), IMAGES, BOUND_IMAGES, TEST_IMAGES)


def test_each_latent_size_trains_as_it_would_beside_any_others():
    (together_rows, together), (alone_rows, alone) = run((2, 3, 7)), run((3,))
    for name, value in alone.items():  # the N_z = 3 model is the second of the three
        if name.startswith(("encoder_heads.0", "decoder_hidden.0")):
            stacked = together[name.replace(".0.", ".1.")]
        else:
            stacked = together[name][1:2]
        torch.testing.assert_close(stacked, value, atol=2e-5, rtol=1e-4, msg=name)
    assert [row["samples"] for row in together_rows] == [200, 300, 500, 600, 800]
    evaluated = [row for row in together_rows if "test_bound" in row]
    assert [row["samples"] for row in evaluated] == [200, 500, 800]
    for mine, its in zip(evaluated, [row for row in alone_rows if "test_bound" in row]):
        assert mine["test_bound"][1] == pytest.approx(its["test_bound"][0], abs=1e-3)
        assert mine["train_bound"][1] == pytest.approx(its["train_bound"][0], abs=1e-3)
    assert evaluated[-1]["test_bound"][1] > evaluated[0]["test_bound"][1]  # it trained
    assert not torch.allclose(together["decoder_output_weight"][0], together["decoder_output_weight"][2][:, :])


def test_where_the_checkpoints_cut_a_sweep_changes_nothing():
    (rows, state), (other_rows, other) = run((2, 3), checkpoint_every=100), run((2, 3), checkpoint_every=800)
    assert len(rows) == 8 and len(other_rows) == 3
    for name in state:
        assert torch.equal(state[name], other[name]), name
    assert [r["test_bound"] for r in rows if "test_bound" in r] == [r["test_bound"] for r in other_rows]


def test_sweep_settings_are_checked():
    with pytest.raises(ValueError, match="multiple of batch_size"):
        LatentSweep(latent_sizes=(2,), samples=850, evaluation_samples=(850,), checkpoint_every=100, weight_prior=0.0)
    with pytest.raises(ValueError, match="ending at samples"):
        LatentSweep(latent_sizes=(2,), samples=800, evaluation_samples=(200,), checkpoint_every=100, weight_prior=0.0)


def test_split_by_cost_balances_the_groups_and_keeps_the_order():
    groups = split_by_cost([2, 3, 5, 10, 20, 200], 2)
    assert sorted(j for g in groups for j in g) == [2, 3, 5, 10, 20, 200]
    assert all(list(g) == sorted(g) for g in groups)
    costs = [sum(sample_cost(j) for j in g) for g in groups]
    assert max(costs) / min(costs) < 1.15  # the best a 3-3 split of these costs allows
    assert split_by_cost([2, 3], 1) == [(2, 3)]
    assert sample_cost(200) > sample_cost(20) > sample_cost(2)
    with pytest.raises(ValueError):
        split_by_cost([2, 3], 3)


def test_merged_rows_key_each_model_by_its_latent_size():
    sweeps = [sweep((2, 7)), sweep((3,))]
    a = [{"samples": 100, "seconds": 1.0, "train_loss": [1.0, 2.0], "test_bound": [-5.0, -6.0]}]
    b = [{"samples": 100, "seconds": 3.0, "train_loss": [3.0], "test_bound": [-7.0]}]
    assert merged_rows([a, b], sweeps) == [{"samples": 100, "seconds": 3.0, "train_loss": {2: 1.0, 7: 2.0, 3: 3.0},
                                            "test_bound": {2: -5.0, 7: -6.0, 3: -7.0}}]


def test_calls_run_side_by_side_in_processes_of_their_own_and_one_call_runs_here():
    pids = run_side_by_side(os.getpid, [{}, {}])
    assert len(set(pids)) == 2 and os.getpid() not in pids
    assert run_side_by_side(os.getpid, [{}]) == [os.getpid()]
    tensors, numbers = run_side_by_side(dict, [{"a": torch.arange(3.0)}, {"b": 2}])  # by value, both ways
    assert torch.equal(tensors["a"], torch.arange(3.0)) and numbers == {"b": 2}
    with pytest.raises(TypeError):  # int(base=3) has no string to read: the error of a worker is raised here
        run_side_by_side(int, [{}, {"base": 3}])
