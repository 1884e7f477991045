"""Study 05 at the paper's scale: how fast can the latent sizes of Kingma & Welling's figure 2 train?

The workload: the paper's VAE 784-500-N_z (tanh, Bernoulli decoder, N(0, 0.01^2) weights), Adagrad
0.02, minibatches of 100 dynamically binarized digits, for N_z = 2, 3, 5, 10, 20, 200. Each variant
trains every latent size on `samples` training digits through aelib.training.loop.train (after a short
warm-up run):

    one VAE per N_z           notebook 05 before issue 14: one `train` per latent size, torch's default Adagrad
    ... fused Adagrad         the same with Adagrad(fused=True): one pass over each parameter per step
    batched, one process      aelib.training.vae_sweep.train_latent_sweep: all latent sizes as one BatchedVAE (one
                              product for the encoders' first layers, one batched product for the decoders'
                              output layers), fused Adagrad, the weight prior; one process with all threads
    batched, two processes    the same in two groups of near-equal cost (split_by_cost), side by side in two
                              processes of one thread each (aelib.training.processes.run_side_by_side): the new notebook

A rate is in samples per second summed over the latent sizes (a sample: one training digit seen by
one model), from the trainer's own seconds (training only: no process start, no evaluation; for two
processes, the slower group's); `wall s` is the whole call. The projection is the full profile's
training time, 10^7 samples per latent size, at that rate. A benchmark, not a test: run it on an
otherwise idle machine.

    .venv/bin/python benchmarks/vae_scale.py --threads 1 2 --samples 20000
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("TQDM_DISABLE", "1")  # before tqdm is imported, here and in the workers

import torch  # noqa: E402

from aelib.models.vae import VAE, binarize, elbo  # noqa: E402
from aelib.training.loop import train  # noqa: E402
from aelib.training.processes import run_side_by_side  # noqa: E402
from aelib.training.vae_sweep import LatentSweep, split_by_cost, train_latent_sweep  # noqa: E402

LATENT_SIZES = (2, 3, 5, 10, 20, 200)
FULL_PROFILE_SAMPLES = 10**7


def one_per_latent_size(images: torch.Tensor, latent_sizes, samples: int, threads: int, fused: bool) -> float:
    """Train each latent size alone; returns the training seconds."""
    torch.set_num_threads(threads)
    binarization = torch.Generator().manual_seed(1)
    seconds = 0.0
    for n_latent in latent_sizes:
        model = VAE(784, 500, n_latent, init_std=0.01, generator=torch.Generator().manual_seed(10 + n_latent))

        def loss(x, model=model):
            return -elbo(model, binarize(x, binarization)).bound.mean()

        optimizer = torch.optim.Adagrad(model.parameters(), lr=0.02, fused=fused or None)
        history = train(loss, optimizer, images[:samples], epochs=1, batch_size=100, progress=False,
                        generator=torch.Generator().manual_seed(2))
        seconds += history[0]["seconds"]
    return seconds


def batched(images: torch.Tensor, latent_sizes, samples: int, threads: int, processes: int) -> float:
    """Train the latent sizes as the new notebook does, in `processes` groups side by side; returns the
    training seconds of the slowest group."""
    torch.set_num_threads(threads)
    evaluation = torch.bernoulli(images[:100])
    calls = [dict(sweep=LatentSweep(latent_sizes=group, samples=samples, evaluation_samples=(samples,),
                                    checkpoint_every=samples, weight_prior=1 / len(images)),
                  train_images=images, train_bound_images=evaluation, test_images=evaluation)
             for group in split_by_cost(list(latent_sizes), processes)]
    results = run_side_by_side(train_latent_sweep, calls, total_threads=threads)
    return max(sum(row["seconds"] for row in history) for history, _ in results)


VARIANTS = {
    "one VAE per N_z (notebook 05 before)": lambda x, j, n, t: one_per_latent_size(x, j, n, t, fused=False),
    "one VAE per N_z, fused Adagrad": lambda x, j, n, t: one_per_latent_size(x, j, n, t, fused=True),
    "batched, one process": lambda x, j, n, t: batched(x, j, n, t, processes=1),
    "batched, two processes": lambda x, j, n, t: batched(x, j, n, t, processes=2),
}


def measure(images: torch.Tensor, threads: int, samples: int, latent_sizes=LATENT_SIZES) -> list[dict]:
    rows = []
    for name, run in VARIANTS.items():
        if name.endswith("two processes") and threads < 2:
            continue
        run(images, latent_sizes, 1000, threads)  # warm-up
        wall = time.perf_counter()
        seconds = run(images, latent_sizes, samples, threads)
        wall = time.perf_counter() - wall
        rate = samples * len(latent_sizes) / seconds
        rows.append({"variant": name, "threads": threads, "samples_per_latent_size": samples,
                     "training_seconds": seconds, "wall_seconds": wall, "samples_per_second": rate,
                     "projected_full_profile_training_minutes": FULL_PROFILE_SAMPLES * len(latent_sizes) / rate / 60})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="threads in all (both processes together)")
    parser.add_argument("--samples", type=int, default=20_000, help="training digits per latent size and variant")
    parser.add_argument("--json", help="also write the rows to this file")
    arguments = parser.parse_args()
    images = torch.rand(60_000, 784, generator=torch.Generator().manual_seed(0))  # grey values, as MNIST's
    rows = [row for threads in arguments.threads for row in measure(images, threads, arguments.samples)]
    print(f"{'variant':38s} {'threads':>7s} {'samples/s':>10s} {'wall s':>7s} {'full profile training (min)':>28s}")
    for row in rows:
        print(f"{row['variant']:38s} {row['threads']:7d} {row['samples_per_second']:10,.0f} {row['wall_seconds']:7.1f} "
              f"{row['projected_full_profile_training_minutes']:28.1f}")
    if arguments.json:
        with open(arguments.json, "w") as file:
            json.dump(rows, file, indent=1)


if __name__ == "__main__":
    main()
