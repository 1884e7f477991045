"""The rank-ordered autoencoder as its author trains it: one patch at a time, each unit
credited with the residual at its own rank (P. Bertens, "Rank Ordered Autoencoders", arXiv
1605.01749, 2016, and the learning rule of the author's public code, repository
paulbertens/rank-ordered-autoencoder; written anew here from the rule).

For one patch x (V pixel values divided by 256) and W (H x V, row j the filter w_j of unit
j, used to encode and to decode; no biases):

    u_j = w_j . x / V                                 the pre-activation, divided by the input size
    z_j = clip(u_j, 0, 1)                             the code (TReLU's forward pass)
    r(1), r(2), ..., r(H)                             the units in decreasing order of u
    S_k = clip(sum_{i <= k} z_r(i) w_r(i), 0, 1)      the progressive reconstruction, in the pixel range
    e_j = x - S_rank(j)                               unit j's residual, at its own rank only

One step of plain SGD (learning rate eta) moves unit j's filter by eta g_j, with

    g_j = z_j e_j + T(u_j, e_j . w_j / V) x,

the decoder term and the encoder term. T is TReLU's error signal (`trelu_error_signal`): the
error d reaches the pre-activation only where it moves u_j towards 0 (sign d != sign u_j), and
is clipped so that it does not carry u_j past 0 (|d| <= |u_j|). So only the decoder term can
make a unit fire more. Each g_j is clipped to L2 norm `norm_limit` (0.1). After an epoch whose
mean error ||x - S_H|| fell by less than 1%, eta is multiplied by 0.9. The rule is not the
gradient of one loss: each unit sees its own residual.

The unranked ablation (ranked=False) credits every unit with the full residual x - S_H.
The author's metrics, used for every network here: the top-k error ||x - S_k||_2 per patch
(`top_k_errors`), averaged over patches, and its k = H value, the reconstruction error.

Per-patch SGD is sequential, so `train_sequential` runs it through a compiled kernel (numba);
`RankOrderedNetwork.rule_loss` is the same rule on minibatches, for a GPU and any torch optimizer.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

import numba
import numpy as np
import torch
from torch import nn

NORM_LIMIT = 0.1
DECAY_WHEN_STALLED = 0.9
STALL_FRACTION = 0.01


def trelu_error_signal(u: torch.Tensor, d: torch.Tensor) -> torch.Tensor:
    """T(u, d): the error signal d (the direction that lowers the error) that reaches the
    pre-activation u: only where it moves u towards 0 (sign d != sign u), clipped so that one
    step does not carry u past 0. At u = 0 any d passes."""
    towards_zero = torch.sign(d) != torch.sign(u)
    signal = torch.where(towards_zero, d, torch.zeros_like(d))
    return torch.where(u > 0, torch.maximum(signal, -u), torch.where(u < 0, torch.minimum(signal, -u), signal))


class RankOrderedNetwork(nn.Module):
    """One weight matrix W (n_hidden x n_visible), no biases: u = W x / V, z = clip(u, 0, 1),
    x^ = clip(W^T z, 0, 1). W starts normal with standard deviation sqrt(2 / (V + H)), as the
    author's code. Offers the models' interface (pre_activation, encode, decode, filters)."""

    def __init__(self, n_visible: int, n_hidden: int, *, generator: torch.Generator | None = None,
                 dtype: torch.dtype = torch.float32):
        super().__init__()
        if n_visible < 1 or n_hidden < 1:
            raise ValueError(f"layer sizes must be positive, got {n_visible} and {n_hidden}")
        self.n_visible, self.n_hidden = n_visible, n_hidden
        std = math.sqrt(2 / (n_visible + n_hidden))
        self.weight = nn.Parameter(torch.randn((n_hidden, n_visible), generator=generator, dtype=dtype) * std)

    def pre_activation(self, x: torch.Tensor) -> torch.Tensor:
        """u = W x / V."""
        return x @ self.weight.T / self.n_visible

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.pre_activation(x).clamp(0.0, 1.0)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """S_H = clip(sum_j z_j w_j, 0, 1), the reconstruction by every unit."""
        return (z @ self.weight).clamp(0.0, 1.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))

    def filters(self) -> torch.Tensor:
        return self.weight.detach()

    def rule_loss(self, x: torch.Tensor, ranked: bool = True, norm_limit: float | None = NORM_LIMIT) -> torch.Tensor:
        """The rule on a minibatch, for any torch optimizer: a scalar (the mean error ||x - S_H||)
        whose gradient with respect to W is minus the rule's update direction g averaged over the
        batch, each unit's row clipped to L2 norm `norm_limit` (None: not clipped)."""
        return _RuleStep.apply(self.weight, x, ranked, norm_limit)

    def extra_repr(self) -> str:
        return f"{self.n_visible} -> {self.n_hidden}, one matrix, no biases, u = W x / {self.n_visible}"


