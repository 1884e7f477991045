"""Corruption processes q_D(x~ | x) for denoising autoencoders (Vincent et al. 2008, sec. 2.3).

Each takes a batch `x` and returns a corrupted copy; `x` itself is never modified.
Pass a `torch.Generator` to draw the noise from it, or None for the global one.
"""

from __future__ import annotations

import torch


def _check_fraction(name: str, value: float | torch.Tensor) -> None:
    value = torch.as_tensor(value)
    if not ((value >= 0) & (value <= 1)).all():
        raise ValueError(f"{name} must be a fraction in [0, 1], got {value.tolist()!r}")


def masking_noise(x: torch.Tensor, fraction: float | torch.Tensor,
                  generator: torch.Generator | None = None) -> torch.Tensor:
    """The paper's "destruction": each input is set to 0 independently with probability nu.

    x~_i = x_i * b_i,  b_i ~ Bernoulli(1 - nu)   (Vincent et al. 2008, sec. 2.3, nu = `fraction`).
    The paper chooses a fixed number nu*d of inputs per example; independent draws
    have the same mean and differ only in the spread of that count.

    Given a vector of K fractions, returns K corrupted copies [K, *x.shape] made from
    one uniform draw u (x_i is kept where u_i >= nu_k): the common random numbers that
    K separate runs with identically seeded generators would draw.
    """
    fractions = torch.as_tensor(fraction, dtype=torch.float32, device=x.device)
    _check_fraction("masking fraction", fractions)
    uniform = torch.rand(x.shape, generator=generator, device=x.device)
    if fractions.ndim == 0:
        return x * (uniform >= fractions)
    return x * (uniform >= fractions.view(-1, *[1] * x.ndim))


def gaussian_noise(x: torch.Tensor, std: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Additive isotropic Gaussian noise: x~ = x + e,  e ~ N(0, std^2 I)."""
    if std < 0:
        raise ValueError(f"Gaussian noise std must be >= 0, got {std!r}")
    return x + std * torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)


def salt_and_pepper(x: torch.Tensor, fraction: float, generator: torch.Generator | None = None,
                    low: float = 0.0, high: float = 1.0) -> torch.Tensor:
    """Salt-and-pepper noise: a fraction nu of the inputs, chosen at random, set to
    `low` or `high` with equal probability (Vincent et al. 2010, sec. 4.2)."""
    _check_fraction("salt-and-pepper fraction", fraction)
    hit = torch.rand(x.shape, generator=generator, device=x.device) < fraction
    salt = torch.rand(x.shape, generator=generator, device=x.device) < 0.5
    values = torch.where(salt, torch.full_like(x, high), torch.full_like(x, low))
    return torch.where(hit, values, x)
