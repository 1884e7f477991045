"""Kingma & Welling's figure 2 in one call: the paper's VAE at several latent sizes, trained together
to a number of training samples, its bounds measured on a log grid of samples, checkpointed.

The experiment (Kingma & Welling 2014, sec. 5): a 784-H-N_z-H-784 VAE (tanh, Bernoulli decoder) per
latent size N_z, every parameter from N(0, 0.01^2) (biases 0), Adagrad, minibatches of M = 100, one
sample z per datapoint, the prior p(theta) = N(0, I) on the decoder's weights as a weight decay
(lambda / 2) sum W^2, and dynamically binarized digits. `train_latent_sweep` trains the latent sizes of
one `LatentSweep` as one `aelib.models.batched.BatchedVAE` with `aelib.training.loop.train`:

- the samples come in passes over the training digits, each a fresh permutation (`training_order`),
  and every model sees the same minibatches and the same binarization of them (one generator, seeded
  by the sweep's seed);
- each model draws its latent noise from a generator of its own (seeded by the seed and its N_z), and
  its initial weights too, so that a model trains the same, up to rounding, whichever models are trained
  beside it: a sweep can be split into groups run side by side (`aelib.training.processes.run_side_by_side`,
  `split_by_cost`);
- the run is cut into segments (the trainer's epochs) at the evaluation points and at least every
  `checkpoint_every` samples; the trainer keeps the given order, so the cut changes nothing. At each
  evaluation point the bound of every model is measured on fixed binary training and test digits
  (with the same noise each time) and stored in the trainer's row, which the checkpoint holds: a
  killed run resumed from its checkpoint returns what an uninterrupted one returns.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch

from aelib.models.batched import BatchedVAE, batched_elbo_means, negative_elbos
from aelib.models.vae import VAE, binarize
from aelib.penalties.regularizers import weight_decay_groups
from aelib.training.loop import train, training_order
from aelib.training.processes import run_side_by_side


@dataclass(frozen=True)
class LatentSweep:
    """The settings of one sweep over latent sizes (defaults: the paper's, sec. 5)."""
    latent_sizes: tuple[int, ...]
    """N_z of the models trained together"""
    samples: int
    """training samples per latent size (a multiple of batch_size)"""
    evaluation_samples: tuple[int, ...]
    """the numbers of samples after which the bounds are measured (multiples of batch_size; the last is `samples`)"""
    checkpoint_every: int
    """at most this many samples between checkpoints (a multiple of batch_size)"""
    weight_prior: float
    """lambda of the weight decay (lambda / 2) sum W^2 on the decoders' weights (the paper's prior: 1 / N)"""
    n_hidden: int = 500
    """hidden units in encoder and decoder"""
    batch_size: int = 100
    """minibatch size M"""
    learning_rate: float = 0.02
    """Adagrad's global step"""
    dynamic_binarization: bool = True
    """each pixel ~ Bernoulli(intensity) afresh in every minibatch; False: pixel > 0.5"""
    seed: int = 0
    """seeds the weights (seed + 10 + N_z), the binarization (seed + 1), the order (seed + 4), the latent
    noise in training (seed + 100 + N_z) and in the evaluations (seed + 200 + N_z)"""

    def __post_init__(self):
        for name in ("samples", "checkpoint_every"):
            if getattr(self, name) % self.batch_size:
                raise ValueError(f"{name} must be a multiple of batch_size ({self.batch_size}), got {getattr(self, name)}")
        if any(s % self.batch_size for s in self.evaluation_samples) or self.evaluation_samples[-1] != self.samples:
            raise ValueError(f"evaluation_samples must be multiples of batch_size ending at samples ({self.samples}), "
                             f"got {self.evaluation_samples}")

    def boundaries(self) -> list[int]:
        """The numbers of samples at which the segments end (0 first)."""
        return sorted({0, *self.evaluation_samples, *range(self.checkpoint_every, self.samples, self.checkpoint_every)})

    def initial_models(self, device: torch.device | str = "cpu") -> BatchedVAE:
        return BatchedVAE([VAE(784, self.n_hidden, n_latent, decoder="bernoulli", hidden_activation="tanh",
                               init_std=0.01, generator=torch.Generator().manual_seed(self.seed + 10 + n_latent))
                           for n_latent in self.latent_sizes]).to(device)


def train_latent_sweep(sweep: LatentSweep, train_images: torch.Tensor, train_bound_images: torch.Tensor,
                       test_images: torch.Tensor, checkpoint_path: str | os.PathLike | None = None,
                       device: str = "cpu") -> tuple[list[dict], dict[str, torch.Tensor]]:
    """Train the sweep's models on the grey `train_images` [N, 784]; return the trainer's rows and the
    trained BatchedVAE's state (on the CPU). Each row is one segment, with `samples` (seen so far per
    model) and, at an evaluation point, `train_bound` and `test_bound` (each model's mean bound on the
    binary `train_bound_images` and `test_images`) and `test_kl`, lists in the order of latent_sizes.
    With `checkpoint_path`, the state is saved after every segment and an existing checkpoint resumed."""
    device = torch.device(device)
    train_images, train_bound_images, test_images = (t.to(device) for t in (train_images, train_bound_images,
                                                                             test_images))
    models = sweep.initial_models(device)
    binarization = torch.Generator(device=device).manual_seed(sweep.seed + 1)
    noise = [torch.Generator(device=device).manual_seed(sweep.seed + 100 + j) for j in sweep.latent_sizes]
    boundaries = sweep.boundaries()

    def loss(indices):
        x = train_images[indices]
        x = binarize(x, binarization) if sweep.dynamic_binarization else (x > 0.5).float()
        return negative_elbos(models, x, noise)

    def segment(number):  # the samples boundaries[number - 1] to boundaries[number] of the run
        return training_order(len(train_images), boundaries[number - 1], boundaries[number], sweep.seed + 4)

    def measure_bounds(row):
        row["samples"] = boundaries[row["epoch"]]
        if row["samples"] in sweep.evaluation_samples:
            for name, images in (("train", train_bound_images), ("test", test_images)):
                same_noise = [torch.Generator(device=device).manual_seed(sweep.seed + 200 + j) for j in sweep.latent_sizes]
                terms = batched_elbo_means(models, images, same_noise)
                row[f"{name}_bound"], row[f"{name}_kl"] = terms.bound.tolist(), terms.kl.tolist()

    groups = weight_decay_groups(models.parameters(), models.decoder_weights(), sweep.weight_prior)
    optimizer = torch.optim.Adagrad(groups, lr=sweep.learning_rate, fused=(device.type == "cpu") or None)
    history = train(loss, optimizer, segment, epochs=len(boundaries) - 1, batch_size=sweep.batch_size, shuffle=False,
                    generator=binarization, generators=noise, on_epoch_end=measure_bounds,
                    checkpoint_path=checkpoint_path, description=f"N_z = {list(sweep.latent_sizes)}")
    return history, {name: value.detach().cpu() for name, value in models.state_dict().items()}


def sample_cost(n_latent: int, n_hidden: int = 500, n_visible: int = 784) -> int:
    """Multiply-adds of one training sample of a VAE 784-H-N_z-H-784, forward and backward (about
    3 per weight, 2 for the first layer, whose input needs no gradient): the work a latent size adds."""
    return 2 * n_visible * n_hidden + 3 * (n_hidden * 2 * n_latent + n_latent * n_hidden + n_hidden * n_visible)


def split_by_cost(latent_sizes: list[int], n_groups: int, n_hidden: int = 500) -> list[tuple[int, ...]]:
    """The latent sizes in `n_groups` groups of near-equal training cost (the largest first, each to the
    cheapest group so far), each group in the order of `latent_sizes`."""
    if not 1 <= n_groups <= len(latent_sizes):
        raise ValueError(f"need 1 <= n_groups <= {len(latent_sizes)} latent sizes, got {n_groups}")
    groups: list[list[int]] = [[] for _ in range(n_groups)]
    for n_latent in sorted(latent_sizes, key=lambda j: -sample_cost(j, n_hidden)):
        min(groups, key=lambda g: (sum(sample_cost(j, n_hidden) for j in g), len(g))).append(n_latent)
    return [tuple(j for j in latent_sizes if j in group) for group in groups]


def merged_rows(histories: list[list[dict]], sweeps: list[LatentSweep]) -> list[dict]:
    """The rows of several groups' runs (the same segments) as one: every per-model list keyed by N_z."""
    rows = []
    for group_rows in zip(*histories):
        row = {"samples": group_rows[0]["samples"],
               "seconds": max(r["seconds"] for r in group_rows)}  # the groups ran side by side
        for key in ("train_loss", "train_bound", "test_bound", "test_kl"):
            if key in group_rows[0]:
                row[key] = {j: value for r, sweep in zip(group_rows, sweeps) for j, value in zip(sweep.latent_sizes, r[key])}
        rows.append(row)
    return rows


def sweep_checkpoint_path(checkpoint_dir: str | os.PathLike | None, sweep: LatentSweep) -> Path | None:
    """A group's checkpoint in `checkpoint_dir`, named after its latent sizes; None: none kept."""
    if not checkpoint_dir:
        return None
    return Path(checkpoint_dir) / f"bernoulli_vaes_{'_'.join(map(str, sweep.latent_sizes))}.pt"


def run_latent_sweeps(sweeps: list[LatentSweep], train_images: torch.Tensor, train_bound_images: torch.Tensor,
                      test_images: torch.Tensor, *, checkpoint_dir: str | os.PathLike | None = None,
                      device: torch.device | str = "cpu", total_threads: int = 1) -> tuple[list[dict], dict, dict]:
    """Train each group of latent sizes (`train_latent_sweep`) side by side, one process each
    (`aelib.training.processes.run_side_by_side`), and gather what figure 2 needs.

    Returns the groups' rows merged (`merged_rows`), the trained VAEs {N_z: VAE} in increasing N_z,
    and each model's final terms {N_z: {train_bound, bound, reconstruction_log_likelihood, kl}} on
    `test_images`, measured with the noise of the last evaluation (so that `bound` is its test bound)."""
    device = torch.device(device)
    calls = [dict(sweep=sweep, train_images=train_images, train_bound_images=train_bound_images,
                  test_images=test_images, checkpoint_path=sweep_checkpoint_path(checkpoint_dir, sweep),
                  device=str(device)) for sweep in sweeps]
    results = run_side_by_side(train_latent_sweep, calls, total_threads=total_threads)
    rows = merged_rows([history for history, _ in results], sweeps)
    last_curve = [row for row in rows if "test_bound" in row][-1]
    models, final_terms = {}, {}
    for sweep, (_, state) in zip(sweeps, results):
        trained = sweep.initial_models(device)
        trained.load_state_dict(state)
        models.update(zip(sweep.latent_sizes, trained.unstack()))
        same_noise = [torch.Generator(device=device).manual_seed(sweep.seed + 200 + j) for j in sweep.latent_sizes]
        terms = batched_elbo_means(trained, test_images, same_noise)
        for k, n_latent in enumerate(sweep.latent_sizes):
            final_terms[n_latent] = {"train_bound": last_curve["train_bound"][n_latent], "bound": terms.bound[k].item(),
                                     "reconstruction_log_likelihood": terms.reconstruction_log_likelihood[k].item(),
                                     "kl": terms.kl[k].item()}
    return rows, dict(sorted(models.items())), dict(sorted(final_terms.items()))
