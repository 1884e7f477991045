"""How far small input perturbations move a code or a reconstruction.

For a map h (an encoder, or the whole autoencoder x -> x^) and a perturbation d, the
*sensitivity ratio* is

    s(x, d) = ||h(x + d) - h(x)||_2 / ||d||_2,

a finite-difference version of the operator norm of the Jacobian that the contractive
autoencoder penalises (Rifai et al. 2011) and that saturation is meant to shrink
(Goroshin & LeCun 2013, sec. 2.2). We measure it for

- random d: Gaussian directions scaled to a given L2 norm (the typical response);
- worst-case d found with gradients: projected gradient ascent (PGD, Madry et al. 2018)
  on ||h(x + d) - h(x)||^2 over the ball ||d|| <= epsilon, from a random start
  (at d = 0 the gradient of that distance is exactly zero);
- worst-case d found without gradients: a (1+1) evolution strategy (random search
  with a step size that grows on success and shrinks on failure) with the same number
  of steps, each one forward evaluation. If saturation only *hides* the gradient
  (flat units give zero gradient), this search finds larger ratios than PGD; if
  it removes the sensitivity, neither finds much.

Perturbed inputs are not clipped to the pixel range, so ||d|| is exactly epsilon.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

Map = Callable[[torch.Tensor], torch.Tensor]


def sensitivity_ratio(function: Map, x: torch.Tensor, d: torch.Tensor) -> torch.Tensor:
    """||h(x + d) - h(x)|| / ||d|| per example (rows of x and d), without gradients."""
    with torch.no_grad():
        moved = (function(x + d) - function(x)).flatten(1).norm(dim=1)
        return moved / d.flatten(1).norm(dim=1)


def random_perturbations(x: torch.Tensor, norm: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """One Gaussian direction per example, scaled to L2 norm `norm`."""
    if not norm > 0:
        raise ValueError(f"the perturbation norm must be > 0, got {norm!r}")
    d = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    return _to_sphere(d, norm)


def pgd_perturbations(function: Map, x: torch.Tensor, norm: float, steps: int, *,
                      step_size: float | None = None, generator: torch.Generator | None = None) -> torch.Tensor:
    """Worst-case d with ||d|| <= norm for the distance ||h(x + d) - h(x)||^2, by `steps`
    steps of L2 projected gradient ascent (normalised gradient, step norm / 2 by default:
    large, since few steps are taken and each is projected back) from a random point of
    the sphere. Returns the best d seen per example."""
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    step_size = step_size if step_size is not None else norm / 2
    with torch.no_grad():
        target = function(x)
    d = random_perturbations(x, norm, generator)
    best, best_distance = d.clone(), _distance(function, x, d, target)
    for _ in range(steps):
        d = d.detach().requires_grad_(True)
        distance = (function(x + d) - target).flatten(1).pow(2).sum(dim=1)
        gradient, = torch.autograd.grad(distance.sum(), d)
        with torch.no_grad():
            g_norm = gradient.flatten(1).norm(dim=1).clamp_min(1e-12).view(-1, *[1] * (x.dim() - 1))
            d = _into_ball(d + step_size * gradient / g_norm, norm)
            distance = _distance(function, x, d, target)
            better = distance > best_distance
            best[better], best_distance[better] = d[better], distance[better]
    return best


def random_search_perturbations(function: Map, x: torch.Tensor, norm: float, steps: int, *,
                                generator: torch.Generator | None = None) -> torch.Tensor:
    """Worst-case d on the sphere ||d|| = norm without gradients: a (1+1) evolution
    strategy. Each step proposes d' = project(d + sigma * norm * u), u a unit Gaussian
    direction, keeps it if it moves h further, and multiplies sigma (per example,
    starting at 0.5) by 1.5 on success and 1.5^(-1/4) on failure (the 1/5th rule)."""
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    with torch.no_grad():
        target = function(x)
        d = random_perturbations(x, norm, generator)
        best_distance = _distance(function, x, d, target)
        sigma = torch.full((len(x),), 0.5, device=x.device, dtype=x.dtype)
        shape = (-1, *[1] * (x.dim() - 1))
        for _ in range(steps):
            u = random_perturbations(x, 1.0, generator)
            proposal = _to_sphere(d + (sigma * norm).view(shape) * u, norm)
            distance = _distance(function, x, proposal, target)
            better = distance > best_distance
            d[better], best_distance[better] = proposal[better], distance[better]
            sigma = torch.where(better, sigma * 1.5, sigma * 1.5 ** -0.25)
    return d


def _distance(function: Map, x: torch.Tensor, d: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return (function(x + d) - target).flatten(1).pow(2).sum(dim=1)


def _to_sphere(d: torch.Tensor, norm: float) -> torch.Tensor:
    lengths = d.flatten(1).norm(dim=1).clamp_min(1e-12).view(-1, *[1] * (d.dim() - 1))
    return d * (norm / lengths)


def _into_ball(d: torch.Tensor, norm: float) -> torch.Tensor:
    lengths = d.flatten(1).norm(dim=1).view(-1, *[1] * (d.dim() - 1))
    return d * torch.clamp(norm / lengths.clamp_min(1e-12), max=1.0)
