"""Study 07's run: every method trained and measured by one code, on a tiny problem."""

import math

import pytest
import torch

from aelib.training.regularizer_comparison import (
    ComparisonBudget,
    ComparisonData,
    methods_from_grids,
    train_and_measure,
)

KEYS = {"reconstruction_error", "hoyer_sparsity", "saturated_fraction", "jacobian_norm", "random_sensitivity",
        "worst_case_sensitivity", "validation_probe_accuracy", "probe_accuracy", "train_seconds", "final_train_loss"}


def tiny_digits():
    generator = torch.Generator().manual_seed(0)
    images = torch.rand(120, 784, generator=generator)
    labels = torch.arange(120) % 3
    return ComparisonData(images[:60], labels[:60], images[60:90], labels[60:90], images[90:], labels[90:], images[90:100])


BUDGET = ComparisonBudget(epochs=1, batch_size=20, learning_rate=1e-3, kl_target=0.05, probe_train_size=60,
                          perturbation_norm=1.0, attack_steps=2)


def test_methods_take_their_architecture_and_weight_names():
    methods = {m.name: m for m in methods_from_grids({"plain AE": [0.0], "contractive": [0.1], "VAE": [0.0],
                                                      "saturating": [0.1]}, n_hidden=8)}
    assert methods["contractive"].sigmoid_penalty and not methods["plain AE"].sigmoid_penalty
    assert not methods["saturating"].sigmoid_penalty
    assert methods["contractive"].setting(0.1) == "lambda=0.1" and methods["VAE"].setting(0.0) == "-"


@pytest.mark.parametrize("name, weight", [("contractive", 0.1), ("rank-ordered", 0.0), ("VAE", 0.0)])
def test_every_method_is_measured_alike_and_reproducibly(name, weight):
    method = methods_from_grids({name: [weight]}, n_hidden=8)[0]
    first = train_and_measure(method, weight, 3, tiny_digits(), BUDGET)
    again = train_and_measure(method, weight, 3, tiny_digits(), BUDGET)
    assert KEYS <= set(first) and first["method"] == name and first["seed"] == 3
    assert all(math.isfinite(first[key]) for key in KEYS)
    assert {k: v for k, v in first.items() if k != "train_seconds"} == \
        {k: v for k, v in again.items() if k != "train_seconds"}
    other_seed = train_and_measure(method, weight, 4, tiny_digits(), BUDGET)
    assert other_seed["reconstruction_error"] != first["reconstruction_error"]
