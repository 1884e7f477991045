"""Tests for aelib.training.svm_baseline on two small, separable classes."""

import pytest
import torch

from aelib.training.svm_baseline import rbf_svm_baseline


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


def test_fits_side_by_side_give_what_fits_one_after_another_give():
    (x, y), (xv, yv) = two_blobs(60, 5), two_blobs(30, 6)
    grid = dict(cs=[0.1, 10.0], gammas=[0.01, 1.0])
    alone, side_by_side = (rbf_svm_baseline(x, y, xv, yv, xv, yv, **grid, processes=n) for n in (1, 2))
    assert alone["validation_errors"] == side_by_side["validation_errors"]
    assert (alone["C"], alone["gamma"], alone["test_error"]) == (side_by_side["C"], side_by_side["gamma"],
                                                                 side_by_side["test_error"])


def test_a_chosen_pair_on_the_grid_edge_does_not_bracket_the_optimum():
    (x, y), (xv, yv) = two_blobs(60, 3), two_blobs(30, 4)
    result = rbf_svm_baseline(x, y, xv, yv, xv, yv, cs=[1.0], gammas=[0.1, 1.0])
    assert result["brackets_optimum"] is False
    with pytest.raises(ValueError, match="positive"):
        rbf_svm_baseline(x, y, xv, yv, xv, yv, cs=[0.0], gammas=[1.0])


def test_a_split_is_calibrated_against_the_benchmark_s_svm():
    from aelib.data.mnist_basic import Split
    from aelib.training.svm_baseline import PAPER_SVM_ERROR_PERCENT, calibrate_split
    (x, y), (xv, yv), (xt, yt) = two_blobs(60, 7), two_blobs(30, 8), two_blobs(400, 9)
    yt[:4] = 1 - yt[:4]  # four test labels no classifier of the blobs gets right
    result = calibrate_split(Split(x, y, xv, yv, xt, yt, "blobs"), cs=[1.0], gammas=[0.1])
    assert result["test_error_percent"] == pytest.approx(100 * result["test_error"]) and result["test_error"] >= 0.01
    p = result["test_error"]
    assert result["interval_95_percent"] == pytest.approx(196 * (p * (1 - p) / 400) ** 0.5)
    assert result["offset_percent"] == pytest.approx(100 * p - PAPER_SVM_ERROR_PERCENT)


def test_the_precomputed_kernel_gives_libsvm_s_own_rbf_svm():
    import numpy as np
    from sklearn.metrics.pairwise import rbf_kernel as sklearn_rbf_kernel
    from sklearn.svm import SVC

    from aelib.training.svm_baseline import predict, rbf_kernel
    generator = np.random.default_rng(0)
    labels = np.arange(300) % 4  # four overlapping classes: one-vs-one votes that disagree
    images = generator.normal(size=(300, 6)) + labels[:, None] * 0.7
    train, test = slice(0, 200), slice(200, 300)
    assert np.allclose(rbf_kernel(images[test], images[train], 0.3),
                       sklearn_rbf_kernel(images[test], images[train], gamma=0.3), rtol=0, atol=1e-12)
    own = SVC(C=3.0, gamma=0.3, kernel="rbf").fit(images[train], labels[train])
    precomputed = SVC(C=3.0, kernel="precomputed").fit(rbf_kernel(images[train], images[train], 0.3), labels[train])
    assert np.array_equal(precomputed.support_, own.support_)
    assert np.array_equal(predict(precomputed, images[test], images[train], 0.3, chunk=33), own.predict(images[test]))
