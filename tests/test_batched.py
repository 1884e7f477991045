import copy

import pytest
import torch

from aelib.batched import BatchedAutoencoder, split_history
from aelib.losses import cross_entropy
from aelib.models import Autoencoder
from aelib.training import train

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
    from aelib.losses import squared_error
    from aelib.saturation import saturating_autoencoder, saturation_penalty
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
