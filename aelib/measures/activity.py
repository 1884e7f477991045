"""How active a trained code is on held-out data: the mean activation of each hidden unit against
the target rho of the KL penalty (CS294A notes, sec. 3), and the share of activations near zero
(the measure of sparsity of the L1 activity penalty, E = L + lambda sum_i |h_i|)."""

from __future__ import annotations

import torch

from aelib.penalties.sparsity import mean_activation


def mean_activation_against_target(rho_hat: torch.Tensor, rho: float, data: str, within: float = 0.25) -> dict:
    """A table row: the mean over hidden units of rho_hat_j (`mean_activation` on held-out data), and
    the share of units whose rho_hat_j lies within `within` * rho of the target rho."""
    return {"data": data, "rho": rho, "mean_rho_hat": rho_hat.mean().item(),
            f"units_within_{round(100 * within)}_percent": (abs(rho_hat - rho) <= within * rho).float().mean().item()}


@torch.no_grad()
def held_out_mean_activation(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """rho_hat_j of every hidden unit of `model` on x, on the CPU."""
    return mean_activation(model.encode(x)).cpu()


@torch.no_grad()
def code_activity(model: torch.nn.Module, x: torch.Tensor, near_zero: float) -> dict:
    """On x: the share of activations h below `near_zero`, their mean, and the reconstruction error
    (1/m) sum_i (1/2) ||g(h^(i)) - x^(i)||^2."""
    h = model.encode(x)
    return {"fraction_near_zero": (h < near_zero).double().mean().item(), "mean_activation": h.mean().item(),
            "reconstruction_error": (0.5 * (model.decode(h) - x).pow(2).sum(1).mean()).item()}
