"""Study 05 at the paper's scale: how fast can the latent sizes of Kingma & Welling's figure 2 train?

The workload: the paper's VAE 784-500-N_z (tanh, Bernoulli decoder, N(0, 0.01^2) weights), Adagrad
0.02, minibatches of 100 dynamically binarized digits, for N_z = 2, 3, 5, 10, 20, 200. Each variant
trains every latent size on the same `samples` training digits through aelib.training.train and is
timed in wall and CPU seconds (after a warm-up of a few steps):

    one VAE per N_z           notebook 05 before issue 14: one `train` per latent size, torch's default Adagrad
    ... fused Adagrad         the same with Adagrad(fused=True): one pass over each parameter per step
    batched                   aelib.batched.BatchedVAE: all latent sizes as one model (one product for the
                              encoders' first layers, one batched product for the decoders' output layers),
                              fused Adagrad, the weight prior, indices from training_order (the new notebook's loop)

A rate is in samples per second summed over the latent sizes (a sample: one training digit seen by
one model); the projection is the full profile's training time, 10^7 samples per latent size, at that
rate (evaluation not included). A benchmark, not a test: run it on an otherwise idle machine.

    .venv/bin/python benchmarks/vae_scale.py --threads 1 2 --samples 20000
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from aelib.batched import BatchedVAE, negative_elbos
from aelib.regularizers import weight_decay_groups
from aelib.training import train, training_order
from aelib.vae import VAE, binarize, elbo

LATENT_SIZES = (2, 3, 5, 10, 20, 200)
FULL_PROFILE_SAMPLES = 10**7


def _models(latent_sizes):
    return [VAE(784, 500, j, init_std=0.01, generator=torch.Generator().manual_seed(10 + j)) for j in latent_sizes]


def one_per_latent_size(images: torch.Tensor, latent_sizes, samples: int, fused: bool) -> None:
    binarization = torch.Generator().manual_seed(1)
    for model in _models(latent_sizes):
        def loss(x, model=model):
            return -elbo(model, binarize(x, binarization)).bound.mean()

        optimizer = torch.optim.Adagrad(model.parameters(), lr=0.02, fused=fused or None)
        train(loss, optimizer, images[:samples], epochs=1, batch_size=100, progress=False,
              generator=torch.Generator().manual_seed(2))


def batched(images: torch.Tensor, latent_sizes, samples: int) -> None:
    model = BatchedVAE(_models(latent_sizes))
    generator = torch.Generator().manual_seed(2)
    groups = weight_decay_groups(model.parameters(), model.decoder_weights(), 1 / 60_000)  # the weight prior
    optimizer = torch.optim.Adagrad(groups, lr=0.02, fused=True)
    train(lambda indices: negative_elbos(model, binarize(images[indices], generator), generator),
          optimizer, lambda epoch: training_order(len(images), 0, samples, 3), epochs=1, batch_size=100,
          shuffle=False, progress=False, generator=generator)


VARIANTS = {
    "one VAE per N_z (notebook 05 before)": lambda x, j, n: one_per_latent_size(x, j, n, fused=False),
    "one VAE per N_z, fused Adagrad": lambda x, j, n: one_per_latent_size(x, j, n, fused=True),
    "batched (BatchedVAE, fused Adagrad)": batched,
}


def measure(images: torch.Tensor, threads: int, samples: int, latent_sizes=LATENT_SIZES) -> list[dict]:
    torch.set_num_threads(threads)
    rows = []
    for name, run in VARIANTS.items():
        run(images, latent_sizes, 500)  # warm-up
        wall, cpu = time.perf_counter(), time.process_time()
        run(images, latent_sizes, samples)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        rate = samples * len(latent_sizes) / wall
        rows.append({"variant": name, "threads": threads, "samples_per_latent_size": samples,
                     "wall_seconds": wall, "cpu_seconds": cpu, "samples_per_second": rate,
                     "samples_per_cpu_second": samples * len(latent_sizes) / cpu,
                     "projected_full_profile_training_minutes":
                         FULL_PROFILE_SAMPLES * len(latent_sizes) / rate / 60})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--samples", type=int, default=20_000, help="training digits per latent size and variant")
    parser.add_argument("--json", help="also write the rows to this file")
    arguments = parser.parse_args()
    images = torch.rand(60_000, 784, generator=torch.Generator().manual_seed(0))  # grey values, as MNIST's
    rows = [row for threads in arguments.threads for row in measure(images, threads, arguments.samples)]
    print(f"{'variant':40s} {'threads':>7s} {'samples/s':>10s} {'per CPU s':>10s} {'full profile (min)':>19s}")
    for row in rows:
        print(f"{row['variant']:40s} {row['threads']:7d} {row['samples_per_second']:10,.0f} "
              f"{row['samples_per_cpu_second']:10,.0f} {row['projected_full_profile_training_minutes']:19.1f}")
    if arguments.json:
        with open(arguments.json, "w") as file:
            json.dump(rows, file, indent=1)


if __name__ == "__main__":
    main()
