"""Fitting a 2-D Gabor function to a filter: a number for "localized, oriented edge detector".

    G(u, v) = A exp(-(u'^2 / (2 sigma_u^2) + v'^2 / (2 sigma_v^2))) cos(2 pi f u' + phi) + c
    u' = (u - u0) cos(theta) + (v - v0) sin(theta),   v' = -(u - u0) sin(theta) + (v - v0) cos(theta)

(u the column, v the row, in pixels; f in cycles per pixel). The fit is nonlinear least
squares (scipy.optimize.least_squares) from several starting points, the best kept; the
score is R^2 = 1 - sum (w - G)^2 / sum (w - mean w)^2.
"""

from __future__ import annotations

import numpy as np
import scipy.ndimage
import scipy.optimize

PARAMETERS = ("amplitude", "u0", "v0", "theta", "sigma_u", "sigma_v", "frequency", "phase", "offset")


def gabor(params: np.ndarray, height: int, width: int) -> np.ndarray:
    """The Gabor function G of the module docstring on a height x width grid, flattened."""
    v, u = np.mgrid[0:height, 0:width].astype(np.float64)
    return _gabor_on_grid(params, u.ravel(), v.ravel())


def _gabor_on_grid(params: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    amplitude, u0, v0, theta, sigma_u, sigma_v, frequency, phase, offset = params
    du, dv = u - u0, v - v0
    along = du * np.cos(theta) + dv * np.sin(theta)
    across = -du * np.sin(theta) + dv * np.cos(theta)
    envelope = np.exp(-(along ** 2 / (2 * sigma_u ** 2) + across ** 2 / (2 * sigma_v ** 2)))
    return amplitude * envelope * np.cos(2 * np.pi * frequency * along + phase) + offset


def _starting_points(image: np.ndarray, restarts: int, rng: np.random.Generator) -> list[np.ndarray]:
    """One start from the filter itself (peak of its zero-padded spectrum for frequency and
    orientation, the centre of its energy for position), the others random."""
    height, width = image.shape
    centred = image - image.mean()
    spectrum = np.abs(np.fft.fft2(centred, s=(4 * height, 4 * width)))
    fy, fx = np.meshgrid(np.fft.fftfreq(4 * height), np.fft.fftfreq(4 * width), indexing="ij")
    peak = np.unravel_index(np.argmax(spectrum), spectrum.shape)
    frequency = float(np.hypot(fx[peak], fy[peak]))
    theta = float(np.arctan2(fy[peak], fx[peak]))
    energy = centred ** 2
    v, u = np.mgrid[0:height, 0:width]
    u0, v0 = (energy * u).sum() / energy.sum(), (energy * v).sum() / energy.sum()
    scale = np.abs(centred).max()
    starts = [np.array([scale, u0, v0, theta, 1.5, 1.5, frequency, phase, image.mean()])
              for phase in (0.0, np.pi / 2)]
    while len(starts) < restarts:
        starts.append(np.array([scale * rng.choice([-1, 1]), rng.uniform(0, width - 1), rng.uniform(0, height - 1),
                                rng.uniform(0, np.pi), rng.uniform(0.7, 3), rng.uniform(0.7, 3),
                                rng.uniform(0.02, 0.4), rng.uniform(-np.pi, np.pi), image.mean()]))
    return starts[:max(restarts, 1)]


def fit_gabor(image: np.ndarray, restarts: int = 8, rng: np.random.Generator | None = None) -> tuple[np.ndarray, float]:
    """The best least-squares Gabor fit to a 2-D filter over `restarts` starting points;
    returns (parameters in PARAMETERS order, R^2). The envelope is kept between 0.5 pixel
    and the image size, its centre within one pixel of the image, f in [0, 0.5] cycles/pixel."""
    image = np.asarray(image, dtype=np.float64)
    height, width = image.shape
    rng = rng if rng is not None else np.random.default_rng(0)
    target = image.ravel()
    total = ((target - target.mean()) ** 2).sum()
    if total == 0:
        return np.full(len(PARAMETERS), np.nan), 0.0
    size = max(height, width)
    lower = [-np.inf, -1, -1, -2 * np.pi, 0.5, 0.5, 0.0, -4 * np.pi, -np.inf]
    upper = [np.inf, width, height, 2 * np.pi, size, size, 0.5, 4 * np.pi, np.inf]
    v, u = (grid.ravel() for grid in np.mgrid[0:height, 0:width].astype(np.float64))
    best_params, best_residual = None, np.inf
    for start in _starting_points(image, restarts, rng):
        start = np.clip(start, np.array(lower) + 1e-9, np.array(upper) - 1e-9)
        fit = scipy.optimize.least_squares(lambda p: _gabor_on_grid(p, u, v) - target, start,
                                           bounds=(lower, upper), max_nfev=200)
        residual = float((fit.fun ** 2).sum())
        if residual < best_residual:
            best_params, best_residual = fit.x, residual
    return best_params, 1 - best_residual / total


def gabor_r_squared(filters: np.ndarray, image_shape: tuple[int, int], restarts: int = 8,
                    seed: int = 0) -> np.ndarray:
    """R^2 of the best Gabor fit to each filter (rows of `filters`, each an image_shape image)."""
    rng = np.random.default_rng(seed)
    filters = np.asarray(filters, dtype=np.float64).reshape(len(filters), *image_shape)
    return np.array([fit_gabor(f, restarts, rng)[1] for f in filters])


def smoothed_noise_filters(n: int, image_shape: tuple[int, int], sigma: float = 1.0,
                           seed: int = 0) -> np.ndarray:
    """Control filters: white Gaussian noise smoothed by a Gaussian of `sigma` pixels, drawn on
    a field three times larger and cropped at its centre (no edge effects); [n, H*W]."""
    height, width = image_shape
    rng = np.random.default_rng(seed)
    fields = scipy.ndimage.gaussian_filter(rng.standard_normal((n, 3 * height, 3 * width)), sigma=(0, sigma, sigma))
    return fields[:, height:2 * height, width:2 * width].reshape(n, -1)


def gabor_fit_table(r_squared: dict[str, np.ndarray], threshold: float = 0.9) -> list[dict]:
    """One row per set of filters: the share whose best Gabor fit has R^2 >= threshold, and the median R^2."""
    return [{"filters": name, f"fraction_r2_at_least_{threshold:g}": float((r2 >= threshold).mean()),
             "median_r2": float(np.median(r2))} for name, r2 in r_squared.items()]
