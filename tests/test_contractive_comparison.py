"""Study 06's candidates: trained from one initial model, measured by the closed form (Rifai et al. 2011, eq. 5)."""

import pytest
import torch

from aelib.models.autoencoders import Autoencoder
from aelib.penalties.contractive import autograd_jacobian_norm_squared
from aelib.training.contractive_comparison import candidate_measures, code_probe, fit_candidate, probe_score


@pytest.fixture
def digits():
    generator = torch.Generator().manual_seed(0)
    return torch.rand(80, 20, generator=generator), torch.arange(80) % 2


def test_a_candidate_trains_from_a_copy_and_is_measured(digits):
    images, labels = digits
    initial = Autoencoder(20, 6, tied=True, generator=torch.Generator().manual_seed(1))
    before = initial.weight.detach().clone()
    model, history, seconds = fit_candidate(initial, "CAE", 0.3, images[:60], images[60:], epochs=2, batch_size=20,
                                            learning_rate=1e-2, seed=0)
    assert len(history) == 2 and "test_loss" in history[-1] and seconds >= 0
    assert torch.equal(initial.weight, before) and not torch.equal(model.weight, before)  # trained a copy
    probe = code_probe(model, images[:60], labels[:60], seed=0)
    row = candidate_measures(model, probe, images[60:], images[60:], labels[60:], saturation_margin=0.05)
    assert row["test_probe_accuracy"] == probe_score(probe, model, images[60:], labels[60:])
    assert 0 <= row["saturated_fraction"] <= 1 and 0 < row["mean_activation"] < 1
    expected = autograd_jacobian_norm_squared(model.encode, images[60:]).sqrt().mean().item()
    assert row["jacobian_frobenius_norm"] == pytest.approx(expected, rel=1e-4)


def test_an_unknown_regularizer_is_refused(digits):
    images, _ = digits
    with pytest.raises(KeyError):
        fit_candidate(Autoencoder(20, 6, tied=True), "SAE", 0.1, images, images, epochs=1, batch_size=20,
                      learning_rate=1e-2, seed=0)
