"""Activation functions by name, so models and notebooks can choose them with a string."""

from __future__ import annotations

from typing import Callable

import torch

Activation = Callable[[torch.Tensor], torch.Tensor]


def saturated_linear(z: torch.Tensor) -> torch.Tensor:
    """clip(z, 0, 1): linear between 0 and 1, flat outside (Goroshin & LeCun 2013)."""
    return torch.clamp(z, 0.0, 1.0)


ACTIVATIONS: dict[str, Activation] = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "saturated_linear": saturated_linear,
    "linear": lambda z: z,
}


def activation(name: str) -> Activation:
    """The activation called `name`; a clear error lists the known ones."""
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(f"unknown activation {name!r}; known: {', '.join(ACTIVATIONS)}") from None
