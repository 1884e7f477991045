import copy

import pytest
import torch

from aelib.models.autoencoders import Autoencoder
from aelib.models.batched import BatchedAutoencoder, split_history
from aelib.models.losses import cross_entropy
from aelib.training.loop import train

DATA = torch.rand(64, 20, generator=torch.Generator().manual_seed(0))
NOISE = [0.0, 0.25, 0.5]


def masked(x, fraction, uniform):
    return x * (uniform >= fraction)


def train_alone(initial, fraction, optimizer_class):
    model = copy.deepcopy(initial)
    noise, order = torch.Generator().manual_seed(1), torch.Generator().manual_seed(2)

    def loss(x):
        corrupted = masked(x, fraction, torch.rand(x.shape, generator=noise))
        return cross_entropy(model.decoder_pre_activation(model.encode(corrupted)), x)

    history = train(loss, optimizer_class(model.parameters(), lr=0.05), DATA, epochs=3, batch_size=8,
                    generator=order, progress=False)
    return model, history


def train_together(initial, optimizer_class):
    sweep = BatchedAutoencoder([copy.deepcopy(initial) for _ in NOISE])
    noise, order = torch.Generator().manual_seed(1), torch.Generator().manual_seed(2)
    fractions = torch.tensor(NOISE)[:, None, None]

    def loss(x):
        corrupted = masked(x[None], fractions, torch.rand(x.shape, generator=noise)[None])
        logits = sweep.decoder_pre_activation(sweep.encode(corrupted))
        return cross_entropy(logits, x)

    history = train(loss, optimizer_class(sweep.parameters(), lr=0.05), DATA, epochs=3, batch_size=8,
                    generator=order, progress=False)
    return sweep.unstack(), split_history(history, len(NOISE))


@pytest.mark.parametrize("optimizer_class", [torch.optim.SGD, torch.optim.Adam])
@pytest.mark.parametrize("tied", [True, False])
def test_each_model_of_a_sweep_ends_as_if_trained_alone(optimizer_class, tied):
    initial = Autoencoder(20, 7, tied=tied, generator=torch.Generator().manual_seed(3))
    together, histories = train_together(initial, optimizer_class)
    for k, fraction in enumerate(NOISE):
        alone, history = train_alone(initial, fraction, optimizer_class)
        for name, parameter in alone.named_parameters():
            assert torch.allclose(getattr(together[k], name), parameter, atol=1e-5), name
        assert [r["train_loss"] for r in histories[k]] == pytest.approx([r["train_loss"] for r in history],
                                                                         rel=1e-5)
    assert not torch.allclose(together[0].weight, together[2].weight)  # the settings did differ


def test_models_of_different_shapes_cannot_be_stacked():
    with pytest.raises(ValueError, match="one shape"):
        BatchedAutoencoder([Autoencoder(5, 3), Autoencoder(5, 4)])


def test_a_shared_batch_gives_each_model_its_own_code():
    models = [Autoencoder(5, 3, generator=torch.Generator().manual_seed(k)) for k in range(2)]
    x = torch.rand(4, 5)
    codes = BatchedAutoencoder(models).encode(x)
    assert codes.shape == (2, 4, 3)
    for k, model in enumerate(models):
        assert torch.allclose(codes[k], model.encode(x), atol=1e-6)


