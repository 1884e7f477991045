"""Tests for aelib.penalties.saturation: the complementary functions over a grid, the penalty
against a two-line reference, and the models' shapes and adjointness."""

from __future__ import annotations

import pytest
import torch

from aelib.measures.saturation import saturated_fraction, sigmoid_saturated_fraction
from aelib.models.activations import activation, shrink
from aelib.models.autoencoders import Autoencoder, ConvolutionalAutoencoder
from aelib.penalties.saturation import (
    SATURATING_ACTIVATIONS,
    complementary_function,
    saturating_autoencoder,
    saturation_penalty,
)

THRESHOLD = 0.7
# A float64 grid over [-3, 3] that avoids the kinks (0, 1, +-lambda) by an offset.
GRID = torch.linspace(-3, 3, 6001, dtype=torch.float64) + 0.000317


def derivative(function, z):
    z = z.clone().requires_grad_(True)
    gradient, = torch.autograd.grad(function(z).sum(), z)
    return gradient


@pytest.mark.parametrize("name", SATURATING_ACTIVATIONS)
def test_complementary_function_is_zero_exactly_where_the_derivative_is(name):
    f = activation(name, shrink_threshold=THRESHOLD)
    f_c = complementary_function(GRID, name, THRESHOLD)
    flat = derivative(f, GRID) == 0
    assert flat.any() and (~flat).any()
    assert torch.equal(f_c == 0, flat)
    assert (f_c >= 0).all()


@pytest.mark.parametrize("name", SATURATING_ACTIVATIONS)
def test_complementary_function_has_slope_plus_or_minus_one_off_the_flat_regions(name):
    f = activation(name, shrink_threshold=THRESHOLD)
    slope = derivative(lambda z: complementary_function(z, name, THRESHOLD), GRID)
    flat = derivative(f, GRID) == 0
    assert torch.equal(slope[flat], torch.zeros_like(slope[flat]))
    assert torch.equal(slope[~flat].abs(), torch.ones_like(slope[~flat]))
    # and by finite differences, on the grid points whose neighbours are on the same piece
    h = 1e-6
    fd = (complementary_function(GRID + h, name, THRESHOLD) - complementary_function(GRID - h, name, THRESHOLD)) / (2 * h)
    assert torch.allclose(fd[~flat].abs(), torch.ones_like(fd[~flat]), atol=1e-6)


@pytest.mark.parametrize("name", SATURATING_ACTIVATIONS)
def test_complementary_function_is_the_distance_to_the_nearest_flat_point(name):
    fine = torch.linspace(-6, 6, 12001, dtype=torch.float64)  # step 1e-3, holds the kinks exactly
    flat_points = fine[derivative(activation(name, shrink_threshold=THRESHOLD), fine) == 0]
    z = GRID[::10]
    distance = (z[:, None] - flat_points[None, :]).abs().min(dim=1).values
    assert torch.allclose(complementary_function(z, name, THRESHOLD), distance, atol=2e-3)


def test_closed_forms_on_hand_values():
    z = torch.tensor([-2.0, -0.5, 0.25, 0.5, 0.75, 2.0])
    assert torch.allclose(complementary_function(z, "relu"), torch.tensor([0, 0, 0.25, 0.5, 0.75, 2.0]))
    assert torch.allclose(complementary_function(z, "saturated_linear"), torch.tensor([0, 0, 0.25, 0.5, 0.25, 0]))
    assert torch.allclose(complementary_function(z, "shrink", 0.5), torch.tensor([1.5, 0, 0, 0, 0.25, 1.5]))
    assert torch.allclose(shrink(z, 0.5), torch.tensor([-1.5, 0, 0, 0, 0.25, 1.5]))


def test_penalty_matches_a_two_line_reference_for_dense_codes():
    z = torch.tensor([[-1.0, 0.2, 0.9, 1.5], [0.6, 2.0, -0.1, 0.5]])
    reference = sum(sum(min(max(v, 0), max(1 - v, 0)) for v in row) for row in z.tolist()) / len(z)
    assert saturation_penalty(z, "saturated_linear", 0.3).item() == pytest.approx(0.3 * reference)
    reference = sum(sum(max(abs(v) - 0.5, 0) for v in row) for row in z.tolist()) / len(z)
    assert saturation_penalty(z, "shrink", 2.0, 0.5).item() == pytest.approx(2.0 * reference)


def test_penalty_sums_over_every_position_of_every_feature_map():
    z = torch.randn(3, 2, 4, 5, generator=torch.Generator().manual_seed(0))
    reference = sum(max(v, 0) for v in z.flatten().tolist()) / 3
    assert saturation_penalty(z, "relu", 0.1).item() == pytest.approx(0.1 * reference, rel=1e-6)
    with pytest.raises(ValueError, match="alpha"):
        saturation_penalty(z, "relu", -1.0)


def test_saturated_fraction_counts_units_in_flat_regions_per_example():
    z = torch.tensor([[-1.0, 0.5, 1.5, 0.2], [0.3, 0.4, 0.5, 0.6]])
    assert torch.allclose(saturated_fraction(z, "saturated_linear"), torch.tensor([0.5, 0.0]))
    assert torch.allclose(saturated_fraction(z, "relu"), torch.tensor([0.25, 0.0]))
    assert torch.allclose(saturated_fraction(z, "shrink", 0.45), torch.tensor([0.25, 0.5]))


