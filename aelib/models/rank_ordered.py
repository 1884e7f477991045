"""Rank-ordered autoencoders (P. Bertens, "Rank Ordered Autoencoders", arXiv 1605.01749, 2016).

One hidden layer, one weight matrix W (n_hidden x n_visible) shared by encoder and decoder:

    z   = TReLU(W x + b),                      TReLU(u) = min(1, max(0, u))
    I_j = z_j w_j                              unit j's own reconstruction (w_j: row j of W)
    S_k = I_(1) + I_(2) + ... + I_(k)          units taken in decreasing order of activation
    E   = sum_{k=1}^{n_hidden} ||x - S_k||^2   the rank-ordered (progressive) reconstruction error

The units that fire most must carry most of the reconstruction, since every later
S_k includes them; a unit that fires without helping raises every later term. Sorting
and a cumulative sum over the unit axis compute all S_k at once, batched (O(n log n)
in the number of units for the sort, O(n d) for the sums).

The paper's section numbers are not cited here: the equations above are the method
as the paper's method section and the author's reference code describe it, in our notation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from aelib.models.losses import squared_error


class TReLU(torch.autograd.Function):
    """TReLU(u) = min(1, max(0, u)) with the paper's derivative for saturated units.

    Given g = dE/dTReLU(u) (so gradient descent moves u by -g), the backward pass returns
        g   where 0 < u < 1                        (the ordinary derivative, 1)
        g   where u <= 0 and g < -threshold        (below the range, the error asks for more:
                                                    push u up, back into (0, 1))
        g   where u >= 1 and g > threshold         (above the range, the error asks for less:
                                                    push u down, back into (0, 1))
        0   elsewhere                              (saturated and the error agrees, or is small)
    A plain clamp would return 0 for every saturated unit, so a unit pushed below 0 by
    one update could never come back ("dead" units) and one pushed above 1 never down.
    `threshold` (>= 0) is how large the error must be before a saturated unit is moved.
    """

    @staticmethod
    def forward(ctx, u: torch.Tensor, threshold: float = 0.0) -> torch.Tensor:
        ctx.save_for_backward(u)
        ctx.threshold = threshold
        return u.clamp(0.0, 1.0)

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor):
        (u,) = ctx.saved_tensors
        inside = (u > 0) & (u < 1)
        below_and_asked_up = (u <= 0) & (grad_output < -ctx.threshold)
        above_and_asked_down = (u >= 1) & (grad_output > ctx.threshold)
        passes = inside | below_and_asked_up | above_and_asked_down
        return grad_output * passes, None


def trelu(u: torch.Tensor, threshold: float = 0.0) -> torch.Tensor:
    """min(1, max(0, u)) with TReLU's backward rule (see `TReLU`)."""
    if threshold < 0:
        raise ValueError(f"threshold must be >= 0, got {threshold!r}")
    return TReLU.apply(u, threshold)


