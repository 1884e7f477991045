"""Linear probes: how linearly separable the classes are in a code h = f(x)."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


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
