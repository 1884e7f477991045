"""Random square patches cut from images, vectorised (no Python loop over images).

Images are stored flattened in the data sets' layout: grey (H, W) or colour CHW
(3, H, W), one row per image. A patch keeps that layout: a 7x7 RGB patch is a row of
3 * 7 * 7 = 147 values, the R, G and B planes in turn, so a learned filter can be
drawn with `aelib.plotting.filter_grid(filters, (3, 7, 7))`.
"""

from __future__ import annotations

import torch


def _as_chw(image_shape: tuple[int, ...]) -> tuple[int, int, int]:
    if len(image_shape) == 2:
        return (1, *image_shape)
    if len(image_shape) == 3:
        return tuple(image_shape)
    raise ValueError(f"image_shape must be (H, W) or (C, H, W), got {image_shape}")


def random_patch_positions(n: int, image_shape: tuple[int, ...], patch_size: int,
                           generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Top-left corners (rows, cols) of `n` patches drawn uniformly over every position
    where a patch_size x patch_size window fits in the image."""
    _, height, width = _as_chw(image_shape)
    if not 1 <= patch_size <= min(height, width):
        raise ValueError(f"patch_size must lie in [1, {min(height, width)}], got {patch_size}")
    rows = torch.randint(0, height - patch_size + 1, (n,), generator=generator)
    cols = torch.randint(0, width - patch_size + 1, (n,), generator=generator)
    return rows, cols


def extract_patches(images: torch.Tensor, image_shape: tuple[int, ...], rows: torch.Tensor,
                    cols: torch.Tensor, patch_size: int) -> torch.Tensor:
    """The patch of image i whose top-left corner is (rows[i], cols[i]), for every i,
    by one fancy-indexing gather; returns [N, C * patch_size * patch_size] in CHW order."""
    channels, height, width = _as_chw(image_shape)
    if images.ndim != 2 or images.shape[1] != channels * height * width:
        raise ValueError(f"images must be [N, {channels * height * width}] for image_shape {image_shape}, "
                         f"got {tuple(images.shape)}")
    if not len(rows) == len(cols) == len(images):
        raise ValueError("need one (row, col) position per image")
    cube = images.reshape(-1, channels, height, width)
    offsets = torch.arange(patch_size, device=images.device)
    image_index = torch.arange(len(images), device=images.device)[:, None, None, None]
    channel_index = torch.arange(channels, device=images.device)[None, :, None, None]
    row_index = (rows.to(images.device)[:, None] + offsets)[:, None, :, None]
    col_index = (cols.to(images.device)[:, None] + offsets)[:, None, None, :]
    return cube[image_index, channel_index, row_index, col_index].reshape(len(images), -1)


def random_patches(images: torch.Tensor, image_shape: tuple[int, ...], patch_size: int,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """One patch from each image, at a position drawn uniformly with `generator`
    (the paper's data: a random 7x7 patch of every CIFAR-10 image, anew each epoch)."""
    rows, cols = random_patch_positions(len(images), image_shape, patch_size, generator)
    return extract_patches(images, image_shape, rows, cols, patch_size)
