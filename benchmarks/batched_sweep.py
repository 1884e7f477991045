"""A K=4 sweep of DAEs trained as one batched model against four runs one after another.

The DAE study's full-profile settings: 784-500 tied, sigmoid, minibatches of 20, SGD lr 0.1,
masking noise at four levels from one uniform draw per batch. The same `steps` minibatches
for every variant. Variants of the batched step, all on the stacked weights of
aelib.models.batched.BatchedAutoencoder with one optimizer:
    bmm          aelib's BatchedAutoencoder (batched matrix products)
    mm per model a Python loop of K ordinary matrix products inside the one step
    vmap         torch.func.vmap of a single model's forward over the stacked weights
Each variant's final weights are compared with the sequential runs' (max abs difference).
Everything runs on one device (the CPU by default); on CUDA each timing is synchronised.
"""

from __future__ import annotations

import copy

import torch
from machine_limit import DAE, best_seconds
from torch.func import vmap

from aelib.models.autoencoders import Autoencoder
from aelib.models.batched import BatchedAutoencoder
from aelib.models.losses import cross_entropy, reconstruction_cross_entropy
from aelib.penalties.corruption import masking_noise

LEVELS = (0.0, 0.1, 0.25, 0.5)


def _batches(data: torch.Tensor, steps: int, device: torch.device) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    return [data[torch.randint(len(data), (DAE.batch,), generator=generator)].to(device) for _ in range(steps)]


def sequential(initial: Autoencoder, batches: list[torch.Tensor]) -> list[torch.Tensor]:
    weights = []
    for fraction in LEVELS:
        model = copy.deepcopy(initial)
        noise = torch.Generator(device=initial.weight.device).manual_seed(1)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        for x in batches:
            loss = reconstruction_cross_entropy(model, x, masking_noise(x, fraction, noise))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        weights.append(model.weight.detach())
    return weights


def _bmm_logits(sweep: BatchedAutoencoder, corrupted: torch.Tensor) -> torch.Tensor:
    return sweep.decoder_pre_activation(sweep.encode(corrupted))


def _mm_logits(sweep: BatchedAutoencoder, corrupted: torch.Tensor) -> torch.Tensor:
    return torch.stack([
        torch.addmm(sweep.visible_bias[k],
                    sweep.encoder_activation(torch.addmm(sweep.hidden_bias[k], corrupted[k], sweep.weight[k].T)),
                    sweep.weight[k])
        for k in range(sweep.n_models)])


def _one_model_logits(weight, hidden_bias, visible_bias, x, activation):
    return activation(x @ weight.T + hidden_bias) @ weight + visible_bias


def _vmap_logits(sweep: BatchedAutoencoder, corrupted: torch.Tensor) -> torch.Tensor:
    return vmap(_one_model_logits, in_dims=(0, 0, 0, 0, None))(
        sweep.weight, sweep.hidden_bias, sweep.visible_bias, corrupted, sweep.encoder_activation)


VARIANTS = {"bmm": _bmm_logits, "mm per model": _mm_logits, "vmap": _vmap_logits}


def together(initial: Autoencoder, batches: list[torch.Tensor], logits) -> list[torch.Tensor]:
    device = initial.weight.device
    sweep = BatchedAutoencoder([copy.deepcopy(initial) for _ in LEVELS])
    levels, noise = torch.tensor(LEVELS, device=device), torch.Generator(device=device).manual_seed(1)
    optimizer = torch.optim.SGD(sweep.parameters(), lr=0.1)
    for x in batches:
        loss = cross_entropy(logits(sweep, masking_noise(x, levels, noise)), x)
        optimizer.zero_grad(set_to_none=True)
        loss.sum().backward()
        optimizer.step()
    return list(sweep.weight.detach())


def sweep_speedups(images: torch.Tensor, steps: int, repeats: int, device: torch.device | str = "cpu") -> dict:
    """Images/s of the sequential runs and of each batched variant on `device`; speedups; equality."""
    device = torch.device(device)
    initial = Autoencoder(784, 500, tied=True, generator=torch.Generator().manual_seed(0)).to(device)
    batches = _batches(images, steps, device)
    reference = sequential(initial, batches)
    images_seen = steps * DAE.batch * len(LEVELS)
    rows = [{"variant": "4 sequential runs", "images_per_second":
             images_seen / best_seconds(lambda: sequential(initial, batches), repeats, device),
             "max_weight_difference": 0.0}]
    for name, logits in VARIANTS.items():
        final = together(initial, batches, logits)
        difference = max((a - b).abs().max().item() for a, b in zip(final, reference))
        seconds = best_seconds(lambda logits=logits: together(initial, batches, logits), repeats, device)
        rows.append({"variant": f"batched K=4, {name}", "images_per_second": images_seen / seconds,
                     "max_weight_difference": difference})
    for row in rows:
        row["speedup"] = row["images_per_second"] / rows[0]["images_per_second"]
        row["gflops"] = row["images_per_second"] / DAE.batch * DAE.step_flops() / 1e9
    best = max(rows[1:], key=lambda row: row["speedup"])
    return {"steps": steps, "levels": list(LEVELS), "rows": rows, "best_variant": best["variant"],
            "speedup": best["speedup"],
            "speedup_bmm": next(r["speedup"] for r in rows if r["variant"].endswith("bmm"))}
