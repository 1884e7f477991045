"""The bounds on log p(x) of a trained VAE, and the verdicts on them.

- The ELBO (Kingma & Welling 2014, eq. 10) and the importance-weighted estimate with k samples
  z_i ~ q(z|x), log (1/k) sum_i p(x, z_i) / q(z_i|x) (Burda et al. 2016, eq. 8), on the same digits:
  the second is a lower bound at least as tight as the first, and tighter as k grows (their theorem 1).
- How the bound curves of figure 2 (bound against training samples evaluated) end: their smallest
  rise and their largest fall between evaluation points over the last decade of samples.
- Whether train and test bounds part: the gap mean_train L(x) - mean_test L(x) at the start and at the
  end of the last decade, and the standard error of one such gap, the two means being over different
  digits: sqrt(s_train^2 / n_train + s_test^2 / n_test), s the per-digit bound's standard deviation;
  and that, in words, as the reason the train and test bounds differ by more than the claim allows.
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


def gap_over_last_decade(last_decade: list[dict], latent_sizes: Sequence[int]) -> dict[int, tuple[float, float]]:
    """Per N_z, the train bound minus the test bound at the first and at the last of the evaluation points
    of the last decade (the rows `last_decade_of_curves` returns): (start, end), in nats."""
    first, last = last_decade[0], last_decade[-1]
    return {j: (first["train_bound"][j] - first["test_bound"][j], last["train_bound"][j] - last["test_bound"][j])
            for j in latent_sizes}


@torch.no_grad()
def gap_standard_error(model: VAE, train_images: torch.Tensor, test_images: torch.Tensor,
                       generator: torch.Generator | None = None) -> float:
    """The standard error of mean_train L(x) - mean_test L(x), the two means of the one-sample bound
    (`elbo`) over different digits: sqrt(s_train^2 / n_train + s_test^2 / n_test)."""
    bounds = [elbo(model, images, generator).bound for images in (train_images, test_images)]
    return math.sqrt(sum(b.var().item() / len(b) for b in bounds))


def gap_diagnosis(drift: dict[int, tuple[float, float]], gap_error: dict[int, float], samples: tuple[int, int]) -> str:
    """Why train and test bounds part, in words: per N_z the gap at the start and the end of the last decade
    (`gap_over_last_decade`, from samples[0] to samples[1]), the widest end gap in standard errors
    (`gap_standard_error`), and whether the gap grew by more than two standard errors (the train bound pulls
    ahead: the model fits its own training digits) or stayed at the level it started from (which digits
    were drawn)."""
    widest = max(drift, key=lambda j: abs(drift[j][1]))
    widening = [j for j, (start, end) in drift.items() if end - start > 2 * gap_error[j]]
    growth = (f" ({', '.join(f'N_z={j}' for j in widening)}): the train bound pulls ahead as training goes on, the "
              "model starts to fit its own training digits (a finding at this length of training, not noise)"
              if widening else ": the gap is the level it started from (which digits were drawn), not growth")
    return (f"train - test from {samples[0]:.0e} to {samples[1]:.0e} samples: "
            + ", ".join(f"N_z={j} {start:+.1f} to {end:+.1f}" for j, (start, end) in drift.items())
            + f" nats; one gap's standard error (two means over different digits) is {min(gap_error.values()):.2f} to "
            f"{max(gap_error.values()):.2f} nats, so the widest, N_z={widest} {drift[widest][1]:+.1f}, is "
            f"{abs(drift[widest][1]) / gap_error[widest]:.1f} standard errors from 0. The gap widens by more than two "
            f"standard errors over the last decade at {len(widening)} of {len(drift)} latent sizes{growth}")
