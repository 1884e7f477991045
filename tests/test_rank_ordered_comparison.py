"""aelib.training.rank_ordered_comparison: the author's network, training by the rule from a start, one summary row."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import pytest  # noqa: E402
import torch  # noqa: E402

import aelib.training.rank_ordered_comparison as comparison  # noqa: E402
from aelib.data.patches import random_patches  # noqa: E402
from aelib.data.references import RANK_ORDERED_NETWORK, find_reference, where_to_get  # noqa: E402
from aelib.models.rank_ordered import hoyer_sparsity  # noqa: E402
from aelib.plotting import activation_histograms, error_curves_by_epoch, top_k_error_curves  # noqa: E402
from aelib.training.rank_ordered_rule import RankOrderedNetwork, top_k_errors, train_sequential, units_for_mass  # noqa: E402

SHAPE = (3, 6, 6)


def tiny_data():
    images = torch.rand(8, 3 * 6 * 6, generator=torch.Generator().manual_seed(0)) * 255 / 256
    probe = random_patches(images, SHAPE, 3, torch.Generator().manual_seed(1))
    return images, probe


def test_train_from_repeats_train_sequential_by_hand():
    images, probe = tiny_data()
    initial = RankOrderedNetwork(27, 5, generator=torch.Generator().manual_seed(0))
    for ranked in (True, False):
        trained, history = comparison.train_from(initial, images, SHAPE, 3, ranked=ranked, probe_patches=probe,
                                                 heldout_patches=probe, epochs=2, learning_rate=1.0, norm_limit=0.1,
                                                 seed=3)
        model = RankOrderedNetwork(27, 5, generator=torch.Generator().manual_seed(0))
        patches = torch.Generator().manual_seed(4)
        rows = train_sequential(model, lambda epoch, patches=patches: random_patches(images, SHAPE, 3, patches), epochs=2, ranked=ranked,
                                generator=torch.Generator().manual_seed(5))
        assert torch.equal(model.weight, trained.weight)
        assert [r["train_error"] for r in rows] == [r["train_error"] for r in history]
        assert history[-1]["heldout_error"] == top_k_errors(model, probe, [5])[5]
        assert not torch.equal(trained.weight, initial.weight)  # a copy was trained, not the start


def test_network_summary_by_hand():
    _, probe = tiny_data()
    network = RankOrderedNetwork(27, 5, generator=torch.Generator().manual_seed(2))
    row = comparison.network_summary(network, probe, probe, [1, 5])
    with torch.no_grad():
        z = network.encode(probe)
    assert row["top_1_error"] == top_k_errors(network, probe, [1])[1] and row["train_probe_error"] == row["top_5_error"]
    assert row["active_share"] == (z > 0).float().mean().item()
    assert row["units_for_90_percent_mass"] == units_for_mass(z).float().mean().item()
    assert row["hoyer_sparsity"] == pytest.approx(hoyer_sparsity(z).nanmean().item())


def test_the_authors_network_says_why_it_is_absent(monkeypatch):
    monkeypatch.setattr(comparison, "find_reference", lambda reference, data_dir: None)
    assert comparison.the_authors_network(None, 147, 169, 7) == (None, {}, where_to_get(RANK_ORDERED_NETWORK))
    monkeypatch.setattr(comparison, "find_reference", lambda reference, data_dir: Path("network_state.pkl"))
    network, files, message = comparison.the_authors_network(None, 75, 100, 5)
    assert network is None and files == {} and "169 units on 7x7" in message


def test_the_authors_network_loads_when_present():
    path = find_reference(RANK_ORDERED_NETWORK)
    if path is None:
        pytest.skip("the author's network_state.pkl is not in the data folders")
    network, files, message = comparison.the_authors_network(None, 147, 169, 7)
    assert network.weight.shape == (169, 147) and files == {str(path): "sha256:" + RANK_ORDERED_NETWORK.sha256}
    assert message.startswith("the author's network:")


def test_the_comparison_figures_draw_what_they_are_given():
    history = [{"epoch": 1, "heldout_error": 0.5, "probe_error": 0.4}, {"epoch": 2, "heldout_error": 0.3, "probe_error": 0.3}]
    figure = error_curves_by_epoch({"a": history, "b": history}, reference_error=0.2)
    assert len(figure.axes[0].lines) == 5  # two per run and the reference
    figure = top_k_error_curves({"ours": {1: 2.0, 5: 1.0}, "his": {1: 2.1, 5: 1.1}}, [1, 5], dashed=("his",))
    assert [line.get_linestyle() for line in figure.axes[0].lines] == ["-", "--"]
    figure = activation_histograms({"a": torch.rand(4, 3)}, bins=torch.linspace(0, 1, 5).numpy())
    assert figure.axes[0].get_yscale() == "log"
