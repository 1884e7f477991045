"""Figures shared by the studies: filter grids and learning curves."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import torch


def filter_grid(filters: torch.Tensor, image_shape: tuple[int, ...], ncols: int | None = None,
                title: str | None = None, axes_size: float = 0.6):
    """Draw each filter as an image, each scaled to its own range (as the papers do).

    image_shape is (H, W) for grey filters or (3, H, W) for colour ones (CHW, as
    the data sets store them). Returns the figure.
    """
    filters = filters.detach().cpu().float()
    n = len(filters)
    ncols = ncols or math.ceil(math.sqrt(n))
    nrows = math.ceil(n / ncols)
    figure, axes = plt.subplots(nrows, ncols, figsize=(ncols * axes_size, nrows * axes_size + (0.4 if title else 0)),
                                squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    for ax, w in zip(axes.flat, filters):
        low, high = w.min(), w.max()
        image = ((w - low) / (high - low + 1e-12)).reshape(image_shape)
        if image.ndim == 3:
            ax.imshow(image.permute(1, 2, 0).numpy(), interpolation="nearest")
        else:
            ax.imshow(image.numpy(), cmap="gray", interpolation="nearest")
    if title:
        figure.suptitle(title)
    figure.subplots_adjust(wspace=0.05, hspace=0.05)
    return figure


def learning_curves(histories: dict[str, list[dict]], ylabel: str = "loss"):
    """Train (dashed) and test (solid) loss per epoch, one colour per run."""
    figure, ax = plt.subplots(figsize=(6, 4))
    for (label, history), colour in zip(histories.items(), plt.rcParams["axes.prop_cycle"].by_key()["color"] * 10):
        epochs = [row["epoch"] for row in history]
        ax.plot(epochs, [row["train_loss"] for row in history], "--", color=colour)
        if "test_loss" in history[0]:
            ax.plot(epochs, [row["test_loss"] for row in history], "-", color=colour, label=label)
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.legend(title="solid: test, dashed: train", fontsize=8)
    return figure