def test_unknown_activation_and_bad_threshold_are_rejected():
    with pytest.raises(ValueError, match="sigmoid"):
        complementary_function(torch.zeros(2), "sigmoid")
    with pytest.raises(ValueError, match="threshold"):
        complementary_function(torch.zeros(2), "shrink", 0.0)


def test_dense_model_uses_the_chosen_activation_and_a_linear_decoder():
    model = saturating_autoencoder(6, 4, "shrink", shrink_threshold=0.3, generator=torch.Generator().manual_seed(0))
    x = torch.randn(5, 6, generator=torch.Generator().manual_seed(1))
    z = model.pre_activation(x)
    assert torch.allclose(model.encode(x), shrink(z, 0.3))
    h = model.encode(x)
    assert torch.allclose(model(x), h @ model.weight + model.visible_bias)


def test_convolutional_decoder_is_the_adjoint_of_the_encoder_convolution():
    generator = torch.Generator().manual_seed(0)
    model = ConvolutionalAutoencoder((6, 7), 3, 3, "saturated_linear", generator=generator).double()
    with torch.no_grad():
        model.decoder_weights[0].copy_(model.weights[0])
    x = torch.randn(2, 42, generator=generator, dtype=torch.float64)
    h = torch.randn(2, 3 * 42, generator=generator, dtype=torch.float64)
    conv_x = model.pre_activation(x).flatten(1)  # biases are 0 at initialisation
    assert conv_x.shape == (2, 3 * 42)
    assert torch.allclose((conv_x * h).sum(), (x * model.decode(h)).sum())
    assert model(x).shape == x.shape and model.filters().shape == (3, 9)


def test_sigmoid_saturated_fraction_counts_both_tails():
    h = torch.tensor([[0.01, 0.5, 0.97, 0.05], [0.2, 0.3, 0.4, 0.999]])
    # 0.05 itself is not below 0.05: the comparison is strict, as in the definition
    assert sigmoid_saturated_fraction(h).tolist() == [0.5, 0.25]


def test_sigmoid_saturated_fraction_matches_derivative_threshold():
    torch.manual_seed(0)
    h = torch.sigmoid(3 * torch.randn(50, 40, dtype=torch.float64))
    slope = h * (1 - h)
    reference = (slope < 0.05 * 0.95).double().mean(dim=1)  # h(1-h) < 0.0475 <=> h outside [0.05, 0.95]
    assert torch.allclose(sigmoid_saturated_fraction(h).double(), reference)


def test_sigmoid_saturated_fraction_rejects_bad_bounds():
    with pytest.raises(ValueError):
        sigmoid_saturated_fraction(torch.zeros(2, 2), low=0.9, high=0.1)


def test_saturating_autoencoder_draws_glorot_weights_without_patching():
    """The saturating model's initial weights are the sigmoid model's divided by 4, bit for bit,
    drawn at construction (init_bound) rather than rescaled afterwards."""
    saturating = saturating_autoencoder(30, 7, "relu", generator=torch.Generator().manual_seed(2))
    sigmoid = Autoencoder(30, 7, generator=torch.Generator().manual_seed(2))
    assert torch.equal(saturating.weight, sigmoid.weight / 4)
    assert saturating.decoder_activation_name == "linear"


def test_a_two_layer_convolutional_decoder_is_the_adjoint_of_its_linear_encoder():
    generator = torch.Generator().manual_seed(1)
    model = ConvolutionalAutoencoder((6, 7), (3, 2), 3, "linear", generator=generator).double()
    with torch.no_grad():
        for weight, decoder_weight in zip(model.weights, model.decoder_weights):
            decoder_weight.copy_(weight)
    x = torch.randn(2, 42, generator=generator, dtype=torch.float64)
    h = torch.randn(2, 2 * 42, generator=generator, dtype=torch.float64)
    assert [tuple(z.shape) for z in model.pre_activations(x)] == [(2, 3, 6, 7), (2, 2, 6, 7)]
    assert torch.allclose((model.encode(x) * h).sum(), (x * model.decode(h)).sum())  # <A x, h> = <x, A^T h>


def test_the_saturating_loss_of_a_stack_sums_the_penalty_over_every_layer():
    from aelib.penalties.regularizers import training_loss
    model = ConvolutionalAutoencoder((6, 7), (3, 2), 3, "saturated_linear",
                                     generator=torch.Generator().manual_seed(2)).double()
    x = torch.rand(4, 42, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    first, second = model.pre_activations(x)
    f_c = lambda z: torch.minimum(z.relu(), (1 - z).relu()).flatten(1).sum(1).mean()  # noqa: E731
    expected = (model.decode(second.clamp(0, 1)) - x).pow(2).sum(1).mean() + 0.2 * (f_c(first) + f_c(second))
    assert torch.allclose(training_loss("saturating", model, 0.2)(x), expected)



@pytest.mark.parametrize("activation", ["relu", "shrink", "saturated_linear"])
def test_the_complementary_function_check_passes_the_definition_and_fails_a_wrong_one(activation, monkeypatch):
    import aelib.penalties.saturation as saturation

    grid = torch.linspace(-2.5, 2.5, 501, dtype=torch.float64) + 0.000317  # no point on a kink
    assert saturation.complementary_function_check(activation, grid) == {"zero_mismatches": 0, "slope_error": 0.0}
    monkeypatch.setattr(saturation, "complementary_function", lambda z, name, threshold: torch.relu(z) + 0.1)
    wrong = saturation.complementary_function_check(activation, grid)
    assert wrong["zero_mismatches"] > 0 or wrong["slope_error"] > 0.5
