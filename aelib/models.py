"""Autoencoders: one hidden layer (tied or untied weights) and a stack of them.

The one-layer model is the paper's (Vincent et al. 2008, sec. 2.2):
    encoder   h = f(x) = s(W x + b)
    decoder   z = g(h) = s(W' h + b'),   with W' = W^T when the weights are tied.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from aelib.activations import activation


class Autoencoder(nn.Module):
    """A one-hidden-layer autoencoder.

    Weights are drawn uniformly from +-4 sqrt(6 / (n_visible + n_hidden)), the range
    the Theano DAE tutorial uses for sigmoid units; biases start at 0. Pass a
    `torch.Generator` to make the initial weights independent of the global seed.
    """

    def __init__(self, n_visible: int, n_hidden: int, *, tied: bool = True,
                 encoder_activation: str = "sigmoid", decoder_activation: str = "sigmoid",
                 generator: torch.Generator | None = None):
        super().__init__()
        if n_visible < 1 or n_hidden < 1:
            raise ValueError(f"layer sizes must be positive, got {n_visible} and {n_hidden}")
        self.n_visible, self.n_hidden, self.tied = n_visible, n_hidden, tied
        self.encoder_activation_name = encoder_activation
        self.decoder_activation_name = decoder_activation
        self.encoder_activation = activation(encoder_activation)
        self.decoder_activation = activation(decoder_activation)
        bound = 4 * math.sqrt(6 / (n_visible + n_hidden))
        self.weight = nn.Parameter(_uniform((n_hidden, n_visible), bound, generator))
        self.hidden_bias = nn.Parameter(torch.zeros(n_hidden))
        self.visible_bias = nn.Parameter(torch.zeros(n_visible))
        self.decoder_weight = None if tied else nn.Parameter(_uniform((n_visible, n_hidden), bound, generator))

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
        return (f"{self.n_visible} -> {self.n_hidden}, tied={self.tied}, "
                f"encoder={self.encoder_activation_name}, decoder={self.decoder_activation_name}")


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


def _uniform(shape: tuple[int, int], bound: float, generator: torch.Generator | None) -> torch.Tensor:
    return (torch.rand(shape, generator=generator) * 2 - 1) * bound
