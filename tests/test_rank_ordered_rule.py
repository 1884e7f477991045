"""aelib.training.rank_ordered_rule: the compiled per-patch rule against a literal transcription in float64,
the TReLU error signal's masking and clipping, the minibatch rule, and the author's metrics."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from aelib.training.rank_ordered_rule import (
    RankOrderedNetwork,
    rule_direction,
    top_k_errors,
    train_sequential,
    trelu_error_signal,
    units_for_mass,
)

V, H = 12, 9


def literal_step(W, x, eta, ranked=True, norm_limit=0.1):
    """One step of the rule, written as the docstring states it, one unit at a time (float64)."""
    u = W @ x / V
    z = np.clip(u, 0, 1)
    ranking = np.argsort(u, kind="mergesort")[::-1]
    rank = np.empty(H, dtype=int)
    rank[ranking] = np.arange(H)
    S = [np.clip(sum(z[ranking[i]] * W[ranking[i]] for i in range(k + 1)), 0, 1) for k in range(H)]
    new = W.copy()
    for j in range(H):
        e = x - (S[rank[j]] if ranked else S[-1])
        d = e @ W[j] / V
        if np.sign(d) == np.sign(u[j]):
            d = 0.0
        elif u[j] > 0:
            d = max(d, -u[j])
        elif u[j] < 0:
            d = min(d, -u[j])
        g = z[j] * e + d * x
        if np.linalg.norm(g) > norm_limit:
            g = g / np.linalg.norm(g) * norm_limit
        new[j] = W[j] + eta * g
    return new, np.linalg.norm(x - S[-1])


def patches(n, seed):
    return torch.rand(n, V, generator=torch.Generator().manual_seed(seed), dtype=torch.float64) * 0.9


@pytest.mark.parametrize("ranked", [True, False])
def test_the_compiled_rule_equals_a_literal_transcription_over_thousands_of_steps(ranked):
    model = RankOrderedNetwork(V, H, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    W = model.weight.detach().numpy().copy()
    data = {1: patches(1500, 1), 2: patches(1500, 2)}
    history = train_sequential(model, data.__getitem__, epochs=2, ranked=ranked,
                               generator=torch.Generator().manual_seed(3))
    order_generator = torch.Generator().manual_seed(3)
    eta, errors = 1.0, []
    for epoch in (1, 2):
        order = torch.randperm(1500, generator=order_generator).numpy()
        epoch_errors = []
        for p in order:
            W, error = literal_step(W, data[epoch][p].numpy(), eta, ranked)
            epoch_errors.append(error)
        errors.append(np.mean(epoch_errors))
        if epoch > 1 and not errors[-1] * 1.01 < errors[-2]:
            eta *= 0.9
    assert np.abs(W).max() > 0.05  # the weights moved, so the comparison means something
    np.testing.assert_allclose(model.weight.detach().numpy(), W, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose([row["train_error"] for row in history], errors, rtol=1e-9)


def test_a_wrong_rule_is_caught_by_the_transcription():
    """The comparison above can fail: crediting every unit with the full residual differs."""
    model = RankOrderedNetwork(V, H, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    W = model.weight.detach().numpy().copy()
    train_sequential(model, lambda epoch: patches(200, 1), epochs=1, ranked=False,
                     generator=torch.Generator().manual_seed(3))
    for p in torch.randperm(200, generator=torch.Generator().manual_seed(3)).numpy():
        W, _ = literal_step(W, patches(200, 1)[p].numpy(), 1.0, ranked=True)
    assert not np.allclose(model.weight.detach().numpy(), W, rtol=1e-6)


def test_trelu_signal_passes_only_towards_zero_and_never_past_it():
    u = torch.tensor([0.5, 0.5, 0.5, -0.3, -0.3, -0.3, 0.0, 0.0, 2.0])
    d = torch.tensor([0.2, -0.1, -0.9, -0.2, 0.1, 0.7, 0.4, -0.4, -0.5])
    expected = torch.tensor([0.0,   # u > 0, d > 0: would make the unit fire more: blocked
                             -0.1,  # towards 0, within reach: passes
                             -0.5,  # towards 0 but past it: clipped at -u
                             0.0,   # u < 0, d < 0: away from 0: blocked
                             0.1,   # towards 0: passes
                             0.3,   # past 0: clipped at -u
                             0.4, -0.4,  # at 0 any signal passes
                             -0.5])  # above the clip range, towards 0: passes
    assert torch.equal(trelu_error_signal(u, d), expected)


def test_the_minibatch_rule_of_one_patch_is_the_sequential_step():
    model = RankOrderedNetwork(V, H, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    x = patches(1, 4)
    W = model.weight.detach().numpy()
    stepped, error = literal_step(W, x[0].numpy(), eta=1.0, norm_limit=1e9)  # no norm clip in the minibatch rule
    direction, errors = rule_direction(model.weight.detach(), x)
    np.testing.assert_allclose(direction.numpy(), stepped - W, rtol=1e-10, atol=1e-12)
    assert errors.item() == pytest.approx(error)
    loss = model.rule_loss(x, norm_limit=None)
    loss.backward()
    assert torch.allclose(model.weight.grad, -direction)
    assert loss.item() == pytest.approx(error)


def test_top_k_errors_clip_the_reconstruction_and_fall_with_k():
    model = RankOrderedNetwork(V, H, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    x = patches(50, 5)
    errors = top_k_errors(model, x, [1, 3, H])
    u = model.pre_activation(x)
    top = u.argmax(dim=1)
    by_hand = (x - (u.clamp(0, 1).gather(1, top[:, None]) * model.weight.detach()[top]).clamp(0, 1)).norm(dim=1)
    assert errors[1] == pytest.approx(by_hand.mean().item())
    assert errors[H] == pytest.approx((x - model(x).detach()).norm(dim=1).mean().item())


def test_units_for_mass_counts_the_largest_units_holding_that_share():
    z = torch.tensor([[0.9, 0.05, 0.05, 0.0], [0.25, 0.25, 0.25, 0.25], [0.0, 0.0, 0.0, 0.0]])
    assert units_for_mass(z, 0.9).tolist() == [1, 4, 0]
    assert units_for_mass(z, 0.5).tolist() == [1, 2, 0]


def test_train_sequential_refuses_bad_rates():
    model = RankOrderedNetwork(V, H)
    with pytest.raises(ValueError, match="positive rates"):
        train_sequential(model, lambda e: patches(5, 0), epochs=1, learning_rate=0.0)
