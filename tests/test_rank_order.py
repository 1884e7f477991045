"""Tests for aelib.models.rank_ordered (TReLU's backward rule, the rank-ordered loss against a
two-loop reference, its gradient against finite differences) and aelib.data.patches."""

from __future__ import annotations

import math

import pytest
import torch

from aelib.data.patches import extract_patches, random_patches
from aelib.models.rank_ordered import (
    RankOrderedAutoencoder,
    active_fraction,
    hoyer_sparsity,
    rank_ordered_loss,
    rank_ordered_loss_gram,
    top_k_reconstruction_error,
    trelu,
)


def _trelu_input_gradient(u: list[float], g: list[float], threshold: float = 0.0) -> list[float]:
    u = torch.tensor(u, dtype=torch.float64, requires_grad=True)
    trelu(u, threshold).backward(torch.tensor(g, dtype=torch.float64))
    return u.grad.tolist()


def test_trelu_forward_is_min_1_max_0():
    u = torch.tensor([-2.0, 0.0, 0.3, 1.0, 4.0])
    assert trelu(u).tolist() == pytest.approx([0.0, 0.0, 0.3, 1.0, 1.0])


def test_trelu_backward_follows_the_rule_on_hand_made_cases():
    # g = dE/dy: g < 0 asks for a larger output, g > 0 for a smaller one.
    u = [-0.5, -0.5, 0.5, 0.5, 1.5, 1.5, 0.0, 1.0]
    g = [-2.0, 3.0, -4.0, 5.0, -6.0, 7.0, -1.0, -1.0]
    expected = [-2.0, 0.0, -4.0, 5.0, 0.0, 7.0, -1.0, 0.0]
    # below 0 and asked up: passes; below and asked down: 0; inside: passes both ways;
    # above 1 and asked up: 0; above and asked down: passes; at 0 asked up: passes; at 1 asked up: 0
    assert _trelu_input_gradient(u, g) == expected


def test_trelu_threshold_stops_small_errors_on_saturated_units_only():
    u = [-0.5, -0.5, 1.5, 1.5, 0.5]
    g = [-0.05, -0.5, 0.05, 0.5, 0.05]
    assert _trelu_input_gradient(u, g, threshold=0.1) == [0.0, -0.5, 0.0, 0.5, 0.05]


def test_trelu_backward_inside_the_range_is_the_true_derivative():
    u = (torch.rand(20, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) * 0.8 + 0.1)
    assert torch.autograd.gradcheck(lambda v: trelu(v), (u.requires_grad_(),))


def test_trelu_rejects_a_negative_threshold():
    with pytest.raises(ValueError, match="threshold"):
        trelu(torch.zeros(2), -0.1)


def _two_loop_rank_ordered_loss(z: torch.Tensor, weight: torch.Tensor, x: torch.Tensor) -> float:
    total = 0.0
    for zi, xi in zip(z.tolist(), x):
        s = torch.zeros_like(xi)
        for j in sorted(range(len(zi)), key=lambda j: -zi[j]):
            s = s + zi[j] * weight[j]
            total += (xi - s).pow(2).sum().item()
    return total / len(x)


def test_rank_ordered_loss_matches_a_two_loop_reference():
    generator = torch.Generator().manual_seed(1)
    z = torch.rand(4, 6, dtype=torch.float64, generator=generator)
    z[0, 2] = 0.0  # a silent unit
    weight = torch.randn(6, 5, dtype=torch.float64, generator=generator)
    x = torch.rand(4, 5, dtype=torch.float64, generator=generator)
    assert rank_ordered_loss(z, weight, x).item() == pytest.approx(_two_loop_rank_ordered_loss(z, weight, x),
                                                                  rel=1e-12)


