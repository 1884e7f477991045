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
"""

from __future__ import annotations

import math
from typing import Callable

import torch

from aelib.activations import saturated_linear
from aelib.models import Autoencoder

SATURATING_ACTIVATIONS = ("relu", "shrink", "saturated_linear")
DEFAULT_SHRINK_THRESHOLD = 0.5


def shrink(z: torch.Tensor, threshold: float = DEFAULT_SHRINK_THRESHOLD) -> torch.Tensor:
    """The shrinkage (soft-threshold) unit: sign(z) max(|z| - lambda, 0), flat on [-lambda, lambda]."""
    return torch.sign(z) * torch.relu(z.abs() - threshold)


def encoder_activation(name: str, shrink_threshold: float = DEFAULT_SHRINK_THRESHOLD) -> Callable:
    """The activation f called `name` (one of SATURATING_ACTIVATIONS)."""
    _check(name, shrink_threshold)
    if name == "relu":
        return torch.relu
    if name == "shrink":
        return lambda z: shrink(z, shrink_threshold)
    return saturated_linear


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


def saturated_fraction(pre_activation: torch.Tensor, activation: str,
                       shrink_threshold: float = DEFAULT_SHRINK_THRESHOLD) -> torch.Tensor:
    """Per example, the fraction of its units whose pre-activation lies in a saturated
    region (f'(z) = 0, i.e. f_c(z) = 0). Returns one value per example."""
    saturated = complementary_function(pre_activation, activation, shrink_threshold) == 0
    return saturated.flatten(1).float().mean(dim=1)


def saturating_autoencoder(n_visible: int, n_hidden: int, activation: str, *,
                           shrink_threshold: float = DEFAULT_SHRINK_THRESHOLD, tied: bool = True,
                           generator: torch.Generator | None = None) -> Autoencoder:
    """A one-hidden-layer autoencoder h = f(W x + b), x^ = W' h + b' (linear decoder, as
    in the paper's sec. 3) with encoder f one of SATURATING_ACTIVATIONS.

    aelib.activations has no shrink unit yet, so the encoder activation is set here.
    Weights are drawn uniformly from +-sqrt(6 / (n_visible + n_hidden)) (Glorot), the
    range for units without the sigmoid's flat slope.
    """
    model = Autoencoder(n_visible, n_hidden, tied=tied, encoder_activation="linear",
                        decoder_activation="linear", generator=generator)
    model.encoder_activation = encoder_activation(activation, shrink_threshold)
    model.encoder_activation_name = activation if activation != "shrink" else f"shrink({shrink_threshold:g})"
    with torch.no_grad():  # Autoencoder draws from +-4 sqrt(6/(n_v+n_h)), the sigmoid range
        model.weight.div_(4)
        if model.decoder_weight is not None:
            model.decoder_weight.div_(4)
    return model


class ConvolutionalAutoencoder(torch.nn.Module):
    """A one-layer convolutional autoencoder: h = f(conv(x, W) + b) with `n_maps` maps of
    `kernel_size`^2 filters ('same' padding), x^ = conv_transpose(h, W') + b' (linear).

    `pre_activation`, `encode`, `decode` and `filters` mirror aelib.models.Autoencoder,
    so the saturation penalty and the perturbation measures take either model.
    Inputs are flat rows of image_shape = (channels, H, W) or (H, W) pixels.
    """

    def __init__(self, image_shape: tuple[int, ...], n_maps: int, kernel_size: int, activation: str, *,
                 shrink_threshold: float = DEFAULT_SHRINK_THRESHOLD, generator: torch.Generator | None = None):
        super().__init__()
        if kernel_size % 2 != 1 or n_maps < 1:
            raise ValueError(f"need an odd kernel_size and n_maps >= 1, got {kernel_size} and {n_maps}")
        self.image_shape = tuple(image_shape) if len(image_shape) == 3 else (1, *image_shape)
        channels = self.image_shape[0]
        self.encoder_activation_name = activation
        self.encoder_activation = encoder_activation(activation, shrink_threshold)
        bound = math.sqrt(6 / (channels + n_maps) / kernel_size ** 2)
        shape = (n_maps, channels, kernel_size, kernel_size)
        self.weight = torch.nn.Parameter((torch.rand(shape, generator=generator) * 2 - 1) * bound)
        self.decoder_weight = torch.nn.Parameter((torch.rand(shape, generator=generator) * 2 - 1) * bound)
        self.hidden_bias = torch.nn.Parameter(torch.zeros(n_maps))
        self.visible_bias = torch.nn.Parameter(torch.zeros(channels))
        self.padding = kernel_size // 2

    def pre_activation(self, x: torch.Tensor) -> torch.Tensor:
        images = x.reshape(len(x), *self.image_shape)
        return torch.nn.functional.conv2d(images, self.weight, self.hidden_bias, padding=self.padding)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder_activation(self.pre_activation(x)).flatten(1)

    def decode(self, h: torch.Tensor) -> torch.Tensor:
        maps = h.reshape(len(h), self.weight.shape[0], *self.image_shape[1:])
        images = torch.nn.functional.conv_transpose2d(maps, self.decoder_weight, self.visible_bias,
                                                      padding=self.padding)
        return images.flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))

    def filters(self) -> torch.Tensor:
        return self.weight.detach().flatten(1)


def _check(activation: str, shrink_threshold: float) -> None:
    if activation not in SATURATING_ACTIVATIONS:
        raise ValueError(f"unknown saturating activation {activation!r}; known: {', '.join(SATURATING_ACTIVATIONS)}")
    if activation == "shrink" and not shrink_threshold > 0:
        raise ValueError(f"the shrink threshold lambda must be > 0, got {shrink_threshold!r}")