def test_a_saturating_alpha_sweep_keeps_its_units_and_ends_as_if_trained_alone():
    """Notebook 03's sweep: shrink units with their threshold, a penalty weight per model."""
    from aelib.models.losses import squared_error
    from aelib.penalties.saturation import saturating_autoencoder, saturation_penalty
    initial = saturating_autoencoder(20, 7, "shrink", shrink_threshold=0.3, generator=torch.Generator().manual_seed(3))
    alphas = [0.0, 0.5]

    def run(model, penalty, steps=20):
        optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
        for _ in range(steps):
            z = model.pre_activation(DATA)
            loss = squared_error(model.decode(model.encoder_activation(z)), DATA) + penalty(z)
            optimizer.zero_grad()
            loss.sum().backward()
            optimizer.step()
        return model

    sweep = BatchedAutoencoder([copy.deepcopy(initial) for _ in alphas])
    run(sweep, lambda z: torch.stack([saturation_penalty(z[k], "shrink", a, 0.3) for k, a in enumerate(alphas)]))
    together = sweep.unstack()
    for k, a in enumerate(alphas):
        alone = run(copy.deepcopy(initial), lambda z, a=a: saturation_penalty(z, "shrink", a, 0.3))
        assert together[k].encoder_activation_name == "shrink" and together[k].shrink_threshold == 0.3
        assert torch.allclose(together[k].encode(DATA), alone.encode(DATA), atol=1e-5)
        assert torch.allclose(together[k].weight, alone.weight, atol=1e-5)
    assert not torch.allclose(together[0].weight, together[1].weight)
    assert (together[1].encode(DATA) == 0).float().mean() > 0.1  # the shrink unit's flat region is in use


# ---- K VAEs of different latent sizes trained as one (aelib.models.batched.BatchedVAE) ----

from aelib.models.batched import BatchedVAE, batched_elbo, batched_elbo_means, negative_elbos  # noqa: E402
from aelib.models.vae import VAE, binarize, gaussian_kl_to_standard_normal  # noqa: E402
from aelib.penalties.regularizers import weight_decay, weight_decay_groups  # noqa: E402

LATENT_SIZES = [2, 3, 7]
IMAGES = torch.rand(40, 20, generator=torch.Generator().manual_seed(5))


def small_vaes(dtype=torch.float32):
    return [VAE(20, 9, j, init_std=0.3, generator=torch.Generator().manual_seed(10 + j)).to(dtype)
            for j in LATENT_SIZES]


def alone_negative_elbo(model, x, eps):
    """One model's -ELBO with given noise, from the pieces of aelib.models.vae (the reference)."""
    mean, log_variance = model.encode(x)
    z = mean + (0.5 * log_variance).exp() * eps
    return -(model.log_likelihood(x, z) - gaussian_kl_to_standard_normal(mean, log_variance)).mean()


def noise(step, n_rows, dtype=torch.float32):
    """The draw batched_elbo makes from a generator seeded with 100 + step, split per model."""
    eps = torch.randn((n_rows, sum(LATENT_SIZES)), generator=torch.Generator().manual_seed(100 + step), dtype=dtype)
    return eps.split(LATENT_SIZES, dim=1)


def test_batched_vae_gives_each_model_its_own_bound_and_gradient_in_float64():
    models = small_vaes(torch.float64)
    batched = BatchedVAE(copy.deepcopy(models))
    x = binarize(IMAGES.double(), torch.Generator().manual_seed(1))
    losses = negative_elbos(batched, x, torch.Generator().manual_seed(100))
    losses.sum().backward()
    eps = noise(0, len(x), torch.float64)
    for k, model in enumerate(models):
        loss = alone_negative_elbo(model, x, eps[k])
        loss.backward()
        torch.testing.assert_close(losses[k], loss.detach(), rtol=1e-12, atol=1e-10)
        j, head = LATENT_SIZES[k], batched.encoder_heads[k]
        pairs = [(batched.encoder_hidden_weight.grad[k], model.encoder_hidden.weight.grad),
                 (batched.encoder_hidden_bias.grad[k], model.encoder_hidden.bias.grad),
                 (head.weight.grad[:j], model.encoder_mean.weight.grad),
                 (head.bias.grad[:j], model.encoder_mean.bias.grad),
                 (head.weight.grad[j:], model.encoder_log_variance.weight.grad),
                 (head.bias.grad[j:], model.encoder_log_variance.bias.grad),
                 (batched.decoder_hidden[k].weight.grad, model.decoder_hidden.weight.grad),
                 (batched.decoder_hidden[k].bias.grad, model.decoder_hidden.bias.grad),
                 (batched.decoder_output_weight.grad[k].T, model.decoder_output.weight.grad),
                 (batched.decoder_output_bias.grad[k], model.decoder_output.bias.grad)]
        for together, alone in pairs:
            torch.testing.assert_close(together, alone, rtol=1e-10, atol=1e-12)
    assert not torch.allclose(losses[0], losses[2])  # the models did differ


