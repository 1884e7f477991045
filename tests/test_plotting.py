"""Figures made for print: log axes labelled with plain numbers, and a figure the article prints at its
own size with no text below 7 pt (aelib.plotting, checked with aelib.pipeline.paper_checks)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from aelib.pipeline.paper_checks import SMALLEST_PRINTED_FONT, TEXT_WIDTH_POINTS, figure_font_sizes  # noqa: E402
from aelib.plotting import PRINT_WIDTH, bound_curves, plain_log_ticks, plain_number  # noqa: E402


def test_tick_values_are_written_without_powers():
    assert [plain_number(v) for v in (0.2, 150, 1e4, 2e-5, 3e6, 0)] == ["0.2", "150", "1e4", "2e-5", "3e6", ""]


def test_a_log_axis_labels_its_decades_plainly_and_its_minor_ticks_within_a_decade():
    figure, ax = plt.subplots()
    ax.plot([0.012, 0.05], [1, 1000])
    ax.set_xscale("log")
    ax.set_yscale("log")
    plain_log_ticks(ax)
    figure.canvas.draw()
    x_labels = {t.get_text() for t in ax.get_xticklabels(minor=True) if t.get_text()}
    y_labels = {t.get_text() for t in ax.get_yticklabels() if t.get_text()}
    assert "0.02" in x_labels and {"1", "10", "100", "1000"} <= y_labels
    assert not any("$" in label for label in x_labels | y_labels)
    plt.close(figure)


def test_the_vae_figure_prints_at_its_own_size_with_no_text_below_seven_points(tmp_path):
    sizes = [2, 3, 5, 10, 20, 200]
    curves = [{"samples": s, "train_bound": {n: -100 - n / s for n in sizes}, "test_bound": {n: -101 for n in sizes}}
              for s in (1e4, 1e5, 1e6, 1e7)]
    figure = bound_curves(curves, sizes)
    figure.savefig(tmp_path / "bound.pdf", bbox_inches="tight")
    width, fonts = figure_font_sizes(tmp_path / "bound.pdf")
    assert figure.get_size_inches()[0] <= PRINT_WIDTH and width <= TEXT_WIDTH_POINTS
    assert min(fonts) >= SMALLEST_PRINTED_FONT
    plt.close(figure)
