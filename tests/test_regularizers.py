"""Each entry of aelib.penalties.regularizers against a two-line reference computation on a tiny input."""

from __future__ import annotations

import pytest
import torch

from aelib.models.autoencoders import Autoencoder
from aelib.models.batched import BatchedAutoencoder
from aelib.models.rank_ordered import RankOrderedAutoencoder, rank_ordered_loss
from aelib.models.vae import VAE
from aelib.penalties.contractive import autograd_jacobian_norm_squared
from aelib.penalties.regularizers import REGULARIZERS, training_loss, weight_decay, weight_decay_groups
from aelib.penalties.saturation import saturating_autoencoder

X = torch.rand(6, 10, dtype=torch.float64, generator=torch.Generator().manual_seed(0))


def sigmoid_model(tied=True):
    return Autoencoder(10, 4, tied=tied, generator=torch.Generator().manual_seed(1)).double()


def cross_entropy_reference(model, inputs, x):
    z = torch.sigmoid(model.decoder_pre_activation(torch.sigmoid(inputs @ model.weight.T + model.hidden_bias)))
    return -(x * z.log() + (1 - x) * (1 - z).log()).sum(dim=1).mean()


def test_plain_is_the_cross_entropy_of_the_reconstruction():
    model = sigmoid_model()
    assert torch.allclose(training_loss("plain AE", model)(X), cross_entropy_reference(model, X, X))


@pytest.mark.parametrize("tied", [True, False])
def test_weight_decay_adds_half_lambda_times_the_squared_weights(tied):
    model = sigmoid_model(tied)
    squares = model.weight.pow(2).sum() + (0 if tied else model.decoder_weight.pow(2).sum())
    expected = cross_entropy_reference(model, X, X) + 0.3 / 2 * squares
    assert torch.allclose(training_loss("weight decay", model, 0.3)(X), expected)
    assert weight_decay([torch.ones(2, 2)], 0.5).item() == 1.0  # lambda/2 * 4


@pytest.mark.parametrize("optimizer_class", [torch.optim.SGD, torch.optim.Adagrad, torch.optim.Adam])
def test_weight_decay_groups_step_as_the_penalty_in_the_loss(optimizer_class):
    """lambda W added to the gradient by the optimizer is the gradient of weight_decay in the loss."""
    def run(penalty_in_loss):
        model = sigmoid_model(tied=False)
        decayed = [model.decoder_weight]
        parameters = (model.parameters() if penalty_in_loss else
                      weight_decay_groups(model.parameters(), decayed, 0.3))
        optimizer = optimizer_class(parameters, lr=0.05)
        for _ in range(5):
            loss = training_loss("plain AE", model)(X) + (weight_decay(decayed, 0.3) if penalty_in_loss else 0)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return model

    in_loss, in_optimizer = run(True), run(False)
    for (name, a), b in zip(in_loss.named_parameters(), in_optimizer.parameters()):
        torch.testing.assert_close(a, b, msg=name)
    assert not torch.allclose(in_loss.decoder_weight, sigmoid_model(tied=False).decoder_weight)
    groups = weight_decay_groups(in_loss.parameters(), [in_loss.decoder_weight], 0.3)
    assert [len(g["params"]) for g in groups] == [1, 3] and [g["weight_decay"] for g in groups] == [0.3, 0.0]


def test_l1_and_kl_sparsity_add_their_penalties_on_the_code():
    model = sigmoid_model()
    h = torch.sigmoid(X @ model.weight.T + model.hidden_bias)
    base = cross_entropy_reference(model, X, X)
    assert torch.allclose(training_loss("L1 activity", model, 0.2)(X), base + 0.2 * h.abs().sum(1).mean())
    rho, rho_hat = 0.1, h.mean(0)
    kl = (rho * (rho / rho_hat).log() + (1 - rho) * ((1 - rho) / (1 - rho_hat)).log()).sum()
    assert torch.allclose(training_loss("KL sparsity", model, 3.0, kl_target=rho)(X), base + 3.0 * kl)


def test_denoising_reconstructs_the_clean_input_from_the_masked_copy():
    model = sigmoid_model()
    loss = training_loss("denoising", model, 0.5, generator=torch.Generator().manual_seed(4))(X)
    keep = torch.rand(X.shape, generator=torch.Generator().manual_seed(4)) >= 0.5  # float32 draws, as masking_noise
    masked = X * keep
    assert torch.allclose(loss, cross_entropy_reference(model, masked, X))
    assert not torch.allclose(loss, cross_entropy_reference(model, X, X))


def test_denoising_trains_a_batched_sweep_with_one_fraction_per_model():
    sweep = BatchedAutoencoder([sigmoid_model(), sigmoid_model()])
    fractions = torch.tensor([0.0, 0.5], dtype=torch.float64)
    losses = training_loss("denoising", sweep, fractions, generator=torch.Generator().manual_seed(4))(X)
    assert losses.shape == (2,)
    assert torch.allclose(losses[0], cross_entropy_reference(sigmoid_model(), X, X))


def test_contractive_adds_lambda_times_the_jacobian_norm():
    model = sigmoid_model()
    expected = cross_entropy_reference(model, X, X) + 0.7 * autograd_jacobian_norm_squared(model.encode, X).mean()
    assert torch.allclose(training_loss("contractive", model, 0.7)(X), expected)


@pytest.mark.parametrize("masking", [0.0, 0.3])
def test_saturating_adds_alpha_times_the_complementary_function_of_the_units(masking):
    model = saturating_autoencoder(10, 4, "saturated_linear", generator=torch.Generator().manual_seed(1)).double()
    loss = training_loss("saturating", model, 0.4, generator=torch.Generator().manual_seed(5), masking_fraction=masking)(X)
    inputs = X if masking == 0 else X * (torch.rand(X.shape, generator=torch.Generator().manual_seed(5)) >= masking)
    z = inputs @ model.weight.T + model.hidden_bias
    reconstruction = z.clamp(0, 1) @ model.weight + model.visible_bias
    f_c = torch.minimum(z.relu(), (1 - z).relu())  # the distance to the flat parts of clip(z, 0, 1)
    expected = (reconstruction - X).pow(2).sum(1).mean() + 0.4 * f_c.sum(1).mean()
    assert torch.allclose(loss, expected)


def test_rank_ordered_and_vae_have_no_weight_and_match_their_losses():
    model = RankOrderedAutoencoder(10, 4, generator=torch.Generator().manual_seed(1)).double()
    assert torch.allclose(training_loss("rank-ordered", model)(X), rank_ordered_loss(model.encode(X), model.weight, X))
    vae = VAE(10, 8, 2, generator=torch.Generator().manual_seed(1)).double()
    value = training_loss("VAE", vae, generator=torch.Generator().manual_seed(2))(X)
    assert value.ndim == 0 and value > 0  # nats: minus a log-likelihood bound of binary-ish data
    with pytest.raises(ValueError, match="no weight"):
        training_loss("rank-ordered", model, 0.5)


def test_unknown_names_and_negative_weights_are_refused_with_the_known_names():
    with pytest.raises(ValueError, match="known: plain AE, weight decay"):
        training_loss("dropout", sigmoid_model())
    with pytest.raises(ValueError, match=">= 0"):
        training_loss("contractive", sigmoid_model(), -1.0)
    assert all(entry.source for entry in REGULARIZERS.values())
