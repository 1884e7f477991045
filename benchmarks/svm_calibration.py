"""The benchmark's SVM (studies 06 and 08): libsvm's own RBF kernel against the kernel precomputed by
matrix products, at one point of the grid on the MNIST-basic split.

`aelib.training.svm_baseline` gives libsvm the kernel precomputed (`rbf_kernel`): libsvm's own RBF
evaluates it one pair of images at a time. This times, for each way, the fit on the 10,000 training
digits, the prediction of the 2,000 validation digits and of `--test` test digits, on one thread, and
says whether the two ways predict the same classes. A benchmark, not a test: run it on an otherwise
idle machine.

    AELIB_DATA_DIR=/path/to/data .venv/bin/python benchmarks/svm_calibration.py --test 10000
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from sklearn.svm import SVC
from threadpoolctl import threadpool_limits

from aelib.data.mnist_basic import load_mnist_basic
from aelib.training.svm_baseline import predict, rbf_kernel


def timed(step):
    clock = time.perf_counter()
    value = step()
    return value, time.perf_counter() - clock


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--c", type=float, default=10.0)
    parser.add_argument("--gamma", type=float, default=0.03)
    parser.add_argument("--test", type=int, default=10_000, help="test digits predicted (of 50,000)")
    parser.add_argument("--dataset", default="mnist")
    arguments = parser.parse_args()
    split, _ = load_mnist_basic(arguments.dataset, seed=0)
    x, y = split.train_images.numpy(), split.train_labels.numpy()
    xv, xt = split.valid_images.numpy(), split.test_images[:arguments.test].numpy()
    rows = {}
    with threadpool_limits(limits=1):
        own, fit = timed(lambda: SVC(C=arguments.c, gamma=arguments.gamma, kernel="rbf").fit(x, y))
        own_valid, valid = timed(lambda: own.predict(xv))
        own_test, test = timed(lambda: own.predict(xt))
        rows["libsvm's RBF"] = {"fit_s": fit, "validation_s": valid, "test_s": test}
        pre, fit = timed(lambda: SVC(C=arguments.c, kernel="precomputed").fit(rbf_kernel(x, x, arguments.gamma), y))
        pre_valid, valid = timed(lambda: predict(pre, xv, x, arguments.gamma))
        pre_test, test = timed(lambda: predict(pre, xt, x, arguments.gamma))
        rows["precomputed"] = {"fit_s": fit, "validation_s": valid, "test_s": test}
    for name, row in rows.items():
        row["total_s"] = sum(row.values())
        print(f"{name:14s} " + "  ".join(f"{key} {value:7.1f}" for key, value in row.items()))
    summary = {"C": arguments.c, "gamma": arguments.gamma, "test_digits": len(xt), "times": rows,
               "speed-up": rows["libsvm's RBF"]["total_s"] / rows["precomputed"]["total_s"],
               "same_support_vectors": bool(np.array_equal(own.support_, pre.support_)),
               "validation_predictions_differ": int((own_valid != pre_valid).sum()),
               "test_predictions_differ": int((own_test != pre_test).sum())}
    print(json.dumps({k: v for k, v in summary.items() if k != "times"}))


if __name__ == "__main__":
    main()
