"""The recipes notebook 02 composes: the gradient check, one fit, and the pair with and without sparsity."""

import pytest
import torch

from aelib.training.sparse_autoencoder import (
    autograd_gradient,
    check_cs294a_gradient,
    cs294a_gradient,
    cs294a_objective,
    fit_sparse_autoencoder,
    fit_with_and_without_sparsity,
    flatten,
    minimise_lbfgs,
    numerical_gradient,
    relative_difference,
    seeded_sparse_autoencoder,
    sparse_autoencoder,
)


def test_gradient_check_repeats_the_notebooks_inline_check():
    differences = check_cs294a_gradient(torch.Generator().manual_seed(3), rho=0.05, lam=1e-3, beta=2.0,
                                        n_visible=6, n_hidden=3, n_examples=5)
    generator = torch.Generator().manual_seed(3)  # the notebook's former inline code, on the same draws
    model = sparse_autoencoder(6, 3, generator)
    with torch.no_grad():
        for bias in (model.hidden_bias, model.visible_bias):
            bias.copy_(0.3 * torch.randn(bias.shape, generator=generator, dtype=torch.float64))
    x = torch.rand(5, 6, dtype=torch.float64, generator=generator) * 0.8 + 0.1
    objective = lambda m: cs294a_objective(m, x, rho=0.05, lam=1e-3, beta=2.0)  # noqa: E731
    hand = flatten(model, cs294a_gradient(model, x, rho=0.05, lam=1e-3, beta=2.0)[1])
    finite = numerical_gradient(objective, model)
    automatic = flatten(model, autograd_gradient(objective, model)[1])
    assert differences == {"hand vs finite differences": relative_difference(hand, finite),
                           "hand vs autograd": relative_difference(hand, automatic),
                           "autograd vs finite differences": relative_difference(automatic, finite)}
    assert max(differences.values()) < 1e-9


def test_lbfgs_fit_is_minimise_lbfgs_with_the_hand_gradient():
    x = torch.rand(12, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    model = seeded_sparse_autoencoder(6, 3, seed=4)
    row = fit_sparse_autoencoder(model, x, rho=0.1, lam=1e-3, beta=3.0, iterations=5)
    reference = sparse_autoencoder(6, 3, torch.Generator().manual_seed(4))
    info = minimise_lbfgs(reference, lambda m: cs294a_gradient(m, x, rho=0.1, lam=1e-3, beta=3.0), max_iterations=5)
    assert row["final_objective"] == info["final_cost"] and row["iterations"] == info["iterations"]
    assert torch.equal(model.weight, reference.weight)


def test_adam_fit_lowers_the_l1_objective_and_counts_its_steps():
    x = torch.rand(20, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    model = seeded_sparse_autoencoder(6, 3, seed=0)
    row = fit_sparse_autoencoder(model, x, lam=1e-3, l1_weight=0.01, iterations=1, optimizer="adam",
                                 adam_epochs=3, adam_batch_size=8, adam_learning_rate=1e-2)
    assert row["iterations"] == 3 and row["evaluations"] == 3 * 3  # ceil(20 / 8) batches per epoch
    with pytest.raises(ValueError, match="optimizer"):
        fit_sparse_autoencoder(model, x, lam=1e-3, iterations=1, rho=0.1, optimizer="sgd")


def test_pair_shares_initial_weights_and_differs_only_in_beta():
    x = torch.rand(10, 6, generator=torch.Generator().manual_seed(2))  # float32, as the digits
    models, runs = fit_with_and_without_sparsity(6, 3, x, rho=0.1, lam=1e-3, beta=3.0, iterations=3, seed=5,
                                                 dtype=torch.float32)
    assert list(models) == ["sparse", "no sparsity (beta = 0)"] and models["sparse"].weight.dtype == torch.float32
    dense = seeded_sparse_autoencoder(6, 3, seed=5, dtype=torch.float32)
    row = fit_sparse_autoencoder(dense, x, rho=0.1, lam=1e-3, beta=0.0, iterations=3)
    assert runs["no sparsity (beta = 0)"]["final_objective"] == row["final_objective"]
    assert runs["sparse"]["final_objective"] != row["final_objective"]
