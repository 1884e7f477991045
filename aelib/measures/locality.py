"""Filter locality: how much of a filter's energy lies in one small window of the image."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def filter_locality(filters: torch.Tensor, image_shape: tuple[int, int], window: int = 7) -> torch.Tensor:
    """Share of each filter's energy that lies in its strongest window x window patch.

    energy_i = (w_i - mean(w))^2 over the pixels i of one filter w; the locality is
    max over windows of sum_{i in window} energy_i / sum_i energy_i, in (0, 1].
    A filter spread evenly over a 28x28 image scores about (7*7)/(28*28) = 0.06 at
    window 7; a stroke or blob detector confined to the window scores near 1.
    """
    height, width = image_shape
    if filters.shape[-1] != height * width:
        raise ValueError(f"filters have {filters.shape[-1]} weights, not {height}x{width}")
    w = filters.detach().reshape(-1, 1, height, width).double()
    energy = (w - w.mean(dim=(2, 3), keepdim=True)).pow(2)
    window_energy = F.avg_pool2d(energy, window, stride=1) * window * window
    best = window_energy.flatten(1).max(dim=1).values
    return (best / energy.flatten(1).sum(dim=1)).float()
