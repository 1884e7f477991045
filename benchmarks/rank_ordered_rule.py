"""Speed of the author's per-patch rule (aelib.training.rank_ordered_rule.train_sequential): patches per
second on real 7x7 CIFAR-10 patches, and the projected time of study 04's full profile
(40,000 patches an epoch, 60 epochs, 169 units). The target: that run in under 10 minutes."""

from __future__ import annotations

import torch

from aelib.training.rank_ordered_rule import RankOrderedNetwork, train_sequential

FULL_PROFILE_PATCHES = 40_000 * 60
TARGET_SECONDS = 600


def rule_speed(patches: torch.Tensor, epochs: int) -> dict:
    """Time `epochs` passes of per-patch SGD over `patches` (after one compiling pass on a few)."""
    model = RankOrderedNetwork(patches.shape[1], 169, generator=torch.Generator().manual_seed(0))
    train_sequential(model, lambda epoch: patches[:100], epochs=1)  # compiles (or loads) the kernel
    history = train_sequential(model, lambda epoch: patches, epochs=epochs)
    seconds = min(row["seconds"] for row in history)
    per_second = len(patches) / seconds
    return {"patches": len(patches), "epochs_timed": epochs, "epoch_seconds": seconds,
            "patches_per_second": per_second, "projected_full_profile_seconds": FULL_PROFILE_PATCHES / per_second}
