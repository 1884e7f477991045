import math

import pytest

from aelib.measures.seeds import gain_verdict, summarize_over_seeds, t_interval
from aelib.measures.selection import select_setting


def test_select_setting_picks_best_and_breaks_ties_by_order():
    assert select_setting({0.1: 0.80, 0.3: 0.85, 1.0: 0.83}) == 0.3
    assert select_setting({0.1: 0.85, 0.3: 0.85}) == 0.1
    assert select_setting({"a": 3.0, "b": 2.0}, higher_is_better=False) == "b"
    with pytest.raises(ValueError):
        select_setting({0.1: float("nan")})
    with pytest.raises(ValueError):
        select_setting({})


def test_summarize_over_seeds_mean_and_sample_std():
    runs = [{"method": "AE", "seed": 0, "error": 1.0, "jac": 2.0},
            {"method": "CAE", "seed": 0, "error": 5.0, "jac": 1.0},
            {"method": "AE", "seed": 1, "error": 3.0, "jac": float("nan")},
            {"method": "AE", "seed": 2, "error": 8.0, "jac": 4.0}]
    rows = summarize_over_seeds(runs, "method", ["error", "jac"])
    assert [r["method"] for r in rows] == ["AE", "CAE"]
    ae, cae = rows
    assert ae["seeds"] == 3 and ae["error"] == pytest.approx(4.0)
    assert ae["error_std"] == pytest.approx(math.sqrt(((1 - 4) ** 2 + (3 - 4) ** 2 + (8 - 4) ** 2) / 2))
    assert ae["jac"] == pytest.approx(3.0) and ae["jac_std"] == pytest.approx(math.sqrt(2.0))  # NaN left out
    assert cae["seeds"] == 1 and cae["error"] == 5.0 and math.isnan(cae["error_std"])


def test_t_interval_of_three_seeds():
    mean, half_width = t_interval([1.0, 2.0, 3.0])
    assert mean == 2.0
    assert half_width == pytest.approx(4.302653 * 1.0 / math.sqrt(3), rel=1e-6)  # t_{0.975, 2} s / sqrt(n), s = 1


def test_t_interval_needs_two_finite_values():
    with pytest.raises(ValueError, match="at least 2 finite values"):
        t_interval([1.0])
    with pytest.raises(ValueError, match="at least 2 finite values"):
        t_interval([1.0, float("nan")])



def test_gain_verdict_needs_a_gain_beyond_twice_its_spread():
    assert gain_verdict([1.0, 1.1, 0.9])[0] is True  # mean 1.0, sd 0.1
    assert gain_verdict([-1.0, -1.1, -0.9])[0] is False  # worse beyond its spread
    holds, note = gain_verdict([1.0, -0.5, 2.0])  # mean 0.83, sd 1.26: could flip with the next seed
    assert holds is None and "within 2 x sd" in note
    holds, note = gain_verdict([1.0, 1.1])  # two seeds are too few, however clear
    assert holds is None and "at least 3" in note
    with pytest.raises(ValueError, match="finite"):
        gain_verdict([1.0, float("nan"), 2.0])


def test_a_mean_within_the_two_intervals_combined_and_the_offset():
    from aelib.measures.seeds import within_combined_interval
    allowed, holds = within_combined_interval(3.0, 0.3, 2.8, 0.4)
    assert allowed == pytest.approx(0.5) and holds
    assert within_combined_interval(3.4, 0.3, 2.8, 0.4) == (pytest.approx(0.5), False)
    assert within_combined_interval(3.4, 0.3, 2.8, 0.4, offset=-0.2) == (pytest.approx(0.7), True)
