"""Tests for the pieces of the saturating study (notebook 03): the spiral and the energy around it,
the sweep trained as one batched model, the perturbation measures of one model, trends along a sweep,
the matched-error verdict and full-batch training."""

from __future__ import annotations

import copy
import math

import pytest
import torch

from aelib.data.spiral import spiral
from aelib.measures.energy import energy_near_and_far, plane_around, reconstruction_energy
from aelib.measures.linear_probe import fit_linear_probe
from aelib.measures.matched_error import lower_at_every_matched_error
from aelib.measures.perturbation_response import (
    jacobian_norms,
    perturbation_response,
    probe_accuracies,
    response_row,
)
from aelib.measures.sensitivity import sensitivity_ratio
from aelib.measures.trend import last_reconstructing, rank_correlation, relative_fall
from aelib.penalties.regularizers import training_loss
from aelib.penalties.saturation import saturating_autoencoder
from aelib.training.loop import full_batch_steps
from aelib.training.saturating_sweep import (
    fit_planar_autoencoder,
    levelling_off,
    train_saturating_sweep,
    train_until_levelled_off,
)


def test_the_spiral_lies_on_its_curve_inside_the_unit_square():
    points = spiral(1000, torch.Generator().manual_seed(0))
    radius = points.norm(dim=1) * 3.5 * math.pi  # = t
    angle = torch.atan2(points[:, 1], points[:, 0])
    assert points.abs().max() <= 1 and radius.min() >= 0.5 * math.pi - 1e-4 and radius.max() <= 3.5 * math.pi + 1e-4
    assert torch.allclose(torch.cos(angle), torch.cos(radius), atol=1e-4)  # the angle is t itself, modulo 2 pi
    with pytest.raises(ValueError, match="positive integer"):
        spiral(0)


def test_an_identity_map_has_zero_energy_and_a_map_onto_the_curve_about_one():
    curve = spiral(5000, torch.Generator().manual_seed(1))
    plane = plane_around(curve, points_per_side=41)
    assert plane.points.shape == (41 * 41, 2) and plane.near.any() and plane.far.any()
    assert not (plane.near & plane.far).any()

    class Identity(torch.nn.Module):
        def forward(self, x):
            return x

        def pre_activation(self, x):
            return x

    measures, energy = energy_near_and_far(Identity(), plane, curve, "relu")
    assert measures["energy_far_from_data"] == 0 and energy.shape == (41 * 41,)

    class OntoCurve(Identity):
        def forward(self, x):
            return curve[torch.cdist(x, curve).argmin(dim=1)]

    far_ratio = energy_near_and_far(OntoCurve(), plane, curve, "relu")[0]["far_energy_over_squared_distance"]
    assert far_ratio == pytest.approx(1.0, rel=1e-5)
    assert torch.allclose(reconstruction_energy(OntoCurve(), plane.points), plane.distance.pow(2), atol=1e-6)


def test_the_batched_sweep_ends_as_each_model_trained_alone():
    images = torch.rand(40, 16, generator=torch.Generator().manual_seed(2))
    initial = saturating_autoencoder(16, 6, "relu", generator=torch.Generator().manual_seed(3))
    settings = [(0.0, 0.0), (0.3, 0.0)]  # no noise: each model's loss is its own, no shared noise draw
    models, histories = train_saturating_sweep(initial, "relu", settings, images, epochs=2, batch_size=10,
                                               learning_rate=0.01, shrink_threshold=0.5, seed=0)
    assert len(models) == 2 and len(histories) == 2 and len(histories[0]) == 2
    for (alpha, noise), model in zip(settings, models):
        alone = copy.deepcopy(initial)
        train_until_levelled_off(alone, (alpha, noise), images, epochs=2, batch_size=10, learning_rate=0.01,
                                 plateau=1e-12, seed=0)
        assert torch.allclose(model.weight, alone.weight, atol=1e-5)


def test_a_run_that_stops_improving_is_marked_levelled_off():
    history = [{"train_loss": 2.0, "relative_improvement": math.nan}, {"train_loss": 1.99, "relative_improvement": 0.005}]
    assert levelling_off(history, 0.01) == {"epochs": 2, "final_loss": 1.99, "last_relative_improvement": 0.005,
                                            "levelled_off": True}
    assert not levelling_off(history, 0.001)["levelled_off"]


def test_perturbation_measures_of_a_linear_map_are_its_norms():
    model = saturating_autoencoder(8, 8, "relu", generator=torch.Generator().manual_seed(4))
    x = torch.rand(20, 8, generator=torch.Generator().manual_seed(5)) + 5  # every unit active: the code is linear
    with torch.no_grad():
        model.hidden_bias.fill_(10.0)
    row, attacks = perturbation_response(model, x, norms=[0.5], attack_norm=0.5, attack_steps=20,
                                         generator=torch.Generator().manual_seed(6))
    assert list(row) == ["code_ratio_random_0.5", "reconstruction_ratio_random_0.5", "code_ratio_pgd",
                         "reconstruction_ratio_pgd", "code_ratio_search", "reconstruction_ratio_search"]
    spectral = torch.linalg.matrix_norm(model.weight, ord=2).item()
    assert row["code_ratio_pgd"] <= spectral + 1e-4 and row["code_ratio_pgd"] >= 0.8 * spectral
    assert row["code_ratio_pgd"] == pytest.approx(sensitivity_ratio(model.encode, x, attacks["pgd"]).mean().item())
    norms = jacobian_norms(model.encode, x)
    assert norms["jacobian_spectral"] == pytest.approx(spectral, rel=1e-4)
    assert norms["jacobian_frobenius"] == pytest.approx(model.weight.norm().item(), rel=1e-4)
    labels = (x[:, 0] > x[:, 0].median()).long()
    with torch.no_grad():
        probe = fit_linear_probe(model.encode(x), labels)
    accuracies = probe_accuracies(probe, model.encode, x, labels, {"pgd": attacks["pgd"]})
    assert set(accuracies) == {"probe_accuracy_clean", "probe_accuracy_pgd"} and accuracies["probe_accuracy_clean"] > 0.8


