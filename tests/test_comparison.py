import math

import pytest

from aelib.comparison import select_setting, smallest_at_matched_error, summarize_over_seeds


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


def test_smallest_at_matched_error_excludes_worse_reconstructions():
    rows = [{"method": "CAE", "error": 10.0, "jac": 3.0},
            {"method": "AE", "error": 9.0, "jac": 5.0},
            {"method": "DAE", "error": 11.0, "jac": 2.5},   # within 25%: matched, and smaller
            {"method": "VAE", "error": 30.0, "jac": 0.1}]   # far worse error: not matched
    matched, winner = smallest_at_matched_error(rows, reference="CAE", by="method", measure="jac",
                                                error="error", margin=0.25)
    assert matched == ["CAE", "AE", "DAE"] and winner == "DAE"
    matched, winner = smallest_at_matched_error(rows, reference="CAE", by="method", measure="jac",
                                                error="error", margin=0.05)
    assert matched == ["CAE", "AE"] and winner == "CAE"
    with pytest.raises(ValueError):
        smallest_at_matched_error(rows, reference="SAE", by="method", measure="jac", error="error", margin=0.1)
