"""Tests for aelib.measures.svm_baseline on two small, separable classes."""

import pytest
import torch

from aelib.measures.svm_baseline import rbf_svm_baseline


def two_blobs(n, seed):
    generator = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % 2
    images = torch.randn(n, 5, generator=generator) * 0.5 + labels[:, None].float() * 2
    return images, labels


def test_the_pair_of_lowest_validation_error_is_chosen_and_tested():
    (x_train, y_train), (x_valid, y_valid), (x_test, y_test) = two_blobs(80, 0), two_blobs(40, 1), two_blobs(40, 2)
    result = rbf_svm_baseline(x_train, y_train, x_valid, y_valid, x_test, y_test,
                              cs=[1e-4, 1.0, 1e4], gammas=[1e-4, 0.1, 1e3])
    errors = {(r["C"], r["gamma"]): r["validation_error"] for r in result["validation_errors"]}
    assert len(errors) == 9 and errors[(result["C"], result["gamma"])] == min(errors.values())
    assert result["validation_error"] < 0.1 and result["test_error"] < 0.1
    assert errors[(1e4, 1e3)] > 0.2  # a kernel far narrower than the blobs recalls the training points only
    assert result["brackets_optimum"] == (result["C"] == 1.0 and result["gamma"] == 0.1)


def test_a_chosen_pair_on_the_grid_edge_does_not_bracket_the_optimum():
    (x, y), (xv, yv) = two_blobs(60, 3), two_blobs(30, 4)
    result = rbf_svm_baseline(x, y, xv, yv, xv, yv, cs=[1.0], gammas=[0.1, 1.0])
    assert result["brackets_optimum"] is False
    with pytest.raises(ValueError, match="positive"):
        rbf_svm_baseline(x, y, xv, yv, xv, yv, cs=[0.0], gammas=[1.0])
