"""Measures of what an autoencoder learned: filter locality, reconstruction, linear probes."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


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


def fit_linear_probe(codes: torch.Tensor, labels: torch.Tensor, *, max_iter: int = 200, seed: int = 0):
    """A multinomial logistic regression (scikit-learn, L2, C=1) fitted on standardised
    codes; score other (e.g. perturbed) codes with `probe.score(codes, labels)` on numpy arrays."""
    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=max_iter, random_state=seed))
    return probe.fit(_numpy(codes), _numpy(labels))


def linear_probe_accuracy(train_codes: torch.Tensor, train_labels: torch.Tensor,
                          test_codes: torch.Tensor, test_labels: torch.Tensor,
                          max_iter: int = 200, seed: int = 0) -> float:
    """Test accuracy of `fit_linear_probe`: how linearly separable the classes are in the code."""
    probe = fit_linear_probe(train_codes, train_labels, max_iter=max_iter, seed=seed)
    return float(probe.score(_numpy(test_codes), _numpy(test_labels)))


def _numpy(tensor: torch.Tensor) -> np.ndarray:
    return tensor.detach().cpu().numpy()
