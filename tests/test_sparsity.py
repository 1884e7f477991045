"""Tests for aelib.penalties.sparsity and aelib.training.sparse_autoencoder: penalties against two-line
references, the hand-written CS294A gradient against finite differences and autograd."""

from __future__ import annotations

import math

import pytest
import torch

from aelib.penalties.regularizers import weight_decay
from aelib.penalties.sparsity import kl_sparsity, l1_activity, mean_activation
from aelib.training.sparse_autoencoder import (
    autograd_gradient,
    cs294a_gradient,
    cs294a_objective,
    flatten,
    l1_objective,
    minimise_lbfgs,
    numerical_gradient,
    relative_difference,
    sparse_autoencoder,
)


def test_kl_sparsity_matches_a_two_line_reference():
    h = torch.tensor([[0.1, 0.5, 0.9], [0.3, 0.5, 0.7]], dtype=torch.float64)
    rho = 0.2
    rho_hat = [0.2, 0.5, 0.8]
    expected = sum(rho * math.log(rho / r) + (1 - rho) * math.log((1 - rho) / (1 - r)) for r in rho_hat)
    assert kl_sparsity(h, rho).item() == pytest.approx(expected, rel=1e-12)
    assert kl_sparsity(torch.full((4, 3), 0.2, dtype=torch.float64), rho).item() == pytest.approx(0.0, abs=1e-15)
    assert mean_activation(h).tolist() == pytest.approx(rho_hat)


def test_kl_sparsity_rejects_a_target_outside_0_1():
    with pytest.raises(ValueError, match="rho"):
        kl_sparsity(torch.rand(3, 2), 1.0)


def test_l1_activity_and_weight_decay_match_references():
    h = torch.tensor([[0.5, -1.0], [2.0, 0.0], [0.0, -0.5]])
    assert l1_activity(h).item() == pytest.approx((1.5 + 2.0 + 0.5) / 3)
    w1, w2 = torch.tensor([[1.0, 2.0]]), torch.tensor([[3.0], [-1.0]])
    assert weight_decay([w1, w2], 0.1).item() == pytest.approx(0.05 * (1 + 4 + 9 + 1))


def test_weight_decay_leaves_the_biases_out_of_the_objective():
    model = sparse_autoencoder(4, 3, torch.Generator().manual_seed(0))
    x = torch.rand(5, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    before = cs294a_objective(model, x, rho=0.1, lam=1.0, beta=0.0) - cs294a_objective(model, x, rho=0.1, lam=0.0, beta=0.0)
    with torch.no_grad():
        model.hidden_bias.add_(5.0)
        model.visible_bias.add_(5.0)
    after = cs294a_objective(model, x, rho=0.1, lam=1.0, beta=0.0) - cs294a_objective(model, x, rho=0.1, lam=0.0, beta=0.0)
    assert after.item() == pytest.approx(before.item(), rel=1e-12)
    assert before.item() == pytest.approx(0.5 * (model.weight.pow(2).sum() + model.decoder_weight.pow(2).sum()).item())


def tiny_problem(seed=0):
    generator = torch.Generator().manual_seed(seed)
    model = sparse_autoencoder(6, 4, generator)
    with torch.no_grad():  # non-zero biases, so their gradients are exercised too
        model.hidden_bias.copy_(torch.randn(4, generator=generator, dtype=torch.float64) * 0.3)
        model.visible_bias.copy_(torch.randn(6, generator=generator, dtype=torch.float64) * 0.3)
    x = torch.rand(10, 6, dtype=torch.float64, generator=generator)
    return model, x


@pytest.mark.parametrize("beta", [0.0, 3.0])
def test_hand_gradient_agrees_with_finite_differences_and_autograd(beta):
    model, x = tiny_problem()
    settings = dict(rho=0.1, lam=1e-2, beta=beta)
    objective = lambda m: cs294a_objective(m, x, **settings)
    cost, hand = cs294a_gradient(model, x, **settings)
    auto_cost, auto = autograd_gradient(objective, model)
    numeric = numerical_gradient(objective, model)
    assert cost.item() == pytest.approx(auto_cost.item(), rel=1e-13)
    assert relative_difference(flatten(model, hand), numeric) < 1e-9
    assert relative_difference(flatten(model, hand), flatten(model, auto)) < 1e-12


def test_gradient_check_detects_a_wrong_sparsity_term():
    """The check can fail: a gradient whose delta2 leaves out the KL term is caught."""
    model, x = tiny_problem()
    objective = lambda m: cs294a_objective(m, x, rho=0.1, lam=1e-2, beta=3.0)
    _, without_kl = cs294a_gradient(model, x, rho=0.1, lam=1e-2, beta=0.0)
    assert relative_difference(flatten(model, without_kl), numerical_gradient(objective, model)) > 1e-3


def test_the_objective_is_for_untied_sigmoid_autoencoders_only():
    from aelib.models.autoencoders import Autoencoder
    with pytest.raises(ValueError, match="untied"):
        cs294a_objective(Autoencoder(4, 3, tied=True).double(), torch.rand(2, 4, dtype=torch.float64),
                         rho=0.1, lam=0.0, beta=1.0)


def test_l1_objective_gradient_by_autograd_matches_finite_differences():
    model, x = tiny_problem(1)
    objective = lambda m: l1_objective(m, x, lam=1e-3, l1_weight=0.1)
    _, auto = autograd_gradient(objective, model)
    assert relative_difference(flatten(model, auto), numerical_gradient(objective, model)) < 1e-9


def test_lbfgs_with_the_hand_gradient_lowers_the_objective_and_approaches_rho():
    generator = torch.Generator().manual_seed(0)
    model = sparse_autoencoder(8, 5, generator)
    x = torch.rand(200, 8, dtype=torch.float64, generator=generator) * 0.8 + 0.1
    settings = dict(rho=0.05, lam=1e-4, beta=3.0)
    start = cs294a_objective(model, x, **settings).item()
    info = minimise_lbfgs(model, lambda m: cs294a_gradient(m, x, **settings), max_iterations=200)
    assert info["final_cost"] < 0.5 * start
    assert info["final_cost"] == pytest.approx(cs294a_objective(model, x, **settings).item(), rel=1e-10)
    assert len(info["costs"]) == info["iterations"]
    assert abs(mean_activation(model.encode(x)).mean().item() - 0.05) < 0.02


def test_the_exercise_initialisation_is_drawn_at_construction_in_float64():
    """initializeParameters.m: W uniform in +-sqrt(6 / (n_visible + n_hidden + 1)), drawn once, in float64."""
    model = sparse_autoencoder(8, 5, torch.Generator().manual_seed(4))
    bound = math.sqrt(6 / (8 + 5 + 1))
    generator = torch.Generator().manual_seed(4)
    expected = (torch.rand((5, 8), generator=generator, dtype=torch.float64) * 2 - 1) * bound
    assert model.weight.dtype == torch.float64 and torch.equal(model.weight, expected)
    assert model.decoder_weight.abs().max() <= bound and model.hidden_bias.dtype == torch.float64
