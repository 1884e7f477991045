"""How saturated a code is: the fraction of units in a flat region of their activation.

Two definitions, one per kind of unit:
- `saturated_fraction`: a piecewise-linear unit (relu, shrink, saturated linear) is saturated
  where f'(z) = 0, i.e. where Goroshin & LeCun's complementary function f_c(z) is 0 (2013, sec. 2.1);
- `sigmoid_saturated_fraction`: a sigmoid unit is saturated when h < 0.05 or h > 0.95
  (Rifai et al. 2011, sec. 5.3).
"""

from __future__ import annotations

import torch

from aelib.models.activations import DEFAULT_SHRINK_THRESHOLD
from aelib.penalties.saturation import complementary_function


def saturated_fraction(pre_activation: torch.Tensor, activation: str,
                       shrink_threshold: float = DEFAULT_SHRINK_THRESHOLD) -> torch.Tensor:
    """Per example, the fraction of its units whose pre-activation lies in a saturated
    region (f'(z) = 0, i.e. f_c(z) = 0). Returns one value per example."""
    saturated = complementary_function(pre_activation, activation, shrink_threshold) == 0
    return saturated.flatten(1).float().mean(dim=1)


def sigmoid_saturated_fraction(h: torch.Tensor, low: float = 0.05, high: float = 0.95) -> torch.Tensor:
    """Per example, the fraction of sigmoid units with h_j < low or h_j > high: the sigmoid's flat
    tails, where its derivative h(1 - h) is below 0.0475 (Rifai et al. 2011, sec. 5.3)."""
    if not 0 <= low < high <= 1:
        raise ValueError(f"need 0 <= low < high <= 1, got {low!r} and {high!r}")
    return ((h < low) | (h > high)).flatten(1).float().mean(dim=1)
