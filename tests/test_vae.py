"""Tests for aelib.models.vae: the mathematics of the bound, checked against references."""

from __future__ import annotations

import math

import pytest
import torch
from torch.distributions import Bernoulli, Independent, Normal, kl_divergence

from aelib.models.vae import (
    VAE,
    bernoulli_log_likelihood,
    binarize,
    bounded_log_variance,
    elbo,
    gaussian_kl_to_standard_normal,
    gaussian_log_density,
    importance_weighted_log_likelihood,
)
from aelib.training.loop import NonFiniteLossError, train


def test_analytic_kl_matches_monte_carlo_estimate_in_float64():
    generator = torch.Generator().manual_seed(0)
    mean = torch.randn(3, 4, generator=generator, dtype=torch.float64)
    log_variance = torch.randn(3, 4, generator=generator, dtype=torch.float64)
    analytic = gaussian_kl_to_standard_normal(mean, log_variance)
    # KL = E_q[log q(z) - log p(z)], estimated with 400,000 samples per example
    std = (0.5 * log_variance).exp()
    z = mean + std * torch.randn(400_000, 3, 4, generator=generator, dtype=torch.float64)
    log_q = Normal(mean, std).log_prob(z).sum(-1)
    log_p = Normal(0.0, 1.0).log_prob(z).sum(-1)
    monte_carlo = (log_q - log_p).mean(0)
    standard_error = (log_q - log_p).std(0) / math.sqrt(400_000)
    assert torch.all((analytic - monte_carlo).abs() < 4 * standard_error)
    # and it is torch.distributions' closed form, to rounding
    reference = kl_divergence(Independent(Normal(mean, std), 1), Independent(Normal(0.0, torch.ones_like(std)), 1))
    torch.testing.assert_close(analytic, reference)


def test_kl_is_zero_exactly_at_the_prior_and_positive_elsewhere():
    zeros = torch.zeros(2, 5, dtype=torch.float64)
    assert torch.equal(gaussian_kl_to_standard_normal(zeros, zeros), torch.zeros(2, dtype=torch.float64))
    assert torch.all(gaussian_kl_to_standard_normal(zeros + 0.1, zeros) > 0)
    assert torch.all(gaussian_kl_to_standard_normal(zeros, zeros - 0.1) > 0)


def test_bernoulli_log_likelihood_matches_torch_distributions():
    generator = torch.Generator().manual_seed(1)
    logits = 5 * torch.randn(6, 784, generator=generator, dtype=torch.float64)
    x = torch.bernoulli(torch.full((6, 784), 0.3, dtype=torch.float64), generator=generator)
    reference = Bernoulli(logits=logits).log_prob(x).sum(-1)
    torch.testing.assert_close(bernoulli_log_likelihood(logits, x), reference)
    assert bernoulli_log_likelihood(logits, x).shape == (6,)  # summed over pixels, one per example


def test_bernoulli_log_likelihood_stays_finite_for_saturated_logits():
    logits = torch.tensor([[200.0, -200.0]])
    assert torch.isfinite(bernoulli_log_likelihood(logits, torch.tensor([[0.0, 1.0]]))).all()


def test_gaussian_log_density_is_the_squared_error_identity():
    generator = torch.Generator().manual_seed(2)
    x, mean = torch.rand(4, 784, generator=generator, dtype=torch.float64), torch.rand(4, 784, generator=generator,
                                                                                        dtype=torch.float64)
    variance = 0.07
    log_variance = torch.tensor(math.log(variance), dtype=torch.float64)
    squared_error = (x - mean).pow(2).sum(-1)
    identity = -squared_error / (2 * variance) - 784 / 2 * math.log(2 * math.pi * variance)
    torch.testing.assert_close(gaussian_log_density(x, mean, log_variance), identity)
    reference = Normal(mean, math.sqrt(variance)).log_prob(x).sum(-1)
    torch.testing.assert_close(gaussian_log_density(x, mean, log_variance), reference)


def test_bounded_log_variance_is_near_identity_and_bounded():
    raw = torch.tensor([-1e6, -0.01, 0.0, 0.01, 1e6], dtype=torch.float64)
    bounded = bounded_log_variance(raw, 10.0)
    assert bounded.abs().max() <= 10.0
    torch.testing.assert_close(bounded[1:4], raw[1:4], rtol=1e-5, atol=0)
    assert torch.isfinite(bounded.exp()).all() and (bounded.exp() > 0).all()


def small_model(decoder="bernoulli", **kwargs):
    torch.manual_seed(0)
    return VAE(12, 8, 3, decoder=decoder, init_std=0.5, generator=torch.Generator().manual_seed(0), **kwargs).double()


