"""Held-out activity of a code (aelib.measures.activity), the Gabor table and the overlaid histograms."""

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import torch  # noqa: E402

from aelib.measures.activity import code_activity, held_out_mean_activation, mean_activation_against_target  # noqa: E402
from aelib.measures.gabor import gabor_fit_table  # noqa: E402
from aelib.models.autoencoders import Autoencoder  # noqa: E402
from aelib.plotting import overlaid_histograms  # noqa: E402


def test_mean_activation_against_target_by_hand():
    rho_hat = torch.tensor([0.10, 0.12, 0.2, 0.07])
    row = mean_activation_against_target(rho_hat, 0.1, "digits")
    assert row["data"] == "digits" and row["rho"] == 0.1
    assert abs(row["mean_rho_hat"] - 0.1225) < 1e-6
    assert row["units_within_25_percent"] == 0.5  # 0.10 and 0.12 within 0.025 of 0.1; 0.2 and 0.07 not


def test_code_activity_by_hand():
    model = Autoencoder(3, 2, tied=False, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    x = torch.rand(4, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    row = code_activity(model, x, near_zero=0.5)
    with torch.no_grad():
        h = model.encode(x)
        error = sum(0.5 * ((model.decode(h[i]) - x[i]) ** 2).sum().item() for i in range(4)) / 4
        assert row["fraction_near_zero"] == sum(v < 0.5 for v in h.flatten().tolist()) / 8
        assert abs(row["reconstruction_error"] - error) < 1e-12
        assert torch.equal(held_out_mean_activation(model, x), h.mean(dim=0))


def test_gabor_fit_table_by_hand():
    rows = gabor_fit_table({"a": np.array([0.95, 0.5, 0.9, 0.1])})
    assert rows == [{"filters": "a", "fraction_r2_at_least_0.9": 0.5, "median_r2": 0.7}]


def test_overlaid_histograms_one_step_histogram_per_entry():
    figure = overlaid_histograms({"a": np.array([0.1, 0.2]), "b": np.array([0.5, 0.9])}, xlabel="x", ylabel="n",
                                 bins=np.linspace(0, 1, 5), threshold=0.9)
    ax = figure.axes[0]
    assert sorted(t.get_text() for t in ax.get_legend().get_texts()) == ["a", "b"]
    assert ax.get_xlabel() == "x" and len(ax.lines) == 1  # the threshold line
