"""What notebook 04 compares (Bertens 2016): the author's own trained network, loaded beside ours; our
network trained by his rule and the unranked ablation, from the same start on the same patches; and one
summary row per network, measured by one code in his units (pixels / 256).

The summary (`network_summary`): the top-k error ||x - S_k||_2 per patch for each k
(`aelib.training.rank_ordered_rule.top_k_errors`), Hoyer's sparsity of each code
(sqrt(H) - ||z||_1 / ||z||_2) / (sqrt(H) - 1) averaged over the codes that are not all zero, the share
of all-zero codes, the share of active units, the units holding 90% of a code's activation
(`units_for_mass`) and the error on the training probe patches."""

from __future__ import annotations

import copy
import os
from collections.abc import Sequence

import torch

from aelib.data.patches import random_patches
from aelib.data.references import RANK_ORDERED_NETWORK, find_reference, load_rank_ordered_network, where_to_get
from aelib.models.rank_ordered import hoyer_sparsity
from aelib.training.rank_ordered_rule import RankOrderedNetwork, top_k_errors, train_sequential, units_for_mass


def the_authors_network(data_dir: str | os.PathLike | None, n_visible: int, n_hidden: int,
                        patch_size: int) -> tuple[RankOrderedNetwork | None, dict, str]:
    """The author's trained network (`network_state.pkl`, checksum checked first) when the data folders
    hold it and the setting is his (169 units on 7x7 patches); else None. Returns (network or None,
    {path: checksum} of the file read, a sentence saying what was found)."""
    path = find_reference(RANK_ORDERED_NETWORK, data_dir)
    if path is None:
        return None, {}, where_to_get(RANK_ORDERED_NETWORK)
    if not (patch_size == 7 and n_hidden == 169):
        return None, {}, "the author's network has 169 units on 7x7 patches: not compared with this setting"
    state = load_rank_ordered_network(path)  # checksum first, then numpy-only unpickling
    network = RankOrderedNetwork(n_visible, n_hidden)
    with torch.no_grad():
        network.weight.copy_(state["weight"])
    return (network, {str(path): "sha256:" + RANK_ORDERED_NETWORK.sha256},
            f"the author's network: {RANK_ORDERED_NETWORK.origin}, trained for {state['epoch'] + 1} epochs")


def train_from(initial: RankOrderedNetwork, train_images: torch.Tensor, image_shape: tuple[int, ...], patch_size: int,
               *, ranked: bool, probe_patches: torch.Tensor, heldout_patches: torch.Tensor, epochs: int,
               learning_rate: float, norm_limit: float, seed: int) -> tuple[RankOrderedNetwork, list[dict]]:
    """The author's rule (`train_sequential`; ranked=False: its unranked ablation) on a copy of `initial`,
    each epoch on one fresh random patch of every training image (a generator seeded seed + 1, so that
    every model sees the same patches), visited in an order drawn from a generator seeded seed + 2. After
    each epoch the error ||x - S_H|| on the probe and on the held-out patches joins the row (probe_error,
    heldout_error). Returns the trained copy and its rows."""
    model = copy.deepcopy(initial)
    patch_generator = torch.Generator().manual_seed(seed + 1)
    n_hidden = model.weight.shape[0]

    def fresh_patches(epoch):
        return random_patches(train_images, image_shape, patch_size, patch_generator)

    def measure(row):
        row["probe_error"] = top_k_errors(model, probe_patches, [n_hidden])[n_hidden]
        row["heldout_error"] = top_k_errors(model, heldout_patches, [n_hidden])[n_hidden]

    history = train_sequential(model, fresh_patches, epochs=epochs, learning_rate=learning_rate, norm_limit=norm_limit,
                               ranked=ranked, on_epoch_end=measure, generator=torch.Generator().manual_seed(seed + 2))
    return model, history


@torch.no_grad()
def network_summary(network: torch.nn.Module, heldout_patches: torch.Tensor, probe_patches: torch.Tensor,
                    ks: Sequence[int]) -> dict:
    """One row of the comparison (module docstring): top_<k>_error for each k of `ks` on the held-out
    patches, hoyer_sparsity, all_zero_codes, active_share, units_for_90_percent_mass, train_probe_error."""
    n_hidden = network.weight.shape[0]
    z = network.encode(heldout_patches)
    hoyer = hoyer_sparsity(z)
    errors = top_k_errors(network, heldout_patches, ks)
    return {**{f"top_{k}_error": errors[k] for k in ks},
            "hoyer_sparsity": hoyer.nanmean().item(), "all_zero_codes": hoyer.isnan().float().mean().item(),
            "active_share": (z > 0).float().mean().item(),
            "units_for_90_percent_mass": units_for_mass(z, 0.9).float().mean().item(),
            "train_probe_error": top_k_errors(network, probe_patches, [n_hidden])[n_hidden]}