def test_rank_ordered_loss_depends_on_the_order_unlike_the_plain_loss():
    weight = torch.tensor([[1.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    x = torch.tensor([[1.0, 0.5]], dtype=torch.float64)
    # unit 0 (reconstructs the larger pixel) ranked first: S_1 = (1, 0), S_2 = (1, 0.5)
    assert rank_ordered_loss(torch.tensor([[1.0, 0.5]], dtype=torch.float64), weight, x).item() == pytest.approx(0.25)
    # the same reconstruction, the other unit swapped to first place by a larger activation
    weight_swapped = torch.tensor([[0.5, 0.0], [0.0, 0.5]], dtype=torch.float64)
    z_swapped = torch.tensor([[2.0, 1.0]], dtype=torch.float64)
    assert rank_ordered_loss(z_swapped, weight_swapped, x).item() == pytest.approx(0.25)
    weight_other = torch.tensor([[1.0, 0.0], [0.0, 0.25]], dtype=torch.float64)
    z_other = torch.tensor([[1.0, 2.0]], dtype=torch.float64)  # x_hat is again (1, 0.5), S_1 = (0, 0.5)
    assert rank_ordered_loss(z_other, weight_other, x).item() == pytest.approx(1.0)


def test_rank_ordered_loss_gradient_matches_finite_differences():
    generator = torch.Generator().manual_seed(2)
    z = torch.rand(3, 5, dtype=torch.float64, generator=generator).requires_grad_()  # distinct values: fixed order
    weight = torch.randn(5, 4, dtype=torch.float64, generator=generator).requires_grad_()
    x = torch.rand(3, 4, dtype=torch.float64, generator=generator)
    assert torch.autograd.gradcheck(lambda a, w: rank_ordered_loss(a, w, x), (z, weight))


def _model_gradients(model, x, activation):
    model.zero_grad()
    z = activation(x @ model.weight.T + model.hidden_bias)
    rank_ordered_loss(z, model.weight, x).backward()
    return model.weight.grad.clone(), model.hidden_bias.grad.clone()


def test_model_gradient_equals_the_clamp_gradient_when_no_unit_is_saturated():
    model = RankOrderedAutoencoder(4, 6, generator=torch.Generator().manual_seed(3)).double()
    with torch.no_grad():
        model.weight.mul_(0.1)
        model.hidden_bias.fill_(0.5)
    x = torch.rand(5, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(4))
    pre = x @ model.weight.T + model.hidden_bias
    assert ((pre > 0) & (pre < 1)).all()
    ours = _model_gradients(model, x, trelu)
    clamp = _model_gradients(model, x, lambda u: u.clamp(0, 1))
    assert all(torch.allclose(a, b, rtol=1e-12, atol=1e-14) for a, b in zip(ours, clamp))
    flat = [p.detach().clone().requires_grad_() for p in (model.weight, model.hidden_bias)]
    assert torch.autograd.gradcheck(lambda w, b: rank_ordered_loss(trelu(x @ w.T + b), w, x), flat)


def test_model_gradient_revives_a_dead_unit_the_error_asks_for():
    model = RankOrderedAutoencoder(3, 2, generator=torch.Generator().manual_seed(0)).double()
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[0.2, 0.2, 0.2], [0.1, 0.3, 0.2]]))
        model.hidden_bias.copy_(torch.tensor([0.0, -5.0]))  # unit 1 is far below 0: dead for a clamp
    x = torch.tensor([[0.5, 0.6, 0.7]], dtype=torch.float64)  # more x would help: the error asks unit 1 up
    _, bias_grad = _model_gradients(model, x, trelu)
    _, clamp_bias_grad = _model_gradients(model, x, lambda u: u.clamp(0, 1))
    assert clamp_bias_grad[1].item() == 0.0
    assert bias_grad[1].item() < 0  # descent raises unit 1's input back towards (0, 1)
    assert bias_grad[0].item() == pytest.approx(clamp_bias_grad[0].item())


def test_top_k_error_is_the_cumulative_reconstruction_error():
    generator = torch.Generator().manual_seed(5)
    z = torch.rand(6, 4, generator=generator)
    weight = torch.randn(4, 3, generator=generator)
    x = torch.rand(6, 3, generator=generator)
    errors = top_k_reconstruction_error(z, weight, x, [1, 2, 4, 100])
    order = torch.argsort(z, dim=1, descending=True)
    for k, error in zip([1, 2, 4], errors):
        s = torch.stack([(z[i, order[i, :k], None] * weight[order[i, :k]]).sum(0) for i in range(6)])
        assert error == pytest.approx((x - s).pow(2).sum(1).mean().item(), rel=1e-5)
    assert errors[2] == pytest.approx(errors[3])  # k beyond n_hidden: all units


