"""Tests for aelib.measures.gabor: the fit recovers a Gabor, rejects white noise; the control is smooth."""

from __future__ import annotations

import numpy as np

from aelib.measures.gabor import PARAMETERS, fit_gabor, gabor, gabor_r_squared, smoothed_noise_filters


def test_gabor_fit_recovers_a_gabor_and_rejects_noise():
    truth = np.array([1.0, 3.6, 4.2, 0.7, 1.4, 2.0, 0.22, 0.5, 0.1])
    image = gabor(truth, 8, 8).reshape(8, 8)
    params, r2 = fit_gabor(image, restarts=6)
    assert len(params) == len(PARAMETERS)
    assert r2 > 0.999
    assert np.allclose(gabor(params, 8, 8), image.ravel(), atol=1e-3)
    white = np.random.default_rng(0).standard_normal((10, 64))
    assert np.all(gabor_r_squared(white, (8, 8), restarts=4) < 0.8)


def test_smoothed_noise_is_smooth():
    noise = smoothed_noise_filters(20, (8, 8), sigma=1.0).reshape(20, 8, 8)
    neighbours = np.corrcoef(noise[:, :, :-1].ravel(), noise[:, :, 1:].ravel())[0, 1]
    assert neighbours > 0.6
