"""The 2-D toy manifold of Goroshin & LeCun 2013, sec. 4: points on a spiral in the plane.

    t ~ U(pi/2, 7 pi/2),    x = (t cos t, t sin t) / (3.5 pi),

one and a half turns, scaled into the square [-1, 1]^2.
"""

from __future__ import annotations

import math

import torch


def spiral(n: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """`n` points [n, 2] drawn uniformly in the spiral's parameter t."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"the number of points must be a positive integer, got {n!r}")
    t = torch.rand(n, generator=generator) * 3 * math.pi + 0.5 * math.pi
    return torch.stack([t * torch.cos(t), t * torch.sin(t)], dim=1) / (3.5 * math.pi)