def test_sparsity_measures_on_extreme_codes():
    one_hot = torch.tensor([[0.0, 0.7, 0.0, 0.0]])
    flat = torch.full((1, 4), 0.3)
    assert hoyer_sparsity(one_hot).item() == pytest.approx(1.0)
    assert hoyer_sparsity(flat).item() == pytest.approx(0.0, abs=1e-6)
    assert hoyer_sparsity(torch.tensor([[1.0, 1.0, 0.0, 0.0]])).item() == pytest.approx(
        (2 - math.sqrt(2)) / (2 - 1))
    assert active_fraction(torch.tensor([[0.005, 0.02, 0.0, 1.0]])).tolist() == [0.5]


def test_patches_are_the_image_windows_at_their_positions():
    images = torch.arange(2 * 3 * 5 * 6, dtype=torch.float32).reshape(2, -1)
    patches = extract_patches(images, (3, 5, 6), torch.tensor([0, 2]), torch.tensor([3, 1]), 3)
    cube = images.reshape(2, 3, 5, 6)
    assert torch.equal(patches[0], cube[0, :, 0:3, 3:6].flatten())
    assert torch.equal(patches[1], cube[1, :, 2:5, 1:4].flatten())


def test_random_patches_are_reproducible_and_cover_positions():
    images = torch.rand(500, 3 * 8 * 8, generator=torch.Generator().manual_seed(0))
    first = random_patches(images, (3, 8, 8), 7, torch.Generator().manual_seed(1))
    again = random_patches(images, (3, 8, 8), 7, torch.Generator().manual_seed(1))
    assert first.shape == (500, 147) and torch.equal(first, again)
    cube = images.reshape(-1, 3, 8, 8)
    corners = {(r, c) for i in range(500) for r in (0, 1) for c in (0, 1)
               if torch.equal(first[i], cube[i, :, r:r + 7, c:c + 7].flatten())}
    assert corners == {(0, 0), (0, 1), (1, 0), (1, 1)}
    with pytest.raises(ValueError, match="patch_size"):
        random_patches(images, (3, 8, 8), 9)


def _rank_ordered_inputs(dtype=torch.float64):
    generator = torch.Generator().manual_seed(3)
    z = torch.rand(6, 9, generator=generator, dtype=dtype)
    z[0, :4] = 0.0           # tied zeros (TReLU's flat region)
    z[1, 2] = z[1, 5]        # a tie between active units
    weight = torch.randn(9, 13, generator=generator, dtype=dtype)
    x = torch.rand(6, 13, generator=generator, dtype=dtype)
    return z, weight, x


def test_rank_ordered_loss_gram_equals_the_direct_sum_and_its_gradients():
    z, weight, x = (t.requires_grad_(True) for t in _rank_ordered_inputs())
    direct = rank_ordered_loss(z, weight, x)
    gram = rank_ordered_loss_gram(z, weight, x)
    assert torch.allclose(gram, direct, rtol=1e-12, atol=1e-10)
    for a, b in zip(torch.autograd.grad(direct, (z, weight, x)), torch.autograd.grad(gram, (z, weight, x))):
        assert torch.allclose(a, b, rtol=1e-10, atol=1e-10)


def test_rank_ordered_loss_gram_two_unit_reference():
    z = torch.tensor([[0.2, 0.7]], dtype=torch.float64)           # unit 1 ranks first
    weight = torch.tensor([[1.0, 0.0], [0.5, 1.0]], dtype=torch.float64)
    x = torch.tensor([[1.0, 2.0]], dtype=torch.float64)
    s1 = 0.7 * weight[1]
    s2 = s1 + 0.2 * weight[0]
    expected = (x[0] - s1).pow(2).sum() + (x[0] - s2).pow(2).sum()
    assert torch.allclose(rank_ordered_loss_gram(z, weight, x), expected)
    with pytest.raises(ValueError):
        rank_ordered_loss_gram(z, weight[:, :1], x)