def test_elbo_terms_are_per_example_and_consistent():
    model = small_model()
    x = torch.bernoulli(torch.full((5, 12), 0.4, dtype=torch.float64), generator=torch.Generator().manual_seed(3))
    terms = elbo(model, x, torch.Generator().manual_seed(4))
    assert terms.bound.shape == terms.kl.shape == terms.reconstruction_log_likelihood.shape == (5,)
    torch.testing.assert_close(terms.bound, terms.reconstruction_log_likelihood - terms.kl)
    mean, log_variance = model.encode(x)
    torch.testing.assert_close(terms.kl, gaussian_kl_to_standard_normal(mean, log_variance))
    # the same eps reproduces the reconstruction term by hand
    z = mean + (0.5 * log_variance).exp() * torch.randn(mean.shape, generator=torch.Generator().manual_seed(4),
                                                        dtype=torch.float64)
    logits = model.decoder_output(torch.tanh(model.decoder_hidden(z)))
    torch.testing.assert_close(terms.reconstruction_log_likelihood, Bernoulli(logits=logits).log_prob(x).sum(-1))


def test_elbo_is_below_the_exact_log_likelihood():
    """In a model with one binary pixel and z in 1-D, log p(x) is computed by quadrature;
    the expected ELBO must lie below it and the IW estimate with many samples near it."""
    model = VAE(1, 4, 1, init_std=1.0, generator=torch.Generator().manual_seed(5)).double()
    x = torch.ones(1, 1, dtype=torch.float64)
    grid = torch.linspace(-12, 12, 200_001, dtype=torch.float64).unsqueeze(-1)
    joint = model.log_likelihood(x, grid) + Normal(0.0, 1.0).log_prob(grid).squeeze(-1)
    exact = torch.logsumexp(joint, 0) + math.log(grid[1, 0] - grid[0, 0])
    expected_bound = elbo(model, x.expand(100_000, 1), torch.Generator().manual_seed(6)).bound.mean()
    assert expected_bound < exact
    estimate = importance_weighted_log_likelihood(model, x, 20_000, torch.Generator().manual_seed(7))
    assert abs(estimate.item() - exact.item()) < 0.01


def test_importance_weighted_estimate_equals_elbo_at_k1_and_rises_with_k():
    model = small_model()
    x = torch.bernoulli(torch.full((400, 12), 0.4, dtype=torch.float64), generator=torch.Generator().manual_seed(8))
    x_many = x.repeat(200, 1)  # 80,000 independent draws of each estimator
    with torch.no_grad():
        bound = elbo(model, x_many, torch.Generator().manual_seed(9)).bound
    iw1 = importance_weighted_log_likelihood(model, x_many, 1, torch.Generator().manual_seed(10))
    iw10 = importance_weighted_log_likelihood(model, x_many, 10, torch.Generator().manual_seed(11))
    iw100 = importance_weighted_log_likelihood(model, x, 100, torch.Generator().manual_seed(12))
    n = len(x_many)
    difference_error = math.sqrt(bound.var() / n + iw1.var() / n)
    assert abs(iw1.mean() - bound.mean()) < 4 * difference_error  # the same expectation at k = 1
    assert iw10.mean() > bound.mean() + 4 * difference_error  # tighter on average
    assert iw100.mean() > iw10.mean()  # and tighter still


def test_importance_weighted_estimate_with_the_same_samples_equals_elbo_at_k1():
    """With k = 1 and the same eps, log w = log p(x|z) + log p(z) - log q(z|x), whose
    difference from the ELBO sample is the single-sample KL estimate minus the analytic one."""
    model = small_model()
    x = torch.bernoulli(torch.full((3, 12), 0.5, dtype=torch.float64), generator=torch.Generator().manual_seed(14))
    iw = importance_weighted_log_likelihood(model, x, 1, torch.Generator().manual_seed(15))
    mean, log_variance = model.encode(x)
    eps = torch.randn((1, *mean.shape), generator=torch.Generator().manual_seed(15), dtype=torch.float64)[0]
    z = mean + (0.5 * log_variance).exp() * eps
    by_hand = (Bernoulli(logits=model.decoder_output_layer(z)).log_prob(x).sum(-1)
               + Normal(0.0, 1.0).log_prob(z).sum(-1) - Normal(mean, (0.5 * log_variance).exp()).log_prob(z).sum(-1))
    torch.testing.assert_close(iw, by_hand)


