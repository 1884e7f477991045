"""The VAE measures notebook 05 composes: ELBO and importance-weighted estimates, the last decade of the
bound curves, the 2-D latent space and the Gaussian decoder's squared-error identity."""

import math

import matplotlib

matplotlib.use("Agg")
import pytest  # noqa: E402
import torch  # noqa: E402

from aelib.measures.gaussian_likelihood import squared_error_identity  # noqa: E402
from aelib.measures.latent_space import (  # noqa: E402
    decoded_manifold,
    latent_grid,
    nearest_neighbour_accuracy,
    posterior_means,
)
from aelib.measures.vae_bounds import (  # noqa: E402
    elbo_and_importance_weighted,
    gap_diagnosis,
    gap_over_last_decade,
    gap_standard_error,
    importance_weighting_tightens,
    last_decade_of_curves,
)
from aelib.models.vae import VAE, elbo, importance_weighted_log_likelihood  # noqa: E402
from aelib.plotting import bound_curves, image_rows  # noqa: E402
from aelib.training.loop import seconds_per_epoch  # noqa: E402


def small_vae(**options):
    return VAE(6, 4, 2, hidden_activation="tanh", init_std=0.1, generator=torch.Generator().manual_seed(0), **options)


def test_elbo_and_importance_weighted_repeats_the_notebooks_loop():
    model, x = small_vae(), (torch.rand(7, 6, generator=torch.Generator().manual_seed(1)) > 0.5).float()
    row = elbo_and_importance_weighted(model, x, [1, 4], torch.Generator().manual_seed(2), elbo_batch=3,
                                       importance_batch=2)
    generator = torch.Generator().manual_seed(2)  # the notebook's former inline loop, same draws in the same order
    with torch.no_grad():
        expected = {"subset_elbo_nats": torch.cat([elbo(model, x[i:i + 3], generator).bound
                                                   for i in range(0, 7, 3)]).mean().item()}
        for k in (1, 4):
            expected[f"log_px_iw_k{k}_nats"] = torch.cat([importance_weighted_log_likelihood(model, x[i:i + 2], k, generator)
                                                          for i in range(0, 7, 2)]).mean().item()
    assert row == expected


def test_importance_weighting_tightens_by_hand():
    row = {"subset_elbo_nats": -100.0, "log_px_iw_k1_nats": -101.0, "log_px_iw_k10_nats": -99.0}
    assert importance_weighting_tightens(row, [1, 10])
    assert not importance_weighting_tightens(row | {"log_px_iw_k10_nats": -100.5}, [1, 10])  # below the ELBO
    assert not importance_weighting_tightens(row | {"log_px_iw_k10_nats": -101.5}, [1, 10])  # falls


def test_last_decade_of_curves_by_hand():
    curves = [{"samples": s, "train_bound": {2: t}, "test_bound": {2: u}}
              for s, t, u in ((10, -200, -210), (100, -150, -152), (500, -149, -150.5), (1000, -148, -150.7))]
    last, worst_step, weakest_rise = last_decade_of_curves(curves, [2], 1000)
    assert [row["samples"] for row in last] == [100, 500, 1000]
    assert worst_step == pytest.approx(-0.2) and weakest_rise == pytest.approx(1.3)


def test_gap_over_last_decade_by_hand():
    curves = [{"samples": s, "train_bound": {2: t, 5: t}, "test_bound": {2: u, 5: u + 1}}
              for s, t, u in ((10, -200, -210), (100, -150, -152), (500, -149, -150.5), (1000, -148, -150.7))]
    last_decade = last_decade_of_curves(curves, [2, 5], 1000)[0]
    assert gap_over_last_decade(last_decade, [2, 5]) == {2: pytest.approx((2.0, 2.7)), 5: pytest.approx((1.0, 1.7))}


def test_gap_diagnosis_tells_growth_from_level():
    error = {2: 0.3, 5: 0.3}
    grown = gap_diagnosis({2: (0.6, 1.5), 5: (0.9, 1.0)}, error, (1_000_000, 10_000_000))
    assert grown.startswith("train - test from 1e+06 to 1e+07 samples: N_z=2 +0.6 to +1.5, N_z=5 +0.9 to +1.0 nats")
    assert "the widest, N_z=2 +1.5, is 5.0 standard errors from 0" in grown
    assert "at 1 of 2 latent sizes (N_z=2): the train bound pulls ahead" in grown
    level = gap_diagnosis({2: (1.2, 1.5), 5: (0.9, 1.0)}, error, (1_000_000, 10_000_000))
    assert "at 0 of 2 latent sizes: the gap is the level it started from" in level


