import pytest
import torch

from aelib.models.autoencoders import Autoencoder, StackedAutoencoder


def test_tied_decoder_uses_the_transposed_encoder_weights():
    model = Autoencoder(6, 4, generator=torch.Generator().manual_seed(0))
    x = torch.rand(3, 6)
    h = torch.sigmoid(x @ model.weight.T + model.hidden_bias)
    expected = torch.sigmoid(h @ model.weight + model.visible_bias)
    assert torch.allclose(model(x), expected)
    assert len(list(model.parameters())) == 3


def test_untied_model_has_its_own_decoder_weights():
    model = Autoencoder(6, 4, tied=False, decoder_activation="linear")
    x = torch.rand(3, 6)
    expected = model.encode(x) @ model.decoder_weight.T + model.visible_bias
    assert torch.allclose(model(x), expected)
    assert len(list(model.parameters())) == 4


def test_initial_weights_follow_the_generator_and_the_tutorial_range():
    a = Autoencoder(784, 500, generator=torch.Generator().manual_seed(3))
    b = Autoencoder(784, 500, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a.weight, b.weight)
    bound = 4 * (6 / (784 + 500)) ** 0.5
    assert a.weight.abs().max() <= bound
    assert a.weight.abs().max() > 0.95 * bound


def test_unknown_activation_is_named_in_the_error():
    with pytest.raises(ValueError, match="softsign.*known"):
        Autoencoder(4, 2, encoder_activation="softsign")


def test_stack_encodes_through_every_layer_and_checks_sizes():
    first, second = Autoencoder(8, 5), Autoencoder(5, 3)
    stack = StackedAutoencoder([first, second])
    x = torch.rand(2, 8)
    assert torch.allclose(stack.encode(x), second.encode(first.encode(x)))
    assert stack.encode(x, depth=1).shape == (2, 5)
    assert stack(x).shape == (2, 8)
    with pytest.raises(ValueError, match="do not chain"):
        StackedAutoencoder([Autoencoder(8, 5), Autoencoder(4, 3)])
