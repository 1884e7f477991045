"""Reconstruction losses, summed over the input dimensions and averaged over the batch."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def cross_entropy(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """L_H(x, z) = -sum_k [x_k log z_k + (1 - x_k) log(1 - z_k)],  z = sigmoid(logits)
    (Vincent et al. 2008, eq. 2), in nats per example. Takes the decoder's
    pre-activation so the log never sees an exact 0 or 1."""
    return F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / len(x)


def squared_error(x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """L_2(x, z) = sum_k (x_k - z_k)^2 per example."""
    return (x_hat - x).pow(2).sum() / len(x)
