"""Tests for aelib.measures.sensitivity on maps whose worst case is known."""

from __future__ import annotations

import pytest
import torch

from aelib.measures.linear_probe import fit_linear_probe
from aelib.measures.sensitivity import (
    pgd_perturbations,
    random_perturbations,
    random_search_perturbations,
    sensitivity_ratio,
)


@pytest.fixture
def linear_map():
    generator = torch.Generator().manual_seed(0)
    a = torch.randn(5, 8, generator=generator, dtype=torch.float64)
    top = torch.linalg.svdvals(a)[0].item()
    x = torch.randn(4, 8, generator=generator, dtype=torch.float64)
    return (lambda v: v @ a.T), a, top, x


def test_ratio_of_a_linear_map_along_its_top_singular_vector_is_the_top_singular_value(linear_map):
    function, a, top, x = linear_map
    direction = torch.linalg.svd(a).Vh[0]
    d = 0.3 * direction.expand_as(x)
    assert torch.allclose(sensitivity_ratio(function, x, d), torch.full((4,), top, dtype=torch.float64))


def test_random_perturbations_have_the_asked_norm(linear_map):
    _, _, _, x = linear_map
    d = random_perturbations(x, 0.7, torch.Generator().manual_seed(0))
    assert torch.allclose(d.norm(dim=1), torch.full((4,), 0.7, dtype=torch.float64))
    with pytest.raises(ValueError):
        random_perturbations(x, 0.0)


def test_pgd_finds_the_worst_direction_of_a_linear_map_and_stays_in_the_ball(linear_map):
    function, _, top, x = linear_map
    d = pgd_perturbations(function, x, 0.5, steps=50, generator=torch.Generator().manual_seed(0))
    assert (d.norm(dim=1) <= 0.5 + 1e-9).all()
    assert torch.allclose(sensitivity_ratio(function, x, d), torch.full((4,), top, dtype=torch.float64), rtol=1e-3)
    random_ratio = sensitivity_ratio(function, x, random_perturbations(x, 0.5, torch.Generator().manual_seed(1)))
    assert (random_ratio < top * 0.999).all()


def test_random_search_climbs_towards_the_worst_direction_without_gradients(linear_map):
    function, _, top, x = linear_map
    start = sensitivity_ratio(function, x, random_perturbations(x, 0.5, torch.Generator().manual_seed(0)))
    d = random_search_perturbations(function, x, 0.5, steps=300, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(d.norm(dim=1), torch.full((4,), 0.5, dtype=torch.float64))
    ratio = sensitivity_ratio(function, x, d)
    assert (ratio >= start).all() and (ratio > 0.97 * top).all()


def test_random_search_exposes_sensitivity_that_a_zero_gradient_hides():
    # A staircase in the first coordinate: its gradient is zero everywhere, but it moves by
    # up to 1 per 0.1 of input. PGD cannot improve on its random start; random search can.
    def staircase(v):
        return torch.floor(10 * v[:, :1])
    x = torch.full((64, 20), 0.05, dtype=torch.float64)
    pgd = sensitivity_ratio(staircase, x, pgd_perturbations(staircase, x, 0.3, 20, generator=torch.Generator().manual_seed(0)))
    search = sensitivity_ratio(staircase, x, random_search_perturbations(staircase, x, 0.3, 20,
                                                                         generator=torch.Generator().manual_seed(0)))
    assert search.mean() > 1.5 * pgd.mean()


def test_linear_probe_separates_separable_codes_and_scores_perturbed_ones():
    generator = torch.Generator().manual_seed(0)
    labels = torch.arange(200) % 2
    codes = torch.randn(200, 3, generator=generator) + 4 * labels[:, None].float()
    probe = fit_linear_probe(codes, labels)
    assert probe.score(codes.numpy(), labels.numpy()) == 1.0
    assert probe.score((codes - 4 * labels[:, None].float()).numpy(), labels.numpy()) < 0.7