def test_gap_standard_error_by_hand():
    model, generator = small_vae(), torch.Generator().manual_seed(3)
    train, test = ((torch.rand(n, 6, generator=generator) > 0.5).float() for n in (40, 25))
    with torch.no_grad():  # the same draws in the same order: the train digits first
        replay = torch.Generator().manual_seed(4)
        bounds = [elbo(model, images, replay).bound for images in (train, test)]
    expected = math.sqrt(bounds[0].var().item() / 40 + bounds[1].var().item() / 25)
    assert gap_standard_error(model, train, test, torch.Generator().manual_seed(4)) == pytest.approx(expected)
    assert expected > 0


def test_latent_grid_and_manifold():
    grid = latent_grid(3)
    assert grid.shape == (9, 2) and grid[0, 0] < 0 < grid[0, 1] and grid[4].abs().max() < 1e-6
    assert torch.allclose(grid[:3, 0], torch.special.ndtri(torch.tensor([1 / 6, 0.5, 5 / 6])), atol=1e-6)
    model = VAE(4, 3, 2, hidden_activation="tanh", init_std=0.1, generator=torch.Generator().manual_seed(0))
    image = decoded_manifold(model, 3, image_side=2)
    with torch.no_grad():
        first = model.decode(grid[:1]).reshape(2, 2)
    assert image.shape == (6, 6) and torch.equal(image[:2, :2], first)


def test_posterior_means_in_batches_and_nearest_neighbours():
    model, x = small_vae(), torch.rand(5, 6, generator=torch.Generator().manual_seed(1))
    assert torch.allclose(posterior_means(model, x, batch_size=2), posterior_means(model, x), atol=1e-6)
    points, labels = torch.tensor([[0.0, 0.0], [0.1, 0.0], [5.0, 5.0], [5.1, 5.0]]), torch.tensor([0, 0, 1, 1])
    assert nearest_neighbour_accuracy(points, labels, torch.tensor([[0.0, 0.1], [4.9, 5.0]]), torch.tensor([0, 0]), 1) == 0.5


def test_squared_error_identity_holds_and_is_measured_by_hand():
    model = small_vae(decoder="gaussian", decoder_variance=0.3, learn_decoder_variance=True)
    x = torch.rand(4, 6, generator=torch.Generator().manual_seed(1))
    result = squared_error_identity(model, x)
    assert result["learned_variance"] == pytest.approx(0.3, rel=1e-5) and result["identity_gap"] < 1e-4
    with torch.no_grad():
        mean = model.decode(model.encode(x)[0])
    assert torch.allclose(result["squared_error"], ((x - mean) ** 2).sum(-1))
    assert math.isfinite(result["identity_gap"])


def test_bound_curves_and_image_rows_draw_their_panels():
    curves = [{"samples": s, "train_bound": {2: -s}, "test_bound": {2: -2 * s}} for s in (100, 1000)]
    figure = bound_curves(curves, [2])
    assert len(figure.axes) == 1 and figure.axes[0].get_xscale() == "log" and len(figure.axes[0].lines) == 2
    figure = image_rows({"a": torch.rand(3, 4), "b": torch.rand(3, 4)}, "t", 3, image_shape=(2, 2))
    assert len(figure.axes) == 6 and figure.axes[0].get_ylabel() == "a"


def test_seconds_per_epoch():
    assert seconds_per_epoch([{"seconds": 1.0}, {"seconds": 3.0}]) == 2.0


def test_grey_image_and_labelled_scatter():
    from aelib.plotting import grey_image, labelled_scatter
    figure = grey_image(torch.rand(4, 4))
    assert len(figure.axes[0].images) == 1 and not figure.axes[0].axison
    figure = labelled_scatter(torch.rand(5, 2), torch.tensor([0, 1, 2, 3, 4]), xlabel="z1", ylabel="z2")
    assert len(figure.axes) == 2 and figure.axes[0].get_xlabel() == "z1"  # the points and the colour bar
    assert figure.axes[1].get_ylabel() == "digit"
