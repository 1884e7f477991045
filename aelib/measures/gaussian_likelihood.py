"""Squared error is a Gaussian log-likelihood: for a decoder p(x|z) = N(x; g(z), sigma^2 I) over D pixels,
    log p(x|z) = -||x - g(z)||^2 / (2 sigma^2) - (D / 2) log(2 pi sigma^2)
(Kingma & Welling 2014, appendix C.2, with one shared variance)."""

from __future__ import annotations

import math

import torch


@torch.no_grad()
def squared_error_identity(model: torch.nn.Module, x: torch.Tensor) -> dict:
    """For a VAE with a Gaussian decoder of one learned variance, at the posterior means of x: the
    learned sigma^2, each digit's squared error ||x - g(z)||^2, and the largest gap between the
    model's log p(x|z) and the identity above (zero up to rounding)."""
    variance = model.decoder_log_variance().exp().item()
    z = model.encode(x)[0]
    squared_error = (x - model.decode(z)).pow(2).sum(-1)
    by_identity = -squared_error / (2 * variance) - x.shape[-1] / 2 * math.log(2 * math.pi * variance)
    gap = (model.log_likelihood(x, z) - by_identity).abs().max().item()
    return {"learned_variance": variance, "squared_error": squared_error, "identity_gap": gap}
