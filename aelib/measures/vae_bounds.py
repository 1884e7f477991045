"""The bounds on log p(x) of a trained VAE, and the verdicts on them.

- The ELBO (Kingma & Welling 2014, eq. 10) and the importance-weighted estimate with k samples
  z_i ~ q(z|x), log (1/k) sum_i p(x, z_i) / q(z_i|x) (Burda et al. 2016, eq. 8), on the same digits:
  the second is a lower bound at least as tight as the first, and tighter as k grows (their theorem 1).
- How the bound curves of figure 2 (bound against training samples evaluated) end: their smallest
  rise and their largest fall between evaluation points over the last decade of samples.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from aelib.models.vae import VAE, elbo, importance_weighted_log_likelihood


@torch.no_grad()
def elbo_and_importance_weighted(model: VAE, images: torch.Tensor, importance_samples: Sequence[int],
                                 generator: torch.Generator | None = None, *, elbo_batch: int = 500,
                                 importance_batch: int = 100) -> dict:
    """The mean ELBO on `images` (`subset_elbo_nats`), then for each k of `importance_samples` the mean
    importance-weighted estimate (`log_px_iw_k<k>_nats`), in that order, all drawing from `generator`,
    in batches of `elbo_batch` and `importance_batch` digits."""
    row = {"subset_elbo_nats": torch.cat([elbo(model, images[i:i + elbo_batch], generator).bound
                                          for i in range(0, len(images), elbo_batch)]).mean().item()}
    for k in importance_samples:
        row[f"log_px_iw_k{k}_nats"] = torch.cat([
            importance_weighted_log_likelihood(model, images[i:i + importance_batch], k, generator)
            for i in range(0, len(images), importance_batch)]).mean().item()
    return row


def importance_weighting_tightens(row: dict, importance_samples: Sequence[int]) -> bool:
    """Whether, in a row of `elbo_and_importance_weighted`, the estimate rises at every step of k and
    its last is above the ELBO."""
    estimates = [row[f"log_px_iw_k{k}_nats"] for k in importance_samples]
    return all(b > a for a, b in zip(estimates, estimates[1:])) and estimates[-1] > row["subset_elbo_nats"]


def last_decade_of_curves(curves: list[dict], latent_sizes: Sequence[int], samples: int,
                          names: Sequence[str] = ("train_bound", "test_bound")) -> tuple[list[dict], float, float]:
    """The evaluation points (rows with `samples` and, per name, {N_z: bound}) from samples / 10 on, the
    smallest step between two of them (negative: a fall) and the smallest rise from the first to the
    last, over every N_z and every curve of `names`."""
    last_decade = [row for row in curves if row["samples"] >= samples / 10]
    worst_step, weakest_rise = math.inf, math.inf
    for n_latent in latent_sizes:
        for name in names:
            values = [row[name][n_latent] for row in last_decade]
            worst_step = min([worst_step] + [b - a for a, b in zip(values, values[1:])])
            weakest_rise = min(weakest_rise, values[-1] - values[0])
    return last_decade, worst_step, weakest_rise
