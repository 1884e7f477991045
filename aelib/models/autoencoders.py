"""Autoencoders: one hidden layer (tied or untied weights), a stack of them, and a
convolutional one. Every model offers the same small interface:

    pre_activation(x)   the encoder's input to its activation, W x + b
    encode(x)           the code h = f(x)
    decode(h)           the reconstruction g(h)
    filters()           the encoder's weights, one row per hidden unit (or feature map)

The one-layer model is the paper's (Vincent et al. 2008, sec. 2.2):
    encoder   h = f(x) = s(W x + b)
    decoder   z = g(h) = s(W' h + b'),   with W' = W^T when the weights are tied.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from aelib.models.activations import DEFAULT_SHRINK_THRESHOLD, activation


def sigmoid_init_bound(n_visible: int, n_hidden: int) -> float:
    """4 sqrt(6 / (n_visible + n_hidden)): the uniform range for sigmoid units of Glorot & Bengio 2010
    (their range times 4, for the sigmoid's slope of 1/4), which the Theano DAE tutorial's dA.py has
    used since March 2010 (lisa-lab/DeepLearningTutorials, commit a59a2bf). The tutorial's published
    filter figures are older: they were made by the dA.py of commit d71dce9 (February 2010), which
    drew from `glorot_init_bound`, four times narrower."""
    return 4 * math.sqrt(6 / (n_visible + n_hidden))


def glorot_init_bound(n_visible: int, n_hidden: int) -> float:
    """sqrt(6 / (n_visible + n_hidden)) (Glorot & Bengio 2010): the range for units of slope 1, and the
    range of the Theano DAE tutorial's dA.py that made its published filter figures (commit d71dce9,
    February 2010: 0.0684 for 784-500)."""
    return math.sqrt(6 / (n_visible + n_hidden))


class Autoencoder(nn.Module):
    """A one-hidden-layer autoencoder.

    Weights are drawn uniformly from +-init_bound (default `sigmoid_init_bound`); biases
    start at 0. `shrink_threshold` is the lambda of a "shrink" encoder. The weights are drawn
    in `dtype`. Pass a `torch.Generator` to make the initial weights independent of the
    global seed.
    """

    def __init__(self, n_visible: int, n_hidden: int, *, tied: bool = True,
                 encoder_activation: str = "sigmoid", decoder_activation: str = "sigmoid",
                 init_bound: float | None = None, shrink_threshold: float = DEFAULT_SHRINK_THRESHOLD,
                 dtype: torch.dtype = torch.float32, generator: torch.Generator | None = None):
        super().__init__()
        if n_visible < 1 or n_hidden < 1:
            raise ValueError(f"layer sizes must be positive, got {n_visible} and {n_hidden}")
        self.n_visible, self.n_hidden, self.tied = n_visible, n_hidden, tied
        self.encoder_activation_name = encoder_activation
        self.decoder_activation_name = decoder_activation
        self.shrink_threshold = shrink_threshold
        self.encoder_activation = activation(encoder_activation, shrink_threshold=shrink_threshold)
        self.decoder_activation = activation(decoder_activation)
        bound = sigmoid_init_bound(n_visible, n_hidden) if init_bound is None else init_bound
        self.init_bound = bound
        self.weight = nn.Parameter(_uniform((n_hidden, n_visible), bound, generator, dtype))
        self.hidden_bias = nn.Parameter(torch.zeros(n_hidden, dtype=dtype))
        self.visible_bias = nn.Parameter(torch.zeros(n_visible, dtype=dtype))
        self.decoder_weight = None if tied else nn.Parameter(_uniform((n_visible, n_hidden), bound, generator, dtype))

    def pre_activation(self, x: torch.Tensor) -> torch.Tensor:
        """W x + b, the encoder's input to its activation."""
        return x @ self.weight.T + self.hidden_bias

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder_activation(self.pre_activation(x))

    def decoder_pre_activation(self, h: torch.Tensor) -> torch.Tensor:
        weight = self.weight.T if self.tied else self.decoder_weight
        return h @ weight.T + self.visible_bias

    def decode(self, h: torch.Tensor) -> torch.Tensor:
        return self.decoder_activation(self.decoder_pre_activation(h))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))

    def filters(self) -> torch.Tensor:
        """The encoder's weights, one row per hidden unit (what the papers draw as filters)."""
        return self.weight.detach()

    def extra_repr(self) -> str:
        encoder = self.encoder_activation_name
        if encoder == "shrink":
            encoder = f"shrink({self.shrink_threshold:g})"
        return (f"{self.n_visible} -> {self.n_hidden}, tied={self.tied}, "
                f"encoder={encoder}, decoder={self.decoder_activation_name}")


