"""The contractive penalty: the squared Frobenius norm of the encoder's Jacobian.

Rifai, Vincent, Muller, Glorot, Bengio, "Contractive Auto-Encoders: Explicit Invariance
During Feature Extraction", ICML 2011, sec. 2-3. For an encoder h = f(x) the penalty is

    ||J_f(x)||_F^2 = sum_ij (d h_j(x) / d x_i)^2                                 (eq. 2)

and the contractive autoencoder (CAE) minimises, over the training set,

    sum_x  L(x, g(f(x)))  +  lambda ||J_f(x)||_F^2.                               (eq. 4)

For a sigmoid encoder h = s(W x + b), dh_j/dx_i = h_j (1 - h_j) W_ji, so

    ||J_f(x)||_F^2 = sum_j (h_j (1 - h_j))^2  sum_i W_ji^2,                       (eq. 5)

which costs one pass over W instead of a Jacobian per example. That formula holds only
for the sigmoid; for any other encoder the Jacobian is taken by autograd (torch.func).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch.func import jacrev, vmap

from aelib.models.autoencoders import Autoencoder

Encoder = Callable[[torch.Tensor], torch.Tensor]


def sigmoid_jacobian_norm_squared(model: Autoencoder, x: torch.Tensor) -> torch.Tensor:
    """||J_f(x)||_F^2 per example by eq. 5; refuses an encoder that is not a sigmoid."""
    name = getattr(model, "encoder_activation_name", None)
    if name != "sigmoid":
        raise ValueError(f"the closed-form Jacobian norm (Rifai et al. 2011, eq. 5) holds for a sigmoid "
                         f"encoder only, this one is {name!r}; use autograd_jacobian_norm_squared(model.encode, x)")
    h = model.encode(x)
    return (h * (1 - h)).square() @ model.weight.square().sum(dim=1)


def encoder_jacobian(encode: Encoder, x: torch.Tensor) -> torch.Tensor:
    """J_f(x) = d f(x) / d x for every row of x, by autograd: [B, H, V]."""
    return vmap(jacrev(lambda row: encode(row[None])[0]))(x)


def autograd_jacobian_norm_squared(encode: Encoder, x: torch.Tensor) -> torch.Tensor:
    """||J_f(x)||_F^2 per example (eq. 2) for any differentiable encoder."""
    return encoder_jacobian(encode, x).square().sum(dim=(1, 2))


def contractive_penalty(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The CAE penalty of eq. 4, averaged over the minibatch: mean_x ||J_f(x)||_F^2.

    Closed form (eq. 5) for a sigmoid Autoencoder, autograd for any other encoder
    (`model.encode`). Multiply by lambda and add to the reconstruction loss."""
    if isinstance(model, Autoencoder) and model.encoder_activation_name == "sigmoid":
        return sigmoid_jacobian_norm_squared(model, x).mean()
    return autograd_jacobian_norm_squared(model.encode, x).mean()
