"""Tests for aelib.data.natural_images: whitening, IMAGES.mat, patches and their normalisation."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.io

from aelib.data.natural_images import load_natural_images, normalise_patches, sample_patches, whiten


def test_whitening_flattens_a_one_over_f_spectrum():
    rng = np.random.default_rng(0)
    n = 128
    f = np.hypot(*np.meshgrid(np.fft.fftfreq(n), np.fft.fftfreq(n)))
    amplitude = np.where(f > 0, 1 / np.maximum(f, 1e-9), 0)
    image = np.real(np.fft.ifft2(amplitude * np.exp(2j * np.pi * rng.random((n, n)))))
    white = whiten(image)
    power = np.abs(np.fft.fft2(white)) ** 2
    low, mid = power[(f > 0.02) & (f < 0.05)].mean(), power[(f > 0.1) & (f < 0.2)].mean()
    raw = np.abs(np.fft.fft2(image)) ** 2
    assert raw[(f > 0.02) & (f < 0.05)].mean() / raw[(f > 0.1) & (f < 0.2)].mean() > 5
    assert 0.5 < low / mid < 2  # flat after whitening
    assert white.var() == pytest.approx(0.1)
    assert abs(white.mean()) < 1e-12


def test_images_mat_is_used_when_present(tmp_path):
    stack = np.random.default_rng(0).standard_normal((16, 16, 3))
    scipy.io.savemat(tmp_path / "IMAGES.mat", {"IMAGES": stack})
    images, description, files = load_natural_images(tmp_path)
    assert len(images) == 3 and np.array_equal(images[1], stack[:, :, 1])
    assert "IMAGES.mat" in description and "IMAGES.mat" in files


def test_photographs_are_used_without_images_mat(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    images, description, files = load_natural_images(tmp_path)
    assert "scikit-image" in description and files == {}
    assert all(image.var() == pytest.approx(0.1) for image in images)


def test_patches_come_from_the_images_and_normalise_into_0_1_0_9():
    image = np.arange(100.0).reshape(10, 10)
    patches = sample_patches([image], 50, patch_size=3, rng=np.random.default_rng(0))
    assert patches.shape == (50, 9)
    top_left = patches[:, 0]
    rows, cols = top_left // 10, top_left % 10
    assert np.array_equal(patches, np.stack([image[int(r):int(r) + 3, int(c):int(c) + 3].ravel()
                                             for r, c in zip(rows, cols)]))
    normalised = normalise_patches(np.random.default_rng(1).standard_normal((1000, 64)) * 5 + 2)
    assert normalised.min() >= 0.1 - 1e-12 and normalised.max() <= 0.9 + 1e-12
    assert normalised.mean() == pytest.approx(0.5, abs=0.01)
