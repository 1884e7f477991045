"""The energy an autoencoder assigns to the plane around a 2-D data manifold (Goroshin & LeCun 2013, sec. 4).

An autoencoder's energy at x is its reconstruction error E(x) = ||x - g(f(x))||^2. A model that
has learnt the data manifold has low energy on it and high energy away from it; a plain
autoencoder with enough units can reconstruct the whole plane, so its energy stays low
everywhere. On a grid over the plane, each point's distance to the manifold (to a dense sample
of it) splits the grid into points near the data and points far from it; the far energy divided
by the mean squared distance of the far points makes models comparable (an identity map scores 0,
a map onto the manifold about 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from aelib.measures.saturation import saturated_fraction


@dataclass
class PlaneAroundCurve:
    """A square grid over the plane, each point's distance to the curve, and the near and far masks."""
    axis: torch.Tensor          # the grid's coordinates along each side, [P]
    points: torch.Tensor        # the grid, [P * P, 2], x major
    distance: torch.Tensor      # each point's distance to the nearest point of the curve, [P * P]
    near: torch.Tensor          # distance < near_distance
    far: torch.Tensor           # distance > far_distance


def plane_around(curve: torch.Tensor, *, extent: float = 1.2, points_per_side: int = 121,
                 near_distance: float = 0.03, far_distance: float = 0.15) -> PlaneAroundCurve:
    """The grid [-extent, extent]^2 of points_per_side^2 points around `curve` (a dense sample [M, 2])."""
    if not 0 < near_distance < far_distance:
        raise ValueError(f"need 0 < near_distance < far_distance, got {near_distance!r} and {far_distance!r}")
    axis = torch.linspace(-extent, extent, points_per_side)
    points = torch.cartesian_prod(axis, axis)
    distance = torch.cdist(points, curve).min(dim=1).values
    return PlaneAroundCurve(axis, points, distance, distance < near_distance, distance > far_distance)


def reconstruction_energy(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """E(x) = ||x - g(f(x))||^2 per row of x, without gradients."""
    with torch.no_grad():
        return (model(x) - x).pow(2).sum(dim=1)


def energy_near_and_far(model: torch.nn.Module, plane: PlaneAroundCurve, data: torch.Tensor,
                        activation: str) -> tuple[dict, torch.Tensor]:
    """The mean energy near the data and far from it, the far energy over the far points' mean squared
    distance, and the saturated fraction of the model's units on the data; with the energy over the plane."""
    energy = reconstruction_energy(model, plane.points)
    with torch.no_grad():
        measures = {"energy_near_data": energy[plane.near].mean().item(),
                    "energy_far_from_data": energy[plane.far].mean().item(),
                    "far_energy_over_squared_distance": (energy[plane.far].mean()
                                                         / plane.distance[plane.far].pow(2).mean()).item(),
                    "saturated_fraction_on_data": saturated_fraction(model.pre_activation(data), activation).mean().item()}
    return measures, energy
