"""aelib's training throughput: aelib.training.train on the loss closures the notebooks use.

Each workload builds a model, its optimizer and the loss closure of its study (01: masked
DAE, cross-entropy, SGD; 05: the PyTorch-example VAE on grey digits with Adam and the
paper's VAE on dynamically binarized digits with Adagrad; 04: the rank-ordered loss with
Adam), then times one epoch of `train` over `n_examples` rows (best of `repeats`, after a
warm-up epoch). With `compile`, the loss closure is wrapped in torch.compile first.
"""

from __future__ import annotations

import torch
from machine_limit import DAE, RANK_ORDERED, VAE_EXAMPLE, VAE_PAPER, Shape

from aelib.models import Autoencoder
from aelib.rank_order import RankOrderedAutoencoder
from aelib.regularizers import training_loss
from aelib.training import train
from aelib.vae import VAE, binarize, elbo


def dae_workload():
    model = Autoencoder(784, 500, tied=True, generator=torch.Generator().manual_seed(0))
    noise = torch.Generator().manual_seed(1)

    return training_loss("denoising", model, 0.25, generator=noise), torch.optim.SGD(model.parameters(), lr=0.1)


def vae_example_workload():
    model = VAE(784, 400, 20, decoder="bernoulli", hidden_activation="relu", init_std=None)
    return (lambda x: -elbo(model, x).bound.mean()), torch.optim.Adam(model.parameters(), lr=1e-3, fused=True)


def vae_paper_workload():
    model = VAE(784, 500, 20, decoder="bernoulli", hidden_activation="tanh", init_std=0.01,
                generator=torch.Generator().manual_seed(0))
    binarization = torch.Generator().manual_seed(1)
    return ((lambda x: -elbo(model, binarize(x, binarization)).bound.mean()),
            torch.optim.Adagrad(model.parameters(), lr=0.02))


def rank_ordered_workload():
    model = RankOrderedAutoencoder(147, 169, generator=torch.Generator().manual_seed(0))
    return model.rank_ordered_loss, torch.optim.Adam(model.parameters(), lr=0.005)


WORKLOADS = ((DAE, dae_workload), (VAE_EXAMPLE, vae_example_workload), (VAE_PAPER, vae_paper_workload),
             (RANK_ORDERED, rank_ordered_workload))


def epoch_seconds(shape: Shape, make_workload, data: torch.Tensor, repeats: int, compile: bool = False) -> float:
    """The fastest one-epoch `train` over `data` (after a warm-up epoch that also compiles)."""
    loss, optimizer = make_workload()
    if compile:
        loss = torch.compile(loss)
    timings = []
    for _ in range(repeats + 1):
        history = train(loss, optimizer, data, epochs=1, batch_size=shape.batch, progress=False,
                        generator=torch.Generator().manual_seed(2))
        timings.append(history[0]["seconds"])
    return min(timings[1:])


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
