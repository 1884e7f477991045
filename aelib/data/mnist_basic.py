"""MNIST-basic (Larochelle, Erhan, Courville, Bergstra, Bengio, ICML 2007):
10,000 training, 2,000 validation and 50,000 test digits drawn from MNIST. Its original
files are a specific subset that we do not have; `mnist_basic_split` draws a same-sized
random (seeded) split from the 70,000 official MNIST images instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from aelib.data.datasets import load_dataset, random_split

# (training, validation, test) sizes of the split drawn from each data set: MNIST-basic's
# sizes from the 70,000 official MNIST digits, and the same proportions, scaled, from the
# 5,000 digits of the offline quick data set.
MNIST_BASIC_SIZES = {"mnist": (10_000, 2_000, 50_000), "mnist-5k": (2_000, 500, 2_500)}


@dataclass
class Split:
    """Images (float32 [N, 784] in [0, 1]) and labels (int64 [N]) of the three parts."""
    train_images: torch.Tensor
    train_labels: torch.Tensor
    valid_images: torch.Tensor
    valid_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor
    description: str


def mnist_basic_split(images: torch.Tensor, labels: torch.Tensor, sizes: tuple[int, int, int], *,
                      seed: int = 0) -> Split:
    """A seeded random split of `images` into disjoint training, validation and test parts
    of the given sizes (MNIST-basic: 10,000 / 2,000 / 50,000; Larochelle et al. 2007)."""
    n_train, n_valid, n_test = sizes
    train_index, valid_index, test_index = random_split(len(images), sizes, seed=seed)
    description = (f"a random split (seed {seed}) of {len(images):,} images: {n_train:,} training, "
                   f"{n_valid:,} validation, {n_test:,} test")
    return Split(images[train_index], labels[train_index], images[valid_index], labels[valid_index],
                 images[test_index], labels[test_index], description)


def load_mnist_basic(dataset: str = "mnist", data_dir=None, *, seed: int = 0):
    """MNIST-basic's sizes drawn from a data set's training and test images pooled
    (70,000 for official MNIST, 5,000 for "mnist-5k"). Returns (Split, Dataset)."""
    if dataset not in MNIST_BASIC_SIZES:
        raise ValueError(f"no MNIST-basic split for {dataset!r}; choose one of {', '.join(MNIST_BASIC_SIZES)}")
    data = load_dataset(dataset, data_dir)
    images = torch.cat([data.train_images, data.test_images])
    labels = torch.cat([data.train_labels, data.test_labels])
    split = mnist_basic_split(images, labels, MNIST_BASIC_SIZES[dataset], seed=seed)
    split.description = f"{data.description}; pooled, then {split.description}"
    return split, data
