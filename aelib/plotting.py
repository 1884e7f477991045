"""Figures shared by the studies: filter grids, learning curves and histograms.

A figure the article prints is at most `PRINT_WIDTH` wide, its text at least 7 pt: the article prints a
figure at its own size (shrinking only a wider one), so the sizes set here are the printed ones.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import torch
from matplotlib import ticker

PRINT_WIDTH = 6.3  # inches: the article's text width (A4 less two margins of 2.5 cm)


def plain_number(value: float, _position=None) -> str:
    """A tick value as plain text: 0.2, 150, 1e4, 2e-5 (no powers 10^k set as superscripts)."""
    if value <= 0 or not math.isfinite(value):
        return ""
    if 1e-3 <= value < 1e4:
        return f"{value:g}"
    exponent = math.floor(math.log10(value))
    mantissa = round(value / 10**exponent, 6)
    return f"{mantissa:g}e{exponent}" if mantissa != 1 else f"1e{exponent}"


def plain_log_ticks(ax) -> None:
    """Label `ax`'s log axes with plain numbers (`plain_number`) rather than powers 10^k, whose
    superscripts print at 70% of the tick size, below 7 pt: every decade, and at 2 and 5 times it where
    the axis spans less than a decade."""
    for axis in (ax.xaxis, ax.yaxis):
        if axis.get_scale() != "log":
            continue

        def minor(value, position, axis=axis):
            low, high = axis.get_view_interval()
            leading = round(value / 10**math.floor(math.log10(value))) if value > 0 else 0
            return plain_number(value) if high < 10 * low and leading in (2, 5) else ""

        axis.set_major_formatter(ticker.FuncFormatter(plain_number))
        axis.set_minor_formatter(ticker.FuncFormatter(minor))


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


def overlaid_histograms(values: dict, *, xlabel: str, ylabel: str, bins, threshold: float | None = None,
                        linewidth: float | None = None, legend_fontsize: float | None = None, figsize=(6, 3.5)):
    """One step histogram per entry of `values` (label: its key) on shared axes; a dotted vertical
    line at `threshold` when given. Returns the figure."""
    figure, ax = plt.subplots(figsize=figsize)
    ax.hist(list(values.values()), bins=bins, label=list(values), histtype="step",
            **({} if linewidth is None else {"linewidth": linewidth}))
    if threshold is not None:
        ax.axvline(threshold, color="k", linestyle=":")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(**({} if legend_fontsize is None else {"fontsize": legend_fontsize}))
    return figure


def histograms_against_targets(values: dict, targets: dict, *, xlabel: str, ylabel: str, target_name: str = "target",
                               bins=20, figsize=(9, 3.3)):
    """One panel per entry of `values` (titled by its key): the histogram of its values and, in red,
    a vertical line at its target (`targets`, same keys), labelled "<target_name> = <target>". Returns the figure."""
    figure, axes = plt.subplots(1, len(values), figsize=figsize)
    for ax, (name, value) in zip(axes, values.items()):
        ax.hist(value, bins=bins)
        ax.axvline(targets[name], color="r", label=f"{target_name} = {targets[name]}")
        ax.set_title(name)
        ax.set_xlabel(xlabel)
        ax.legend()
    axes[0].set_ylabel(ylabel)
    return figure


def bound_curves(curves: list[dict], latent_sizes: list[int], max_columns: int = 3):
    """Kingma & Welling's figure 2 on its axis: for each N_z (one panel), the test bound (solid) and the
    train bound (dashed) against the training samples evaluated, log axis. `curves`: rows with
    `samples`, `test_bound` and `train_bound` ({N_z: nats per digit}). Returns the figure."""
    seen = [row["samples"] for row in curves]
    columns = min(max_columns, len(latent_sizes))
    rows = -(-len(latent_sizes) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(PRINT_WIDTH, 2.3 * rows), squeeze=False, sharex=True)
    for k, n_latent in enumerate(latent_sizes):
        ax = axes.flat[k]
        test_curve = [row["test_bound"][n_latent] for row in curves]
        train_curve = [row["train_bound"][n_latent] for row in curves]
        ax.plot(seen, test_curve, "-", color="C0", label="test")
        ax.plot(seen, train_curve, "--", color="C1", label="train")
        ax.set_xscale("log")
        ax.set_ylim(max(test_curve + train_curve) - 60, max(test_curve + train_curve) + 5)
        ax.set_title(f"MNIST, $N_z$ = {n_latent}", fontsize=10)  # its subscript at 7 pt
        ax.grid(True, which="both", alpha=0.3)
        if k % columns == 0:
            ax.set_ylabel("bound (nats per digit)", fontsize=8)
        if k >= len(latent_sizes) - columns:
            ax.set_xlabel("training samples evaluated", fontsize=8)
    for ax in axes.flat[len(latent_sizes):]:
        ax.set_axis_off()
    for ax in axes.flat:
        ax.tick_params(which="both", labelsize=7)
        plain_log_ticks(ax)
    axes.flat[0].legend(fontsize=7)
    figure.tight_layout()
    return figure


def image_rows(rows: dict, title: str, n_shown: int, image_shape: tuple[int, int] = (28, 28)):
    """One row of `n_shown` grey images (values in [0, 1]) per entry of `rows`, labelled by its key. Returns the figure."""
    figure, axes = plt.subplots(len(rows), n_shown, figsize=(n_shown * 0.6, len(rows) * 0.68), squeeze=False)
    for r, (label, images) in enumerate(rows.items()):
        for c in range(n_shown):
            axes[r, c].imshow(images[c].reshape(*image_shape).numpy(), cmap="gray", vmin=0, vmax=1)
            axes[r, c].set_xticks([])
            axes[r, c].set_yticks([])
        axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
    figure.suptitle(title, fontsize=9)
    return figure


def error_curves_by_epoch(histories: dict[str, list[dict]], reference_error: float | None = None,
                          reference_label: str = "author's network, held out",
                          ylabel: str = "||x - S_H|| per patch (pixels / 256)"):
    """Per run (one colour): heldout_error (solid) and probe_error (dashed) of each epoch's row; a grey
    dotted line at `reference_error` when given. Returns the figure."""
    figure, ax = plt.subplots(figsize=(6.5, 4))
    for label, history in histories.items():
        epochs_done = [row["epoch"] for row in history]
        line, = ax.plot(epochs_done, [row["heldout_error"] for row in history], "-", label=f"{label}, held out")
        ax.plot(epochs_done, [row["probe_error"] for row in history], "--", color=line.get_color(),
                label=f"{label}, training probe")
    if reference_error is not None:
        ax.axhline(reference_error, color="grey", linestyle=":", label=reference_label)
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)
    return figure


def top_k_error_curves(curves: dict[str, dict[int, float]], ks: list[int], dashed: tuple[str, ...] = ()):
    """Each network's top-k error against k (log axis); the labels in `dashed` drawn as squares and dashes.
    Returns the figure."""
    figure, ax = plt.subplots(figsize=(6.5, 4))
    for label, curve in curves.items():
        ax.plot(ks, [curve[k] for k in ks], "o-" if label not in dashed else "s--", markersize=3, label=label)
    ax.set_xscale("log")
    ax.set_xlabel("k, the number of top-ranked units used")
    ax.set_ylabel("||x - S_k|| per patch (pixels / 256)")
    ax.legend(fontsize=8)
    return figure


def activation_histograms(codes: dict[str, torch.Tensor], bins, xlabel: str = "activation z",
                          ylabel: str = "count (units x held-out patches)"):
    """One step histogram of every activation of each code (log counts). Returns the figure."""
    figure, ax = plt.subplots(figsize=(6, 3.8))
    for label, z in codes.items():
        ax.hist(z.flatten().numpy(), bins=bins, histtype="step", label=label, linewidth=1.5)
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)
    return figure


def grey_image(image: torch.Tensor, figsize=(6, 6)):
    """One grey image on axes of its own, without ticks (e.g. a tiled latent manifold). Returns the figure."""
    figure, ax = plt.subplots(figsize=figsize)
    ax.imshow(image.numpy(), cmap="gray")
    ax.set_axis_off()
    return figure


def labelled_scatter(points: torch.Tensor, labels: torch.Tensor, *, xlabel: str, ylabel: str,
                     colour_label: str = "digit", figsize=(6, 5)):
    """2-D points coloured by their class label (10 classes, one colour each), with a colour bar. Returns the figure."""
    figure, ax = plt.subplots(figsize=figsize)
    drawn = ax.scatter(points[:, 0], points[:, 1], c=labels, cmap="tab10", s=2)
    figure.colorbar(drawn, ax=ax, ticks=range(10), label=colour_label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return figure
