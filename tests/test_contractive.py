"""The contractive penalty (Rifai et al. 2011): closed form, autograd and finite differences agree."""

import pytest
import torch

from aelib.measures.spectra import jacobian_singular_values
from aelib.models.autoencoders import Autoencoder, StackedAutoencoder
from aelib.penalties.contractive import (
    autograd_jacobian_norm_squared,
    contractive_penalty,
    encoder_jacobian,
    sigmoid_jacobian_norm_squared,
)


def _model(activation="sigmoid", n_visible=7, n_hidden=5, seed=0):
    model = Autoencoder(n_visible, n_hidden, encoder_activation=activation,
                        generator=torch.Generator().manual_seed(seed)).double()
    with torch.no_grad():
        model.hidden_bias.uniform_(-1, 1, generator=torch.Generator().manual_seed(seed + 1))
    return model


def _inputs(n=4, n_visible=7, seed=2):
    return torch.rand(n, n_visible, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def _finite_difference_jacobian(encode, x, eps=1e-6):
    """Central differences, one input coordinate at a time: [B, H, V]."""
    columns = []
    for i in range(x.shape[1]):
        step = torch.zeros_like(x)
        step[:, i] = eps
        with torch.no_grad():
            columns.append((encode(x + step) - encode(x - step)) / (2 * eps))
    return torch.stack(columns, dim=2)


def test_jacobian_matches_finite_differences():
    model, x = _model(), _inputs()
    expected = _finite_difference_jacobian(model.encode, x)
    assert torch.allclose(encoder_jacobian(model.encode, x), expected, atol=1e-8)


def test_closed_form_matches_autograd_and_a_two_line_reference():
    model, x = _model(), _inputs()
    closed = sigmoid_jacobian_norm_squared(model, x)
    assert torch.allclose(closed, autograd_jacobian_norm_squared(model.encode, x), rtol=1e-10)
    h = torch.sigmoid(x @ model.weight.T + model.hidden_bias)  # dh_j/dx_i = h_j (1 - h_j) W_ji
    reference = torch.stack([((h[b, :, None] * (1 - h[b, :, None]) * model.weight) ** 2).sum() for b in range(len(x))])
    assert torch.allclose(closed, reference, rtol=1e-12)


@pytest.mark.parametrize("activation", ["relu", "tanh", "saturated_linear"])
def test_closed_form_refuses_other_encoders(activation):
    with pytest.raises(ValueError, match="sigmoid encoder only"):
        sigmoid_jacobian_norm_squared(_model(activation), _inputs())


def test_sigmoid_formula_would_be_wrong_for_relu():
    """Why the refusal matters: eq. 5 applied to a ReLU encoder's codes differs from the truth."""
    model, x = _model("relu"), _inputs()
    h = model.encode(x)
    misapplied = (h * (1 - h)).square() @ model.weight.square().sum(dim=1)
    assert not torch.allclose(misapplied, autograd_jacobian_norm_squared(model.encode, x))


def test_penalty_uses_autograd_for_other_encoders_and_is_differentiable():
    for model in (_model("relu"), StackedAutoencoder([_model(), _model(n_visible=5, n_hidden=3, seed=4)])):
        x = _inputs()
        penalty = contractive_penalty(model, x)
        expected = _finite_difference_jacobian(model.encode, x).square().sum(dim=(1, 2)).mean()
        assert torch.allclose(penalty, expected, rtol=1e-6)
        penalty.backward()
        weights = [p for name, p in model.named_parameters() if name.endswith("weight")]
        assert all(w.grad is not None and w.grad.abs().sum() > 0 for w in weights)


def test_penalty_gradient_of_closed_form_matches_autograd_penalty_gradient():
    model, x = _model(), _inputs()
    closed_grad = torch.autograd.grad(contractive_penalty(model, x), model.weight)[0]
    autograd_grad = torch.autograd.grad(autograd_jacobian_norm_squared(model.encode, x).mean(), model.weight)[0]
    assert torch.allclose(closed_grad, autograd_grad, rtol=1e-9, atol=1e-12)


def test_singular_values_match_explicit_jacobian():
    model, x = _model(), _inputs()
    values = jacobian_singular_values(model.encode, x)
    assert values.shape == (4, 5)
    assert torch.all(values[:, :-1] >= values[:, 1:])
    explicit = torch.linalg.svdvals(_finite_difference_jacobian(model.encode, x))
    assert torch.allclose(values, explicit, atol=1e-7)
    assert torch.allclose(values.square().sum(dim=1), sigmoid_jacobian_norm_squared(model, x).detach())
