"""Training throughput against the machine's matrix-multiply limit, and a batched sweep
against the same models trained one after another.

    .venv/bin/python benchmarks/training_throughput.py [--steps 300] [--output benchmarks/results.json]

Prints a table and writes JSON. A benchmark, not a test: run it on a quiet machine.
Shapes are the DAE study's full profile (784-500, tied, minibatch 20, SGD).
"""

from __future__ import annotations

import argparse
import copy
import json
import platform
import time
from pathlib import Path

import torch

from aelib.batched import BatchedAutoencoder
from aelib.corruption import masking_noise
from aelib.losses import cross_entropy
from aelib.models import Autoencoder
from aelib.reproducibility import package_versions
from aelib.results import write_json_atomic

N_VISIBLE, N_HIDDEN, BATCH = 784, 500, 20


def best_seconds(run, repeats: int = 3) -> float:
    """The fastest of `repeats` timed calls (after one warm-up call)."""
    run()
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        timings.append(time.perf_counter() - started)
    return min(timings)


def dae_step_flops(n_models: int = 1) -> float:
    """FLOPs (2 per multiply-add) of one DAE step: encode and decode forward (2 products),
    and backward (3: the code's gradient, and the weight gradient from each side)."""
    return n_models * 5 * 2 * BATCH * N_VISIBLE * N_HIDDEN


def matmul_rate(steps: int) -> float:
    """Sustained float32 FLOP/s of the products a DAE step makes, at its shapes."""
    x, w = torch.rand(BATCH, N_VISIBLE), torch.rand(N_HIDDEN, N_VISIBLE)
    h = torch.rand(BATCH, N_HIDDEN)

    def products():
        for _ in range(steps):
            torch.mm(x, w.T)      # encode: [B, V] x [V, H]
            torch.mm(h, w)        # decode: [B, H] x [H, V]
            torch.mm(x, w.T)      # the code's gradient: [B, V] x [V, H]
            torch.mm(h.T, x)      # decoder-side weight gradient: [H, B] x [B, V]
            torch.mm(h.T, x)      # encoder-side weight gradient
    return steps * dae_step_flops() / best_seconds(products)


def dae_steps(models: list[Autoencoder], fractions: list[float], data: torch.Tensor, steps: int,
              batched: bool):
    """A function running `steps` SGD steps of every model, batched or one model at a time."""
    generator = torch.Generator().manual_seed(0)
    batches = [data[torch.randint(len(data), (BATCH,), generator=generator)] for _ in range(steps)]

    def one_at_a_time():
        for model, fraction in zip(copy.deepcopy(models), fractions):
            optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
            for x in batches:
                loss = cross_entropy(model.decoder_pre_activation(model.encode(masking_noise(x, fraction))), x)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()

    def together():
        sweep = BatchedAutoencoder(copy.deepcopy(models))
        levels = torch.tensor(fractions)
        optimizer = torch.optim.SGD(sweep.parameters(), lr=0.1)
        for x in batches:
            loss = cross_entropy(sweep.decoder_pre_activation(sweep.encode(masking_noise(x, levels))), x)
            optimizer.zero_grad(set_to_none=True)
            loss.sum().backward()
            optimizer.step()

    return together if batched else one_at_a_time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=300, help="SGD steps per timed run")
    parser.add_argument("--output", type=Path, default=Path("benchmarks/results.json"))
    arguments = parser.parse_args()
    torch.manual_seed(0)
    data = torch.rand(10_000, N_VISIBLE)
    initial = Autoencoder(N_VISIBLE, N_HIDDEN, generator=torch.Generator().manual_seed(0))

    rate = matmul_rate(arguments.steps)
    rows = []
    for k in (1, 4):
        models, fractions = [initial] * k, [0.25 * i / max(k - 1, 1) for i in range(k)]
        for batched in ((False,) if k == 1 else (False, True)):
            seconds = best_seconds(dae_steps(models, fractions, data, arguments.steps, batched), repeats=2)
            flops = arguments.steps * dae_step_flops(k) / seconds
            rows.append({"models": k, "batched": batched, "images_per_second": arguments.steps * BATCH * k / seconds,
                         "gflops": flops / 1e9, "fraction_of_matmul_rate": flops / rate})
    sequential = next(r for r in rows if r["models"] == 4 and not r["batched"])
    batched = next(r for r in rows if r["models"] == 4 and r["batched"])
    result = {
        "matmul_gflops": rate / 1e9, "dae": rows,
        "batched_speedup_k4": batched["images_per_second"] / sequential["images_per_second"],
        "ideal_epoch_seconds_60000": 60_000 / BATCH * dae_step_flops() / rate,
        "threads": torch.get_num_threads(), "platform": platform.platform(), "versions": package_versions(),
    }
    print(f"float32 matmul rate at DAE shapes: {rate / 1e9:.1f} GFLOP/s "
          f"(ideal 60,000-image epoch: {result['ideal_epoch_seconds_60000']:.1f} s)")
    print(f"{'models':>6} {'batched':>7} {'images/s':>10} {'GFLOP/s':>8} {'of limit':>8}")
    for r in rows:
        print(f"{r['models']:>6} {str(r['batched']):>7} {r['images_per_second']:>10.0f} {r['gflops']:>8.1f} "
              f"{r['fraction_of_matmul_rate']:>8.0%}")
    print(f"batched sweep of 4 vs one after another: {result['batched_speedup_k4']:.2f}x")
    write_json_atomic(arguments.output, result)


if __name__ == "__main__":
    main()
