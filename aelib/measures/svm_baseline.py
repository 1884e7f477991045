"""The benchmark's own baseline: a support vector machine with a Gaussian (RBF) kernel.

Larochelle et al. 2007 calibrate their MNIST variants with an SVM,

    k(x, x') = exp(-gamma ||x - x'||^2),   C the penalty of the soft margin,

C and gamma chosen on the validation set; on MNIST-basic its test error is 3.03 +- 0.15%
(Larochelle et al. 2007, table 1; repeated by Vincent et al. 2008, table 1, and Rifai et al. 2011,
table 2). Run on our own split, it says how much of a gap between our networks and the papers'
comes from the split rather than from the method.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence

import numpy as np
import torch
from sklearn.svm import SVC

from aelib.measures.selection import select_setting


def _error(model: SVC, images: np.ndarray, labels: np.ndarray) -> float:
    return float((model.predict(images) != labels).mean())


def rbf_svm_baseline(train_images: torch.Tensor, train_labels: torch.Tensor, valid_images: torch.Tensor,
                     valid_labels: torch.Tensor, test_images: torch.Tensor, test_labels: torch.Tensor, *,
                     cs: Sequence[float], gammas: Sequence[float]) -> dict:
    """Fit an RBF SVM (scikit-learn's SVC, one-vs-one) on the training part for every (C, gamma) of the
    grid, choose the pair of lowest validation error (ties: the first in grid order), and return its
    test error with the grid's validation errors. `brackets_optimum` is False when the chosen C or
    gamma lies on the edge of its grid (a wider grid might do better)."""
    if len(cs) < 1 or len(gammas) < 1 or any(not v > 0 for v in [*cs, *gammas]):
        raise ValueError(f"C and gamma grids must be non-empty and positive, got {list(cs)} and {list(gammas)}")
    x_train, y_train = train_images.cpu().numpy(), train_labels.cpu().numpy()
    x_valid, y_valid = valid_images.cpu().numpy(), valid_labels.cpu().numpy()
    started = time.perf_counter()
    models, validation = {}, {}
    for c, gamma in itertools.product(cs, gammas):
        models[(c, gamma)] = SVC(C=c, gamma=gamma, kernel="rbf").fit(x_train, y_train)
        validation[(c, gamma)] = _error(models[(c, gamma)], x_valid, y_valid)
    chosen = select_setting(validation, higher_is_better=False)
    c, gamma = chosen
    inner = lambda value, grid: len(grid) >= 3 and grid[0] < value < grid[-1]  # noqa: E731
    return {"C": c, "gamma": gamma,
            "validation_error": validation[chosen],
            "test_error": _error(models[chosen], test_images.cpu().numpy(), test_labels.cpu().numpy()),
            "validation_errors": [{"C": k[0], "gamma": k[1], "validation_error": v} for k, v in validation.items()],
            "brackets_optimum": inner(c, list(cs)) and inner(gamma, list(gammas)),
            "seconds": time.perf_counter() - started}