def test_each_vae_of_a_batched_run_ends_as_if_trained_alone_with_adagrad_and_the_weight_prior():
    """Adagrad is elementwise, so each model's slice is updated as a separate run would update it,
    and the weight prior applied by the optimizer is the gradient of weight_decay in the loss."""
    steps, lam = 15, 0.05
    binarization = torch.Generator().manual_seed(3)
    batches = [binarize(IMAGES[(step * 8) % 40:(step * 8) % 40 + 8], binarization) for step in range(steps)]

    batched = BatchedVAE(small_vaes())
    optimizer = torch.optim.Adagrad(weight_decay_groups(batched.parameters(), batched.decoder_weights(), lam),
                                    lr=0.05, fused=True)
    for step, x in enumerate(batches):
        loss = negative_elbos(batched, x, torch.Generator().manual_seed(100 + step))
        optimizer.zero_grad(set_to_none=True)
        loss.sum().backward()
        optimizer.step()

    for k, (model, together) in enumerate(zip(small_vaes(), batched.unstack())):
        optimizer = torch.optim.Adagrad(model.parameters(), lr=0.05)  # the default (unfused) update
        for step, x in enumerate(batches):
            loss = alone_negative_elbo(model, x, noise(step, len(x))[k]) + weight_decay(
                [model.decoder_hidden.weight, model.decoder_output.weight], lam)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        for (name, alone), trained in zip(model.named_parameters(), together.parameters()):
            torch.testing.assert_close(trained, alone, rtol=1e-4, atol=1e-5, msg=name)
        assert not torch.allclose(together.decoder_output.weight, small_vaes()[k].decoder_output.weight)


def test_unstack_returns_the_models_it_was_built_from():
    models = small_vaes()
    batched = BatchedVAE(copy.deepcopy(models))
    x = IMAGES[:5]
    means, log_variances = batched.encode(x)
    images = batched.decode([m.detach() for m in means])
    for k, (model, copied) in enumerate(zip(models, batched.unstack())):
        for (name, a), b in zip(model.state_dict().items(), copied.state_dict().values()):
            assert torch.equal(a, b), name
        mean, log_variance = model.encode(x)
        torch.testing.assert_close(means[k], mean)
        torch.testing.assert_close(log_variances[k], log_variance)
        torch.testing.assert_close(images[k], model.decode(mean), atol=1e-6, rtol=1e-5)
    assert batched.filters().shape == (3, 9, 20)


def test_batched_elbo_means_are_the_means_of_the_batched_bound():
    batched = BatchedVAE(small_vaes())
    x = binarize(IMAGES, torch.Generator().manual_seed(4))
    means = batched_elbo_means(batched, x, torch.Generator().manual_seed(5), batch_size=7)
    # in batches of 7 the noise is drawn 7 rows at a time: the same draws as one call per batch
    generator = torch.Generator().manual_seed(5)
    with torch.no_grad():
        parts = [batched_elbo(batched, x[i:i + 7], generator) for i in range(0, len(x), 7)]
    for name, mean in zip(means._fields, means):
        torch.testing.assert_close(mean, torch.cat([getattr(p, name) for p in parts], dim=1).mean(1))
    torch.testing.assert_close(means.bound, means.reconstruction_log_likelihood - means.kl)


def test_batched_vae_refuses_models_of_different_hidden_sizes_or_a_gaussian_decoder():
    with pytest.raises(ValueError, match="one input size, hidden size"):
        BatchedVAE([VAE(20, 9, 2), VAE(20, 8, 2)])
    with pytest.raises(ValueError, match="Bernoulli"):
        BatchedVAE([VAE(20, 9, 2, decoder="gaussian"), VAE(20, 9, 3, decoder="gaussian")])