def rule_direction(weight: torch.Tensor, x: torch.Tensor, ranked: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """The rule's update direction g for each patch of x, averaged over the batch ([H, V]),
    and each patch's error ||x - S_H|| ([B]). Vectorised over the batch: [B, H, V] memory."""
    n_hidden, n_visible = weight.shape
    u = x @ weight.T / n_visible                                            # [B, H]
    z = u.clamp(0.0, 1.0)
    order = torch.argsort(u, dim=1, descending=True, stable=True)         # r(1), r(2), ...
    contributions = z.gather(1, order)[:, :, None] * weight[order]         # [B, H, V], in rank order
    reconstructions = contributions.cumsum(dim=1).clamp(0.0, 1.0)          # S_1 ... S_H
    if ranked:
        residuals = torch.empty_like(reconstructions)
        residuals.scatter_(1, order[:, :, None].expand_as(reconstructions), x[:, None, :] - reconstructions)
    else:
        residuals = (x - reconstructions[:, -1])[:, None, :].expand(-1, n_hidden, -1)
    d = trelu_error_signal(u, (residuals * weight).sum(dim=2) / n_visible)  # [B, H]
    g = z[:, :, None] * residuals + d[:, :, None] * x[:, None, :]
    return g.mean(dim=0), (x - reconstructions[:, -1]).norm(dim=1)


class _RuleStep(torch.autograd.Function):
    @staticmethod
    def forward(ctx, weight, x, ranked, norm_limit):
        with torch.no_grad():
            direction, errors = rule_direction(weight, x, ranked)
            if norm_limit is not None:
                norms = direction.norm(dim=1, keepdim=True)
                direction = torch.where(norms > norm_limit, direction * (norm_limit / norms), direction)
        ctx.save_for_backward(direction)
        return errors.mean()

    @staticmethod
    def backward(ctx, grad_output):
        (direction,) = ctx.saved_tensors
        return -grad_output * direction, None, None, None


@numba.njit(cache=True, fastmath=True)
def _sequential_epoch(weight, patches, order, learning_rate, norm_limit, ranked):
    """One pass of per-patch SGD over patches[order], in place on weight; returns the mean
    error ||x - S_H|| of each patch before its step."""
    n_hidden, n_visible = weight.shape
    u = np.empty(n_hidden, dtype=np.float64)
    accumulated = np.empty(n_visible, dtype=np.float64)
    residual = np.empty(n_visible, dtype=np.float64)
    total_error = 0.0
    for p in order:
        x = patches[p]
        for j in range(n_hidden):
            s = 0.0
            for v in range(n_visible):
                s += weight[j, v] * x[v]
            u[j] = s / n_visible
        ranking = np.argsort(u, kind="mergesort")[::-1]
        accumulated[:] = 0.0
        if not ranked:  # every unit is credited with the full residual: compute it first
            for j in range(n_hidden):
                z = min(max(u[j], 0.0), 1.0)
                for v in range(n_visible):
                    accumulated[v] += z * weight[j, v]
            for v in range(n_visible):
                residual[v] = x[v] - min(max(accumulated[v], 0.0), 1.0)
        for k in range(n_hidden):
            j = ranking[k]
            z = min(max(u[j], 0.0), 1.0)
            if ranked:  # S_k adds unit j; unit j's residual is the one at its rank
                for v in range(n_visible):
                    accumulated[v] += z * weight[j, v]
                    residual[v] = x[v] - min(max(accumulated[v], 0.0), 1.0)
            d = 0.0
            for v in range(n_visible):
                d += residual[v] * weight[j, v]
            d /= n_visible
            uj = u[j]
            if (d > 0.0) - (d < 0.0) == (uj > 0.0) - (uj < 0.0):  # signs agree: blocked
                d = 0.0
            elif uj > 0.0:
                d = max(d, -uj)
            elif uj < 0.0:
                d = min(d, -uj)
            norm = 0.0
            for v in range(n_visible):
                g = z * residual[v] + d * x[v]
                norm += g * g
            scale = learning_rate
            norm = math.sqrt(norm)
            if norm > norm_limit:
                scale = learning_rate * norm_limit / norm
            for v in range(n_visible):  # unit j's filter is not read again for this patch
                weight[j, v] += scale * (z * residual[v] + d * x[v])
        error = 0.0
        for v in range(n_visible):
            difference = x[v] - min(max(accumulated[v], 0.0), 1.0)
            error += difference * difference
        total_error += math.sqrt(error)
    return total_error / len(order)


def train_sequential(model: RankOrderedNetwork, patches_for_epoch: Callable[[int], torch.Tensor], *, epochs: int,
                     learning_rate: float = 1.0, norm_limit: float = NORM_LIMIT, ranked: bool = True,
                     generator: torch.Generator | None = None,
                     on_epoch_end: Callable[[dict], None] | None = None) -> list[dict]:
    """The author's training: per-patch SGD on CPU, epoch by epoch. `patches_for_epoch(epoch)`
    gives that epoch's patches ([N, V], e.g. one fresh random patch per image), visited in a
    random order drawn with `generator`. Returns one row per epoch: epoch, train_error (the mean
    error of each patch before its step, the author's running training error), learning_rate
    (the one used in that epoch), seconds; `on_epoch_end(row)` may add to the row."""
    if epochs < 0 or not learning_rate > 0 or not norm_limit > 0:
        raise ValueError(f"need epochs >= 0 and positive rates, got {epochs}, {learning_rate}, {norm_limit}")
    generator = generator if generator is not None else torch.Generator().manual_seed(0)
    weight = model.weight.detach()
    if weight.device.type != "cpu":
        raise ValueError("per-patch SGD runs on the CPU; move the model there, or use rule_loss on a GPU")
    history = []
    for epoch in range(1, epochs + 1):
        started = time.perf_counter()
        patches = patches_for_epoch(epoch).to("cpu", weight.dtype).contiguous().numpy()
        order = torch.randperm(len(patches), generator=generator).numpy()
        with torch.no_grad():
            error = _sequential_epoch(weight.numpy(), patches, order, learning_rate, norm_limit, ranked)
        row = {"epoch": epoch, "train_error": float(error), "learning_rate": learning_rate,
               "seconds": time.perf_counter() - started}
        if history and not error * (1 + STALL_FRACTION) < history[-1]["train_error"]:
            learning_rate *= DECAY_WHEN_STALLED
        history.append(row)
        if on_epoch_end is not None:
            on_epoch_end(row)
    return history


@torch.no_grad()
def top_k_errors(model: nn.Module, x: torch.Tensor, ks: Sequence[int], batch_size: int = 2000) -> dict[int, float]:
    """Mean ||x - S_k||_2 per patch for each k (the author's top-k curve; S_k clipped to [0, 1]):
    the error left when only the k units of highest pre-activation reconstruct."""
    totals = dict.fromkeys(ks, 0.0)
    for start in range(0, len(x), batch_size):
        batch = x[start:start + batch_size]
        u = model.pre_activation(batch)
        z = u.clamp(0.0, 1.0)
        rank = torch.argsort(torch.argsort(u, dim=1, descending=True, stable=True), dim=1)
        for k in ks:
            reconstruction = ((z * (rank < k)) @ model.weight).clamp(0.0, 1.0)
            totals[k] += (batch - reconstruction).norm(dim=1).sum().item()
    return {k: total / len(x) for k, total in totals.items()}


def units_for_mass(z: torch.Tensor, mass: float = 0.9) -> torch.Tensor:
    """Per code, how many of its largest units it takes to hold `mass` of its total activation
    sum_j z_j (z >= 0): a scale-free count of the units in use. 0 for an all-zero code."""
    if not 0 < mass <= 1:
        raise ValueError(f"mass must lie in (0, 1], got {mass!r}")
    ranked = z.sort(dim=1, descending=True).values
    share = ranked.cumsum(dim=1) / ranked.sum(dim=1, keepdim=True).clamp_min(1e-30)
    count = (share < mass - 1e-12).sum(dim=1) + 1
    return torch.where(ranked.sum(dim=1) > 0, count, torch.zeros_like(count))
