"""The machine's limit: the sustained float32 matrix-multiply rate at a model's own shapes.

A training step of a fully connected model is, in FLOPs, mostly matrix products. For each
layer of `n_in` inputs and `n_out` outputs and a minibatch of B rows, one step makes
    forward           [B, n_in]  x [n_in, n_out]
    weight gradient   [n_out, B] x [B, n_in]
    input gradient    [B, n_out] x [n_out, n_in]    (not for the first layer: the data need none)
each 2 * B * n_in * n_out FLOPs (a multiply and an add per term). Timing exactly these
products, back to back and nothing else, gives the rate the step could reach if it did
nothing but its matrix products: the limit its achieved FLOP/s is compared with.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Shape:
    """A model's layers (n_in, n_out) as the step multiplies them, and its minibatch size."""
    name: str
    layers: tuple[tuple[int, int], ...]
    batch: int
    examples_per_epoch: int

    def step_flops(self) -> float:
        """Matrix-product FLOPs of one training step (forward and backward)."""
        products = sum(3 * n_in * n_out for n_in, n_out in self.layers) - self.layers[0][0] * self.layers[0][1]
        return 2.0 * self.batch * products


# The studies' shapes. The tied DAE multiplies by W (784 -> 500) and by W^T (500 -> 784).
DAE = Shape("DAE 784-500 tied, batch 20", ((784, 500), (500, 784)), 20, 60_000)
VAE_EXAMPLE = Shape("VAE 784-400-20, batch 128", ((784, 400), (400, 20), (400, 20), (20, 400), (400, 784)), 128, 60_000)
VAE_PAPER = Shape("VAE 784-500-20, batch 100", ((784, 500), (500, 20), (500, 20), (20, 500), (500, 784)), 100, 60_000)
# The rank-ordered model multiplies only in its encoder (147 -> 169); its loss is elementwise.
RANK_ORDERED = Shape("rank-ordered 147-169, batch 100", ((147, 169),), 100, 40_000)
SHAPES = (DAE, VAE_EXAMPLE, VAE_PAPER, RANK_ORDERED)


def synchronize(device: torch.device | str | None) -> None:
    """Wait for the work queued on a CUDA device (a no-op on the CPU), so that a timing holds it all."""
    if device is not None and torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def best_seconds(run, repeats: int = 3, device: torch.device | str | None = None) -> float:
    """The fastest of `repeats` timed calls (after one warm-up call); on CUDA, each timing
    starts and ends with the device synchronised."""
    run()
    timings = []
    for _ in range(repeats):
        synchronize(device)
        started = time.perf_counter()
        run()
        synchronize(device)
        timings.append(time.perf_counter() - started)
    return min(timings)


def matmul_rate(shape: Shape, seconds: float = 1.0) -> float:
    """Sustained float32 FLOP/s of the products one step of `shape` makes, repeated for about `seconds`."""
    generator = torch.Generator().manual_seed(0)
    operands = []
    for index, (n_in, n_out) in enumerate(shape.layers):
        x = torch.rand(shape.batch, n_in, generator=generator)
        weight = torch.rand(n_out, n_in, generator=generator)
        gradient = torch.rand(shape.batch, n_out, generator=generator)
        operands.append((x, weight, gradient, index > 0))

    def step():
        for x, weight, gradient, needs_input_gradient in operands:
            torch.mm(x, weight.T)              # forward
            torch.mm(gradient.T, x)            # weight gradient
            if needs_input_gradient:
                torch.mm(gradient, weight)     # input gradient
    started = time.perf_counter()
    step()
    steps = max(10, int(seconds / max(time.perf_counter() - started, 1e-6)))

    def steps_run():
        for _ in range(steps):
            step()
    return steps * shape.step_flops() / best_seconds(steps_run)


def machine_limits(seconds: float = 1.0) -> dict[str, dict]:
    """Per studied shape: the matmul rate, the step's FLOPs and the ideal epoch time at that rate."""
    limits = {}
    for shape in SHAPES:
        rate = matmul_rate(shape, seconds)
        limits[shape.name] = {
            "shape": shape.name, "matmul_gflops": rate / 1e9, "step_mflops": shape.step_flops() / 1e6,
            "examples_per_epoch": shape.examples_per_epoch,
            "ideal_epoch_seconds": shape.examples_per_epoch / shape.batch * shape.step_flops() / rate,
        }
    return limits
