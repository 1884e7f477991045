"""aelib's training throughput: aelib.training.loop.train on the loss closures the notebooks use.

Each workload builds a model, its optimizer and the loss closure of its study (01: masked
DAE, cross-entropy, SGD; 05: the PyTorch-example VAE on grey digits with Adam and the
paper's VAE on dynamically binarized digits with Adagrad; 04: the rank-ordered loss with
Adam) on a device, then times one epoch of `train` over `n_examples` rows (best of
`repeats`, after a warm-up epoch). With `compile`, the loss closure is wrapped in
torch.compile first; with `autocast_dtype` (torch.bfloat16), the training losses run under
torch.autocast, as `train` does it, and the loss is then evaluated in float32.
"""

from __future__ import annotations

import time

import torch
from machine_limit import DAE, RANK_ORDERED, VAE_EXAMPLE, VAE_PAPER, Shape, synchronize

from aelib.models.autoencoders import Autoencoder
from aelib.models.vae import VAE, binarize, elbo
from aelib.penalties.regularizers import training_loss
from aelib.training.loop import evaluate, train
from aelib.training.rank_ordered_rule import RankOrderedNetwork

CPU = torch.device("cpu")


def dae_workload(device: torch.device = CPU):
    model = Autoencoder(784, 500, tied=True, generator=torch.Generator().manual_seed(0)).to(device)
    noise = torch.Generator(device=device).manual_seed(1)
    return training_loss("denoising", model, 0.25, generator=noise), torch.optim.SGD(model.parameters(), lr=0.1)


def vae_example_workload(device: torch.device = CPU):
    model = VAE(784, 400, 20, decoder="bernoulli", hidden_activation="relu", init_std=None).to(device)
    return (lambda x: -elbo(model, x).bound.mean()), torch.optim.Adam(model.parameters(), lr=1e-3, fused=True)


def vae_paper_workload(device: torch.device = CPU):
    model = VAE(784, 500, 20, decoder="bernoulli", hidden_activation="tanh", init_std=0.01,
                generator=torch.Generator().manual_seed(0)).to(device)
    binarization = torch.Generator(device=device).manual_seed(1)
    return ((lambda x: -elbo(model, binarize(x, binarization)).bound.mean()),
            torch.optim.Adagrad(model.parameters(), lr=0.02))


def rank_ordered_workload(device: torch.device = CPU):
    """Study 04's minibatch variant: the author's rule on minibatches, plain SGD (the GPU's version)."""
    model = RankOrderedNetwork(147, 169, generator=torch.Generator().manual_seed(0)).to(device)
    return model.rule_loss, torch.optim.SGD(model.parameters(), lr=10.0)


WORKLOADS = ((DAE, dae_workload), (VAE_EXAMPLE, vae_example_workload), (VAE_PAPER, vae_paper_workload),
             (RANK_ORDERED, rank_ordered_workload))


def timed_training(shape: Shape, make_workload, data: torch.Tensor, repeats: int, compile: bool = False,
                   device: torch.device = CPU, autocast_dtype: torch.dtype | None = None):
    """The seconds of the fastest one-epoch `train` over `data` (after a warm-up epoch that also
    compiles), each timed with the device synchronised before and after, and the loss closure,
    whose model has then been trained for repeats + 1 epochs."""
    loss, optimizer = make_workload(device)
    if compile:
        loss = torch.compile(loss)
    data = data.to(device)  # resident, as in the notebooks: no copy inside the timed epochs
    timings = []
    for _ in range(repeats + 1):
        synchronize(device)
        started = time.perf_counter()
        train(loss, optimizer, data, epochs=1, batch_size=shape.batch, progress=False,
              generator=torch.Generator().manual_seed(2), autocast_dtype=autocast_dtype)
        synchronize(device)
        timings.append(time.perf_counter() - started)
    return min(timings[1:]), loss


def epoch_seconds(shape: Shape, make_workload, data: torch.Tensor, repeats: int, compile: bool = False) -> float:
    """The fastest one-epoch `train` over `data` on the CPU (after a warm-up epoch that also compiles)."""
    return timed_training(shape, make_workload, data, repeats, compile)[0]


def throughput(images: torch.Tensor, patches: torch.Tensor, limits: dict[str, dict], n_examples: int,
               repeats: int, compile: bool = False) -> list[dict]:
    """One row per workload: examples/s, achieved matrix-product GFLOP/s and its fraction of the limit."""
    rows = []
    for shape, make_workload in WORKLOADS:
        data = (patches if shape is RANK_ORDERED else images)[:n_examples]
        variants = (False, True) if compile else (False,)
        for compiled in variants:
            torch.manual_seed(0)
            seconds = epoch_seconds(shape, make_workload, data, repeats, compiled)
            steps = -(-len(data) // shape.batch)
            gflops = steps * shape.step_flops() / seconds / 1e9
            limit = limits[shape.name]
            rows.append({"model": shape.name, "torch_compile": compiled, "examples": len(data),
                         "examples_per_second": len(data) / seconds, "gflops": gflops,
                         "matmul_gflops": limit["matmul_gflops"],
                         "fraction_of_matmul_rate": gflops / limit["matmul_gflops"],
                         "epoch_seconds": limit["examples_per_epoch"] / len(data) * seconds,
                         "ideal_epoch_seconds": limit["ideal_epoch_seconds"]})
    return rows


# The precisions compared on a GPU: (label, autocast dtype of the training losses)
PRECISIONS = (("float32", None), ("bf16 autocast", torch.bfloat16))


def precision_throughput(images: torch.Tensor, patches: torch.Tensor, held_out_images: torch.Tensor,
                         held_out_patches: torch.Tensor, n_examples: int, repeats: int, device: torch.device,
                         shapes: tuple[Shape, ...] = (DAE, VAE_PAPER, RANK_ORDERED)) -> list[dict]:
    """One row per workload and precision on `device`: examples/s, the full epoch's seconds at that
    rate, achieved GFLOP/s, and the loss on held-out rows evaluated in float32 after training."""
    workloads = dict(WORKLOADS)
    rows = []
    for shape in shapes:
        data, held_out = (patches, held_out_patches) if shape is RANK_ORDERED else (images, held_out_images)
        data = data[:n_examples]
        for label, dtype in PRECISIONS:
            torch.manual_seed(0)
            seconds, loss = timed_training(shape, workloads[shape], data, repeats, device=device, autocast_dtype=dtype)
            steps = -(-len(data) // shape.batch)
            rows.append({"model": shape.name, "precision": label, "examples": len(data),
                         "examples_per_second": len(data) / seconds,
                         "gflops": steps * shape.step_flops() / seconds / 1e9,
                         "epoch_seconds": shape.examples_per_epoch / len(data) * seconds,
                         "held_out_loss_float32": evaluate(loss, held_out.to(device))})
    return rows
