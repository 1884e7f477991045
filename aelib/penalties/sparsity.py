"""Sparsity penalties of the sparse autoencoder (Ng, CS294A lecture notes).

Each takes the hidden activations h (one row per example, one column per hidden
unit) and returns a scalar that is added to the reconstruction error; weight decay,
the notes' other penalty, is in aelib.penalties.regularizers. The notation is the notes':
a^(2) = h, rho the target mean activation, rho_hat_j the mean activation of hidden
unit j over the m examples.
"""

from __future__ import annotations

import torch


def mean_activation(h: torch.Tensor) -> torch.Tensor:
    """rho_hat_j = (1/m) sum_i a_j^(2)(x^(i)), one value per hidden unit (CS294A, sec. 3)."""
    return h.mean(dim=0)


def kl_divergence_bernoulli(rho: float, rho_hat: torch.Tensor) -> torch.Tensor:
    """KL(rho || rho_hat_j) = rho log(rho / rho_hat_j) + (1 - rho) log((1 - rho) / (1 - rho_hat_j)),
    the divergence between Bernoulli variables of means rho and rho_hat_j, per unit."""
    return rho * torch.log(rho / rho_hat) + (1 - rho) * torch.log((1 - rho) / (1 - rho_hat))


def kl_sparsity(h: torch.Tensor, rho: float) -> torch.Tensor:
    """sum_{j=1}^{s2} KL(rho || rho_hat_j), rho_hat_j the mean of unit j's activation over the
    batch (CS294A notes, sec. 3, the penalty term multiplied by beta in J_sparse(W, b)).

    The activations must lie in (0, 1) (sigmoid units), so each rho_hat_j does too.
    """
    if not 0 < rho < 1:
        raise ValueError(f"the target activation rho must lie in (0, 1), got {rho!r}")
    return kl_divergence_bernoulli(rho, mean_activation(h)).sum()


def l1_activity(h: torch.Tensor) -> torch.Tensor:
    """sum_i |h_i| per example, averaged over the batch: the L1 activity penalty of
    E = L(x, g(f(x))) + lambda * sum_i |h_i| (lambda is applied by the caller)."""
    return h.abs().sum(dim=1).mean()