def test_a_model_s_row_is_its_error_saturation_and_perturbation_measures():
    model = saturating_autoencoder(8, 6, "relu", generator=torch.Generator().manual_seed(4))
    x = torch.rand(30, 8, generator=torch.Generator().manual_seed(5))
    labels = (x[:, 0] > x[:, 0].median()).long()
    options = dict(activation="relu", shrink_threshold=0.5, norms=[0.5], attack_norm=0.5, attack_steps=5, seed=0)
    row = response_row(model, x, labels, x, labels, generator=torch.Generator().manual_seed(6), **options)
    ratios, _ = perturbation_response(model, x, norms=[0.5], attack_norm=0.5, attack_steps=5,
                                      generator=torch.Generator().manual_seed(6))
    assert {key: row[key] for key in ratios} == ratios  # the same draws, in the same order
    assert row["reconstruction_error"] == pytest.approx(((model(x) - x) ** 2).sum(dim=1).mean().item())
    assert 0 <= row["saturated_fraction"] <= 1 and "jacobian_spectral" in row and "probe_accuracy_pgd" in row
    convolutional = response_row(model, x, labels, x, labels, generator=torch.Generator().manual_seed(6),
                                 dense=False, **options)
    assert "jacobian_spectral" not in convolutional and "probe_accuracy_clean" not in convolutional


def test_trends_along_a_sweep():
    assert rank_correlation([0, 1, 2, 3], [0.1, 0.2, 0.5, 0.9]) == pytest.approx(1.0)
    assert rank_correlation([0, 1, 2, 3], [4.0, 3.0, 3.5, 1.0]) == pytest.approx(-0.8)
    assert last_reconstructing([0.0, 0.1, 0.2, 0.3], [10.0, 12.0, 14.0, 16.0], 1.5) == 2
    assert last_reconstructing([0.0, 0.1], [10.0, 16.0], 1.5) is None
    assert relative_fall([2.0, 1.5, 0.5], 2) == pytest.approx(0.75)
    with pytest.raises(ValueError):
        rank_correlation([0, 1], [1.0])


def test_the_matched_error_verdict_counts_where_a_is_lower():
    points = [{"error": 1.0, "a": 0.2, "b": 0.3, "from": "a"}, {"error": 2.0, "a": 0.4, "b": 0.3, "from": "b"}]
    text, holds = lower_at_every_matched_error(points, "dense relu")
    assert holds is False and text.startswith("dense relu: lower at 1/2 (errors 1.0-2.0; mean 0.300 vs 0.300)")
    assert lower_at_every_matched_error(points[:1], "x")[1] is True
    assert lower_at_every_matched_error([], "x") == ("x: curves do not overlap", None)


def test_full_batch_steps_are_plain_gradient_steps():
    weight = torch.nn.Parameter(torch.tensor([1.0]))
    data = torch.tensor([3.0])
    last = full_batch_steps(lambda x: ((weight - x) ** 2).mean(), torch.optim.SGD([weight], lr=0.25), data, 2)
    assert weight.item() == pytest.approx(2.5) and last == pytest.approx(1.0)  # 1 -> 2 -> 2.5
    model = saturating_autoencoder(2, 4, "saturated_linear", generator=torch.Generator().manual_seed(7))
    before = training_loss("saturating", model, 0.1)(data.new_ones(5, 2)).item()
    full_batch_steps(training_loss("saturating", model, 0.1), torch.optim.Adam(model.parameters(), lr=0.05),
                     data.new_ones(5, 2), 20)
    assert training_loss("saturating", model, 0.1)(data.new_ones(5, 2)).item() < before
    with pytest.raises(ValueError, match="positive integer"):
        full_batch_steps(lambda x: x.sum(), torch.optim.SGD([weight], lr=0.1), data, 0)


def test_the_planar_toy_is_seeded_and_its_penalty_saturates_the_units():
    points = spiral(200, torch.Generator().manual_seed(0))
    plain, again = (fit_planar_autoencoder(points, 16, 0.0, 200, seed=3) for _ in range(2))
    assert all(torch.equal(a, b) for a, b in zip(plain.state_dict().values(), again.state_dict().values()))
    saturating = fit_planar_autoencoder(points, 16, 1.0, 200, seed=3)
    plane = plane_around(spiral(2000, torch.Generator().manual_seed(1)))
    fractions = [energy_near_and_far(model, plane, points, "saturated_linear")[0]["saturated_fraction_on_data"]
                 for model in (plain, saturating)]
    assert fractions[1] > fractions[0]
