"""The benchmark's own baseline: a support vector machine with a Gaussian (RBF) kernel.

Larochelle et al. 2007 calibrate their MNIST variants with an SVM,

    k(x, x') = exp(-gamma ||x - x'||^2),   C the penalty of the soft margin,

C and gamma chosen on the validation set; on MNIST-basic its test error is 3.03 +- 0.15%
(Larochelle et al. 2007, table 1; repeated by Vincent et al. 2008, table 1, and Rifai et al. 2011,
table 2). Run on our own split, it says how much of a gap between our networks and the papers'
comes from the split rather than from the method.

The kernel is computed here, by matrix products (`rbf_kernel`), and given to libsvm precomputed:
libsvm's own kernel loops one pair of images at a time, which made the calibration six minutes of
study 08's hour; the fit and the votes are libsvm's.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Sequence

import numpy as np
import torch
from sklearn.svm import SVC
from threadpoolctl import threadpool_limits

from aelib.data.mnist_basic import Split
from aelib.measures.selection import select_setting
from aelib.training.processes import run_side_by_side


def rbf_kernel(a: np.ndarray, b: np.ndarray, gamma: float) -> np.ndarray:
    """k(x, x') = exp(-gamma ||x - x'||^2) for every row x of `a` against every row x' of `b`, in float64
    (as libsvm computes it), from ||x||^2 + ||x'||^2 - 2 x.x': one matrix product, rounding below 0 clipped."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    kernel = a @ b.T
    kernel *= -2.0
    kernel += (a * a).sum(axis=1)[:, None]
    kernel += (b * b).sum(axis=1)[None, :]
    np.maximum(kernel, 0.0, out=kernel)
    kernel *= -gamma
    return np.exp(kernel, out=kernel)


def predict(model: SVC, images: np.ndarray, x_train: np.ndarray, gamma: float, chunk: int = 5000) -> np.ndarray:
    """The classes `model` (an SVC fitted on `rbf_kernel(x_train, x_train, gamma)`) gives `images`, `chunk`
    images at a time (a chunk's kernel against 10,000 training images is 400 MB)."""
    return np.concatenate([model.predict(rbf_kernel(images[start:start + chunk], x_train, gamma))
                           for start in range(0, len(images), chunk)])


def fit_and_validate(pairs: Sequence[tuple[float, float]], x_train: np.ndarray, y_train: np.ndarray,
                     x_valid: np.ndarray, y_valid: np.ndarray) -> list[tuple[SVC, float]]:
    """Points (C, gamma) of the grid, one after another: each SVM fitted on the training part, with its
    validation error; matrix products on one thread (the grid may be shared among processes)."""
    fitted = []
    with threadpool_limits(limits=1):
        for c, gamma in pairs:
            model = SVC(C=c, kernel="precomputed").fit(rbf_kernel(x_train, x_train, gamma), y_train)
            fitted.append((model, float((predict(model, x_valid, x_train, gamma) != y_valid).mean())))
    return fitted


def rbf_svm_baseline(train_images: torch.Tensor, train_labels: torch.Tensor, valid_images: torch.Tensor,
                     valid_labels: torch.Tensor, test_images: torch.Tensor, test_labels: torch.Tensor, *,
                     cs: Sequence[float], gammas: Sequence[float], processes: int = 1) -> dict:
    """Fit an RBF SVM (scikit-learn's SVC, one-vs-one) on the training part for every (C, gamma) of the
    grid, the grid shared among `processes` processes of one thread each, choose the pair of
    lowest validation error (ties: the first in grid order), and return its test error with the grid's
    validation errors. `brackets_optimum` is False when the chosen C or gamma lies on the edge of its grid
    (a wider grid might do better)."""
    if len(cs) < 1 or len(gammas) < 1 or any(not v > 0 for v in [*cs, *gammas]):
        raise ValueError(f"C and gamma grids must be non-empty and positive, got {list(cs)} and {list(gammas)}")
    data = dict(x_train=train_images.cpu().numpy(), y_train=train_labels.cpu().numpy(),
                x_valid=valid_images.cpu().numpy(), y_valid=valid_labels.cpu().numpy())
    started = time.perf_counter()
    pairs = list(itertools.product(cs, gammas))
    shares = [pairs[i::processes] for i in range(min(processes, len(pairs)))]  # one share of the grid per process
    fitted = {pair: result for share, results in zip(shares, run_side_by_side(
                  fit_and_validate, [dict(pairs=share, **data) for share in shares], total_threads=processes))
              for pair, result in zip(share, results)}
    validation = {pair: fitted[pair][1] for pair in pairs}  # in grid order
    chosen = select_setting(validation, higher_is_better=False)
    c, gamma = chosen
    inner = lambda value, grid: len(grid) >= 3 and grid[0] < value < grid[-1]  # noqa: E731
    return {"C": c, "gamma": gamma,
            "validation_error": validation[chosen],
            "test_error": float((predict(fitted[chosen][0], test_images.cpu().numpy(), data["x_train"], gamma)
                                 != test_labels.cpu().numpy()).mean()),
            "validation_errors": [{"C": k[0], "gamma": k[1], "validation_error": v} for k, v in validation.items()],
            "brackets_optimum": inner(c, list(cs)) and inner(gamma, list(gammas)),
            "support_vectors": int(fitted[chosen][0].n_support_.sum()),
            "seconds": time.perf_counter() - started}


PAPER_SVM_ERROR_PERCENT, PAPER_SVM_INTERVAL_PERCENT = 3.03, 0.15  # Larochelle et al. 2007, table 1, MNIST-basic


def calibrate_split(split: Split, *, cs: Sequence[float], gammas: Sequence[float], processes: int = 1) -> dict:
    """The benchmark's SVM on `split` (`aelib.data.mnist_basic`): `rbf_svm_baseline`'s result, plus its test
    error in percent with the binomial 95% interval 196 sqrt(p (1 - p) / n_test) (percentage points), and
    the split's calibration offset: that error minus the benchmark's 3.03% (positive: our split is harder
    for the benchmark's own baseline)."""
    result = rbf_svm_baseline(split.train_images, split.train_labels, split.valid_images, split.valid_labels,
                              split.test_images, split.test_labels, cs=cs, gammas=gammas, processes=processes)
    p = result["test_error"]
    return {**result, "test_error_percent": 100 * p,
            "interval_95_percent": 196 * math.sqrt(p * (1 - p) / len(split.test_labels)),
            "offset_percent": 100 * p - PAPER_SVM_ERROR_PERCENT}