def test_importance_weighted_chunking_does_not_change_the_estimate():
    model = small_model("gaussian")
    x = torch.rand(4, 12, dtype=torch.float64, generator=torch.Generator().manual_seed(16))
    whole = importance_weighted_log_likelihood(model, x, 30, torch.Generator().manual_seed(17), samples_per_chunk=30)
    # chunks draw eps in another order, so compare against a manual concatenation
    generator = torch.Generator().manual_seed(17)
    eps = torch.randn((30, 4, 3), generator=generator, dtype=torch.float64)
    mean, log_variance = model.encode(x)
    z = mean + (0.5 * log_variance).exp() * eps
    log_w = (model.log_likelihood(x, z) + Normal(0.0, 1.0).log_prob(z).sum(-1)
             - Normal(mean, (0.5 * log_variance).exp()).log_prob(z).sum(-1))
    torch.testing.assert_close(whole, torch.logsumexp(log_w, 0) - math.log(30))
    chunked = importance_weighted_log_likelihood(model, x, 30, torch.Generator().manual_seed(17), samples_per_chunk=7)
    assert chunked.shape == whole.shape and torch.isfinite(chunked).all()


def test_gaussian_decoder_fixed_variance_is_scaled_squared_error():
    model = small_model("gaussian", decoder_variance=0.5, learn_decoder_variance=False)
    assert not any(p is model.decoder_raw_log_variance for p in model.parameters())
    x = torch.rand(4, 12, dtype=torch.float64, generator=torch.Generator().manual_seed(18))
    z = torch.randn(4, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(19))
    squared_error = (x - model.decode(z)).pow(2).sum(-1)
    torch.testing.assert_close(model.log_likelihood(x, z), -squared_error - 12 / 2 * math.log(math.pi))


def test_gaussian_decoder_learned_variance_is_a_bounded_parameter():
    model = small_model("gaussian", decoder_variance=0.1, log_variance_limit=3.0)
    assert model.decoder_log_variance().item() == pytest.approx(math.log(0.1))  # starts where asked
    assert any(p is model.decoder_raw_log_variance for p in model.parameters())
    with torch.no_grad():
        model.decoder_raw_log_variance.fill_(-1e9)
    assert model.decoder_log_variance().item() == pytest.approx(-3.0)


def test_encoder_log_variance_cannot_overflow():
    model = small_model(log_variance_limit=5.0)
    with torch.no_grad():
        model.encoder_log_variance.bias.fill_(1e6)
    x = torch.ones(2, 12, dtype=torch.float64)
    _, log_variance = model.encode(x)
    assert log_variance.max() <= 5.0
    assert torch.isfinite(elbo(model, x).bound).all()


def test_binarize_keeps_zeros_and_ones_and_matches_intensity_on_average():
    generator = torch.Generator().manual_seed(20)
    x = torch.tensor([0.0, 1.0, 0.25]).expand(100_000, 3)
    binary = binarize(x, generator)
    assert set(binary.unique().tolist()) <= {0.0, 1.0}
    assert binary[:, 0].sum() == 0 and binary[:, 1].sum() == 100_000
    assert abs(binary[:, 2].mean().item() - 0.25) < 0.01


def test_training_reduces_the_negative_elbo_and_a_nan_stops_it():
    torch.manual_seed(0)
    prototypes = (torch.rand(4, 12, generator=torch.Generator().manual_seed(21)) > 0.5).float()
    x = prototypes[torch.arange(256) % 4]  # four binary patterns: the code can tell them apart
    model = VAE(12, 16, 2, init_std=None, generator=torch.Generator().manual_seed(22))
    history = train(lambda batch: -elbo(model, batch).bound.mean(), torch.optim.Adam(model.parameters(), lr=3e-2),
                    x, epochs=10, batch_size=64, test_data=x, progress=False)
    assert history[-1]["test_loss"] < history[0]["test_loss"] - 2.0
    with torch.no_grad():
        model.decoder_output.bias[0] = float("nan")
    with pytest.raises(NonFiniteLossError):
        train(lambda batch: -elbo(model, batch).bound.mean(), torch.optim.Adam(model.parameters(), lr=1e-2),
              x, epochs=1, batch_size=32, progress=False)


def test_constructor_rejects_bad_settings():
    with pytest.raises(ValueError, match="decoder"):
        VAE(decoder="poisson")
    with pytest.raises(ValueError, match="decoder_variance"):
        VAE(decoder="gaussian", decoder_variance=0.0)
    with pytest.raises(ValueError, match="decoder_variance"):
        VAE(decoder="gaussian", decoder_variance=1e5, log_variance_limit=10.0)
    with pytest.raises(ValueError, match="k must"):
        importance_weighted_log_likelihood(small_model(), torch.zeros(1, 12, dtype=torch.float64), 0)