def cumulative_reconstructions(z: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """S_k for every k: [batch, n_hidden, n_visible], S[:, k-1] the sum of the
    reconstructions z_j w_j of the k most active units of each example."""
    ranked_z, order = torch.sort(z, dim=1, descending=True, stable=True)
    ranked_weights = weight[order]  # [batch, n_hidden, n_visible]: row k is the k-th ranked unit's w
    return (ranked_z.unsqueeze(2) * ranked_weights).cumsum(dim=1)


def rank_ordered_loss(z: torch.Tensor, weight: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """E = sum_{k=1}^{n_hidden} ||x - S_k||^2 per example, averaged over the batch.

    z: activations [batch, n_hidden]; weight: W [n_hidden, n_visible]; x: [batch, n_visible].
    The order is taken from z (ties keep the unit order; tied zeros add nothing).
    Gradients flow to z and W through the sorted values; the permutation itself is
    piecewise constant and carries none.
    """
    if z.shape[1] != weight.shape[0] or x.shape[1] != weight.shape[1] or len(z) != len(x):
        raise ValueError(f"shapes do not fit: z {tuple(z.shape)}, W {tuple(weight.shape)}, x {tuple(x.shape)}")
    residuals = x.unsqueeze(1) - cumulative_reconstructions(z, weight)
    return residuals.pow(2).sum(dim=(1, 2)).mean()


def rank_ordered_loss_gram(z: torch.Tensor, weight: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """`rank_ordered_loss` without forming the S_k: the same value and gradients from
    [batch, n_hidden, n_hidden] terms instead of [batch, n_hidden, n_visible], much faster
    for MNIST-sized inputs. Expanding the squares (r_j the 0-based rank of unit j in
    decreasing order of z, G = W W^T, H = n_hidden):

        E = H ||x||^2 - 2 sum_j (H - r_j) z_j (w_j . x) + sum_{i,j} (H - max(r_i, r_j)) z_i z_j G_ij,

    since unit j is in S_k for the H - r_j values k > r_j, and the pair (i, j) for the
    H - max(r_i, r_j) values k > max(r_i, r_j). Ties are ranked as in `rank_ordered_loss`
    (stable sort); the ranks carry no gradient in either."""
    if z.shape[1] != weight.shape[0] or x.shape[1] != weight.shape[1] or len(z) != len(x):
        raise ValueError(f"shapes do not fit: z {tuple(z.shape)}, W {tuple(weight.shape)}, x {tuple(x.shape)}")
    n_hidden = z.shape[1]
    # ranks as floats: torch.maximum on broadcast int64 tensors is several times slower
    rank = torch.argsort(torch.argsort(z.detach(), dim=1, descending=True, stable=True), dim=1).to(z.dtype)
    times = n_hidden - rank                                                     # [B, H]
    pair_times = n_hidden - torch.maximum(rank[:, :, None], rank[:, None, :])   # [B, H, H]
    gram = weight @ weight.T
    cross = (times * z * (x @ weight.T)).sum(dim=1)
    quadratic = (z.unsqueeze(1) @ ((pair_times * gram) @ z.unsqueeze(2))).flatten()
    return (n_hidden * x.pow(2).sum(dim=1) - 2 * cross + quadratic).mean()


@torch.no_grad()
def top_k_reconstruction_error(z: torch.Tensor, weight: torch.Tensor, x: torch.Tensor,
                               ks: Sequence[int]) -> list[float]:
    """Mean ||x - S_k||^2 per example for each k in `ks`: the error left when only the
    k most active units reconstruct (k >= n_hidden: all of them). One matrix product per k."""
    rank = torch.argsort(torch.argsort(z, dim=1, descending=True, stable=True), dim=1)
    errors = []
    for k in ks:
        kept = z * (rank < k)
        errors.append((x - kept @ weight).pow(2).sum(dim=1).mean().item())
    return errors


def active_fraction(z: torch.Tensor, threshold: float = 0.01) -> torch.Tensor:
    """The fraction of units with activation above `threshold`, per example."""
    return (z > threshold).float().mean(dim=1)


def hoyer_sparsity(z: torch.Tensor) -> torch.Tensor:
    """Hoyer's sparseness (Hoyer 2004, eq. 1), per example:
        (sqrt(n) - ||z||_1 / ||z||_2) / (sqrt(n) - 1),
    1 for a code with one active unit, 0 for one with all units equal. NaN for an
    all-zero code, where it is undefined."""
    n = z.shape[1]
    ratio = z.abs().sum(dim=1) / z.norm(dim=1)
    return (math.sqrt(n) - ratio) / (math.sqrt(n) - 1)


class RankOrderedAutoencoder(nn.Module):
    """One hidden layer of TReLU units; W is shared by the encoder (z = TReLU(W x + b))
    and the decoder (x_hat = sum_j z_j w_j = W^T z); no visible bias, so each unit's
    reconstruction I_j = z_j w_j is its own and the S_k add up to x_hat.

    W starts normal with standard deviation sqrt(2 / (n_visible + n_hidden)) (as in the
    author's code), b at 0. Train it with `rank_ordered_loss(x)` (the paper) or
    `reconstruction_loss(x)` (the unranked ablation, ||x - x_hat||^2).
    """

    def __init__(self, n_visible: int, n_hidden: int, *, threshold: float = 0.0,
                 generator: torch.Generator | None = None):
        super().__init__()
        if n_visible < 1 or n_hidden < 1:
            raise ValueError(f"layer sizes must be positive, got {n_visible} and {n_hidden}")
        self.n_visible, self.n_hidden, self.threshold = n_visible, n_hidden, threshold
        std = math.sqrt(2 / (n_visible + n_hidden))
        self.weight = nn.Parameter(torch.randn((n_hidden, n_visible), generator=generator) * std)
        self.hidden_bias = nn.Parameter(torch.zeros(n_hidden))

    def pre_activation(self, x: torch.Tensor) -> torch.Tensor:
        """W x + b, the input of the TReLU units."""
        return x @ self.weight.T + self.hidden_bias

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return trelu(self.pre_activation(x), self.threshold)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return z @ self.weight

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))

    def rank_ordered_loss(self, x: torch.Tensor) -> torch.Tensor:
        return rank_ordered_loss(self.encode(x), self.weight, x)

    def reconstruction_loss(self, x: torch.Tensor) -> torch.Tensor:
        return squared_error(self(x), x)

    def filters(self) -> torch.Tensor:
        """W, one row per hidden unit (its encoder filter and its decoder basis vector)."""
        return self.weight.detach()

    def extra_repr(self) -> str:
        return f"{self.n_visible} -> {self.n_hidden}, tied, TReLU(threshold={self.threshold})"