class StackedAutoencoder(nn.Module):
    """Autoencoders stacked for greedy layer-wise pretraining (Bengio et al. 2007):
    layer k is trained to reconstruct the codes of layer k-1; `encode` runs them all."""

    def __init__(self, layers: list[Autoencoder]):
        super().__init__()
        for below, above in zip(layers, layers[1:]):
            if above.n_visible != below.n_hidden:
                raise ValueError(f"layer sizes do not chain: {below.n_hidden} hidden units feed "
                                 f"a layer that expects {above.n_visible} inputs")
        self.layers = nn.ModuleList(layers)

    def pre_activation(self, x: torch.Tensor) -> torch.Tensor:
        """The top layer's pre-activation, given the codes of the layers below it."""
        return self.layers[-1].pre_activation(self.encode(x, len(self.layers) - 1))

    def encode(self, x: torch.Tensor, depth: int | None = None) -> torch.Tensor:
        """The code after the first `depth` layers (all of them by default)."""
        for layer in self.layers[:depth]:
            x = layer.encode(x)
        return x

    def decode(self, h: torch.Tensor) -> torch.Tensor:
        for layer in reversed(self.layers):
            h = layer.decode(h)
        return h

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))

    def filters(self) -> torch.Tensor:
        """The first layer's filters (those in input space)."""
        return self.layers[0].filters()


class ConvolutionalAutoencoder(nn.Module):
    """A convolutional autoencoder of one or more encoding layers ('same' padding, no pooling):
    h_1 = f(conv(x, W_1) + b_1), h_l = f(conv(h_{l-1}, W_l) + b_l), and a linear decoder that runs
    the transposed convolutions back, x^ = conv_t(... conv_t(h_L, W'_L) ..., W'_1) + b' (as the
    paper's linear decoder, Goroshin & LeCun 2013, sec. 3).

    `n_maps`: the feature maps of each encoding layer (an int for one layer). Inputs are flat rows
    of image_shape = (channels, H, W) or (H, W) pixels; codes are flat rows of n_maps[-1] x H x W
    units, so the losses and measures of the dense models apply. `pre_activations(x)` gives every
    layer's pre-activation (the saturation penalty sums over all of them); `pre_activation(x)` the
    last one. Weights are drawn uniformly from +-sqrt(6 / ((maps in + maps out) kernel_size^2)).
    """

    def __init__(self, image_shape: tuple[int, ...], n_maps: int | tuple[int, ...], kernel_size: int,
                 encoder_activation: str, *, shrink_threshold: float = DEFAULT_SHRINK_THRESHOLD,
                 generator: torch.Generator | None = None):
        super().__init__()
        maps = (n_maps,) if isinstance(n_maps, int) else tuple(n_maps)
        if kernel_size % 2 != 1 or not maps or min(maps) < 1:
            raise ValueError(f"need an odd kernel_size and n_maps >= 1 per layer, got {kernel_size} and {n_maps}")
        self.image_shape = tuple(image_shape) if len(image_shape) == 3 else (1, *image_shape)
        self.encoder_activation_name = encoder_activation
        self.shrink_threshold = shrink_threshold
        self.encoder_activation = activation(encoder_activation, shrink_threshold=shrink_threshold)
        self.padding = kernel_size // 2
        sizes = (self.image_shape[0], *maps)
        weights, decoder_weights = [], []
        for inputs, outputs in zip(sizes, sizes[1:]):
            bound = math.sqrt(6 / (inputs + outputs) / kernel_size ** 2)
            shape = (outputs, inputs, kernel_size, kernel_size)
            weights.append(nn.Parameter((torch.rand(shape, generator=generator) * 2 - 1) * bound))
            decoder_weights.append(nn.Parameter((torch.rand(shape, generator=generator) * 2 - 1) * bound))
        self.weights, self.decoder_weights = nn.ParameterList(weights), nn.ParameterList(decoder_weights)
        self.hidden_biases = nn.ParameterList([nn.Parameter(torch.zeros(m)) for m in maps])
        self.visible_bias = nn.Parameter(torch.zeros(self.image_shape[0]))

    @property
    def weight(self) -> nn.Parameter:
        """The first layer's kernels (the filters in input space)."""
        return self.weights[0]

    def pre_activations(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Every encoding layer's conv(h_{l-1}, W_l) + b_l: [batch, maps_l, H, W] each."""
        h = x.reshape(len(x), *self.image_shape)
        layers = []
        for weight, bias in zip(self.weights, self.hidden_biases):
            layers.append(nn.functional.conv2d(h, weight, bias, padding=self.padding))
            h = self.encoder_activation(layers[-1])
        return layers

    def pre_activation(self, x: torch.Tensor) -> torch.Tensor:
        """The last encoding layer's pre-activation."""
        return self.pre_activations(x)[-1]

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder_activation(self.pre_activation(x)).flatten(1)

    def decode(self, h: torch.Tensor) -> torch.Tensor:
        """The transposed convolutions, linear, last layer first; h flat or [batch, maps, H, W]."""
        maps = h.reshape(len(h), self.weights[-1].shape[0], *self.image_shape[1:])
        for depth in reversed(range(len(self.weights))):
            bias = self.visible_bias if depth == 0 else None
            maps = nn.functional.conv_transpose2d(maps, self.decoder_weights[depth], bias, padding=self.padding)
        return maps.flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))

    def filters(self) -> torch.Tensor:
        """One flattened first-layer kernel (channels x k x k) per feature map."""
        return self.weights[0].detach().flatten(1)


def _uniform(shape: tuple[int, int], bound: float, generator: torch.Generator | None,
             dtype: torch.dtype = torch.float32) -> torch.Tensor:
    return (torch.rand(shape, generator=generator, dtype=dtype) * 2 - 1) * bound
