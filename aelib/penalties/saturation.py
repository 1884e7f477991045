"""Saturating autoencoders: the complementary-function regularizer (Goroshin & LeCun 2013).

Goroshin & LeCun, "Saturating Auto-Encoders", ICLR 2013 (arXiv 1301.3577), sec. 2.
For an encoder activation f, the *complementary function* f_c(z) is the distance from z
to the nearest point where f'(z) = 0, the nearest saturated region:

    f_c(z) = inf { |z - z'| : f'(z') = 0 }                                   (sec. 2.1)

so f_c = 0 inside a saturated region and rises with slope 1 away from it. The
saturating autoencoder (SATAE) adds it, summed over the hidden units, to the
reconstruction loss (sec. 2, eq. 1):

    L = sum_x  ||x - g(f(W_e x + b_e))||^2  +  alpha * sum_i f_c(w_e^i . x + b_e^i)

Minimising the second term pushes the pre-activations into the flat parts of f, so the
code stops responding to most directions of input space: only inputs near the data,
which the reconstruction term must keep distinguishable, keep units in their linear
part. For a convolution layer the sum runs over every position of every feature map.

Closed forms used here (sec. 2.1):
    relu              f(z) = max(z, 0)                     f_c(z) = max(z, 0)
    shrink (lambda)   f(z) = sign(z) max(|z| - lambda, 0)   f_c(z) = max(|z| - lambda, 0)
    saturated_linear  f(z) = clip(z, 0, 1)                 f_c(z) = min(relu(z), relu(1 - z))
For relu and shrink, the paper's f_c is the encoder's own activity magnitude |f(z)|:
the SATAE with them is a sparse (L1-on-activity) autoencoder.

How saturated a code is, is measured in aelib.measures.saturation.
"""

from __future__ import annotations

import torch

from aelib.models.activations import DEFAULT_SHRINK_THRESHOLD
from aelib.models.activations import activation as activation_by_name
from aelib.models.autoencoders import Autoencoder, glorot_init_bound

SATURATING_ACTIVATIONS = ("relu", "shrink", "saturated_linear")


def complementary_function(z: torch.Tensor, activation: str,
                           shrink_threshold: float = DEFAULT_SHRINK_THRESHOLD) -> torch.Tensor:
    """f_c(z), elementwise: the distance from z to the nearest z' with f'(z') = 0
    (Goroshin & LeCun 2013, sec. 2.1). Zero in the saturated regions, slope +-1 elsewhere."""
    _check(activation, shrink_threshold)
    if activation == "relu":
        return torch.relu(z)
    if activation == "shrink":
        return torch.relu(z.abs() - shrink_threshold)
    return torch.minimum(torch.relu(z), torch.relu(1 - z))


def saturation_penalty(pre_activation: torch.Tensor, activation: str, alpha: float,
                       shrink_threshold: float = DEFAULT_SHRINK_THRESHOLD) -> torch.Tensor:
    """alpha * sum_i f_c(z_i), summed over every unit of an example (hidden units, or all
    positions of all feature maps of a convolution layer) and averaged over the batch
    (Goroshin & LeCun 2013, eq. 1). `pre_activation` has the batch as its first dimension."""
    if alpha < 0:
        raise ValueError(f"alpha must be >= 0, got {alpha!r}")
    per_example = complementary_function(pre_activation, activation, shrink_threshold).flatten(1).sum(dim=1)
    return alpha * per_example.mean()


def complementary_function_check(activation: str, z: torch.Tensor,
                                 shrink_threshold: float = DEFAULT_SHRINK_THRESHOLD) -> dict:
    """f_c against its definition on the points z (float64, none on a kink): `zero_mismatches`, how many
    points have f_c(z) = 0 where f'(z) != 0 or the reverse, and `slope_error`, the largest distance of
    |f_c'(z)| from 1 where f' != 0 plus the largest |f_c'(z)| where f' = 0 (both 0 when exact)."""
    z = z.detach().clone().requires_grad_(True)
    f_prime, = torch.autograd.grad(activation_by_name(activation, shrink_threshold=shrink_threshold)(z).sum(), z)
    f_c = complementary_function(z, activation, shrink_threshold)
    slope, = torch.autograd.grad(f_c.sum(), z)
    flat = f_prime == 0
    return {"zero_mismatches": int(((f_c == 0) != flat).sum()),
            "slope_error": float((slope[~flat].abs() - 1).abs().max() + slope[flat].abs().max())}


def saturating_autoencoder(n_visible: int, n_hidden: int, activation: str, *,
                           shrink_threshold: float = DEFAULT_SHRINK_THRESHOLD, tied: bool = True,
                           init_bound: float | None = None, generator: torch.Generator | None = None) -> Autoencoder:
    """A one-hidden-layer autoencoder h = f(W x + b), x^ = W' h + b' (linear decoder, as
    in the paper's sec. 3) with encoder f one of SATURATING_ACTIVATIONS. Weights are drawn
    uniformly from +-init_bound, by default Glorot's range for units without the sigmoid's
    flat slope."""
    _check(activation, shrink_threshold)
    bound = glorot_init_bound(n_visible, n_hidden) if init_bound is None else init_bound
    return Autoencoder(n_visible, n_hidden, tied=tied, encoder_activation=activation, decoder_activation="linear",
                       init_bound=bound, shrink_threshold=shrink_threshold, generator=generator)


def _check(activation: str, shrink_threshold: float) -> None:
    if activation not in SATURATING_ACTIVATIONS:
        raise ValueError(f"unknown saturating activation {activation!r}; known: {', '.join(SATURATING_ACTIVATIONS)}")
    if activation == "shrink" and not shrink_threshold > 0:
        raise ValueError(f"the shrink threshold lambda must be > 0, got {shrink_threshold!r}")
