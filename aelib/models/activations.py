"""Activation functions by name, so models and notebooks can choose them with a string."""

from __future__ import annotations

from collections.abc import Callable

import torch

Activation = Callable[[torch.Tensor], torch.Tensor]

DEFAULT_SHRINK_THRESHOLD = 0.5


def saturated_linear(z: torch.Tensor) -> torch.Tensor:
    """clip(z, 0, 1): linear between 0 and 1, flat outside (Goroshin & LeCun 2013)."""
    return torch.clamp(z, 0.0, 1.0)


def shrink(z: torch.Tensor, threshold: float = DEFAULT_SHRINK_THRESHOLD) -> torch.Tensor:
    """The shrinkage (soft-threshold) unit sign(z) max(|z| - lambda, 0), flat on [-lambda, lambda]
    (Goroshin & LeCun 2013, sec. 2.1)."""
    return torch.sign(z) * torch.relu(z.abs() - threshold)


def _linear(z: torch.Tensor) -> torch.Tensor:
    return z


ACTIVATIONS: dict[str, Activation] = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "shrink": shrink,
    "saturated_linear": saturated_linear,
    "linear": _linear,
}


def activation(name: str, *, shrink_threshold: float = DEFAULT_SHRINK_THRESHOLD) -> Activation:
    """The activation called `name`; `shrink_threshold` is the lambda of "shrink" (ignored by
    the others). A clear error lists the known names."""
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; known: {', '.join(ACTIVATIONS)}")
    if name != "shrink":
        return ACTIVATIONS[name]
    if not shrink_threshold > 0:
        raise ValueError(f"the shrink threshold lambda must be > 0, got {shrink_threshold!r}")
    return lambda z: shrink(z, shrink_threshold)
