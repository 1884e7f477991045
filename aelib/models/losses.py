"""Reconstruction losses, summed over the input dimensions and averaged over the batch.

Inputs are [B, D], or [K, B, D] for K models trained as one (aelib.models.batched), in which
case the loss is a vector of K per-model losses; the target x may be [B, D] for all.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def cross_entropy(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """L_H(x, z) = -sum_k [x_k log z_k + (1 - x_k) log(1 - z_k)],  z = sigmoid(logits)
    (Vincent et al. 2008, eq. 2), in nats per example. Takes the decoder's
    pre-activation so the log never sees an exact 0 or 1."""
    per_input = F.binary_cross_entropy_with_logits(logits, x.expand_as(logits), reduction="none")
    return per_input.sum(dim=-1).mean(dim=-1)


def squared_error(x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """L_2(x, z) = sum_k (x_k - z_k)^2 per example."""
    return (x_hat - x).pow(2).sum(dim=-1).mean(dim=-1)


def reconstruction_cross_entropy(model, x: torch.Tensor, inputs: torch.Tensor | None = None) -> torch.Tensor:
    """L_H(x, g(f(inputs))): the cross-entropy of a sigmoid decoder's reconstruction of x from
    `inputs` (x itself by default; a corrupted copy of x for a denoising autoencoder,
    Vincent et al. 2008, sec. 2.3), through `model.decoder_pre_activation`. Works for one
    model or for K models trained as one (aelib.models.batched)."""
    return cross_entropy(model.decoder_pre_activation(model.encode(x if inputs is None else inputs)), x)
