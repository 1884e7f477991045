"""Whitened natural images and the 8x8 patches of the CS294A sparse autoencoder exercise.

The exercise samples patches from Olshausen's IMAGES.mat: ten 512x512 natural images
whitened with the filter of Olshausen & Field (1996, Nature 381, fig. 1 caption),
    R(f) = f exp(-(f / f0)^4),   f0 = 200 cycles/picture (for 512-pixel pictures),
then scaled to variance 0.1. Where IMAGES.mat is absent we apply the same filter to
photographs that scikit-image ships (`PHOTOGRAPHS`), converted to grey.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from aelib.data.datasets import search_dirs

# scikit-image's bundled photographs used when IMAGES.mat is absent (skimage.data.<name>).
PHOTOGRAPHS = ("astronaut", "camera", "chelsea", "coffee", "grass", "gravel", "brick", "rocket", "moon")
IMAGES_MAT = "IMAGES.mat"
CUTOFF_CYCLES_PER_PIXEL = 200 / 512  # Olshausen & Field's f0 = 200 cycles per 512-pixel picture
IMAGE_VARIANCE = 0.1  # the variance each whitened image of IMAGES.mat is scaled to


def whiten(image: np.ndarray, f0: float = CUTOFF_CYCLES_PER_PIXEL) -> np.ndarray:
    """Olshausen & Field's whitening: multiply the image's spectrum by R(f) = f exp(-(f/f0)^4),
    f the radial frequency in cycles per pixel (f0 = 200/512: 200 cycles per 512-pixel
    picture), then scale to variance 0.1. The ramp f flattens the 1/f amplitude spectrum
    of natural images; the exp(-(f/f0)^4) factor removes the highest (noisy, aliased) ones."""
    image = np.asarray(image, dtype=np.float64)
    if image.ndim != 2:
        raise ValueError(f"whiten expects a grey 2-D image, got shape {image.shape}")
    fy = np.fft.fftfreq(image.shape[0])[:, None]
    fx = np.fft.fftfreq(image.shape[1])[None, :]
    f = np.sqrt(fx ** 2 + fy ** 2)
    spectrum = np.fft.fft2(image - image.mean()) * f * np.exp(-(f / f0) ** 4)
    whitened = np.real(np.fft.ifft2(spectrum))
    return whitened * np.sqrt(IMAGE_VARIANCE) / whitened.std()


def photographs(names: tuple[str, ...] = PHOTOGRAPHS) -> list[np.ndarray]:
    """scikit-image's bundled photographs `names`, grey, in [0, 1], float64."""
    import skimage.color
    import skimage.data
    import skimage.util

    images = []
    for name in names:
        image = getattr(skimage.data, name)()
        if image.ndim == 3:
            image = skimage.color.rgb2gray(image[..., :3])
        images.append(skimage.util.img_as_float64(image))
    return images


def load_natural_images(data_dir: str | os.PathLike | None = None) -> tuple[list[np.ndarray], str, dict[str, str]]:
    """The whitened images to sample patches from: IMAGES.mat (key "IMAGES", 512x512x10)
    from the first data folder holding it (data_dir, else $AELIB_DATA_DIR, then the cache),
    else the scikit-image photographs whitened by `whiten`.
    Returns (images, a description of where they came from, {file: sha256} of files read)."""
    for folder in search_dirs(data_dir):
        path = Path(folder) / IMAGES_MAT
        if path.exists():
            import scipy.io

            stack = scipy.io.loadmat(path)["IMAGES"]
            images = [np.ascontiguousarray(stack[:, :, i], dtype=np.float64) for i in range(stack.shape[2])]
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            return images, f"Olshausen's IMAGES.mat ({len(images)} whitened images) from {path}", {IMAGES_MAT: digest}
    import skimage

    images = [whiten(image) for image in photographs()]
    description = (f"IMAGES.mat not found: {len(images)} photographs shipped with scikit-image "
                   f"{skimage.__version__} ({', '.join(PHOTOGRAPHS)}), grey, whitened with "
                   "R(f) = f exp(-(f/f0)^4), f0 = 200 cycles per 512 pixels, variance 0.1")
    return images, description, {}


def sample_patches(images: list[np.ndarray], n_patches: int, patch_size: int = 8,
                   rng: np.random.Generator | None = None) -> np.ndarray:
    """n_patches square patches, each from a random image at a random position
    (sampleIMAGES.m), flattened row by row: float64 [n_patches, patch_size^2]."""
    rng = rng if rng is not None else np.random.default_rng(0)
    which = rng.integers(len(images), size=n_patches)
    patches = np.empty((n_patches, patch_size, patch_size))
    offsets = np.arange(patch_size)
    for index, image in enumerate(images):
        chosen = np.flatnonzero(which == index)
        if image.shape[0] < patch_size or image.shape[1] < patch_size:
            raise ValueError(f"image {index} ({image.shape}) is smaller than a {patch_size}x{patch_size} patch")
        rows = rng.integers(image.shape[0] - patch_size + 1, size=len(chosen))
        cols = rng.integers(image.shape[1] - patch_size + 1, size=len(chosen))
        patches[chosen] = image[(rows[:, None] + offsets)[:, :, None], (cols[:, None] + offsets)[:, None, :]]
    return patches.reshape(n_patches, -1)


def normalise_patches(patches: np.ndarray) -> np.ndarray:
    """The exercise's normalizeData: remove each patch's mean, clip at +-3 standard deviations
    (of all remaining pixel values), and rescale linearly from [-1, 1] to [0.1, 0.9] so the
    sigmoid decoder can reach every value."""
    centred = patches - patches.mean(axis=1, keepdims=True)
    limit = 3 * centred.std()
    return (np.clip(centred, -limit, limit) / limit + 1) * 0.4 + 0.1
