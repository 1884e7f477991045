import math

import pytest

from aelib.measures.matched_error import interpolate_along, matched_error_comparison


def test_interpolation_is_linear_between_the_bracketing_points_in_any_order():
    errors, measures = [3.0, 1.0, 2.0], [0.0, 1.0, 0.5]  # sorted by error: (1, 1), (2, 0.5), (3, 0)
    assert interpolate_along(errors, measures, 1.5) == pytest.approx(0.75)
    assert interpolate_along(errors, measures, 2.5) == pytest.approx(0.25)
    assert interpolate_along(errors, measures, 3.0) == 0.0
    assert interpolate_along(errors, measures, 1.0) == 1.0


def test_no_extrapolation_outside_the_curve():
    assert math.isnan(interpolate_along([1.0, 2.0], [1.0, 0.0], 0.99))
    assert math.isnan(interpolate_along([1.0, 2.0], [1.0, 0.0], 2.01))


def test_a_curve_needs_matching_lengths():
    with pytest.raises(ValueError, match="as many errors as measures"):
        interpolate_along([1.0, 2.0], [1.0], 1.5)


def test_comparison_runs_both_ways_inside_the_overlap_only():
    # a: from (1, 1) down to (3, 0); b: from (2, 1) to (5, 1) -- overlap [2, 3]
    rows = matched_error_comparison(([1.0, 2.0, 3.0], [1.0, 0.5, 0.0]), ([2.0, 2.5, 5.0], [1.0, 1.0, 1.0]))
    assert [(row["error"], row["from"]) for row in rows] == [(2.0, "a"), (2.0, "b"), (2.5, "b"), (3.0, "a")]
    assert [row["a"] for row in rows] == pytest.approx([0.5, 0.5, 0.25, 0.0])
    assert [row["b"] for row in rows] == pytest.approx([1.0, 1.0, 1.0, 1.0])


def test_a_model_both_families_share_is_not_compared_with_itself():
    shared = (1.0, 0.4)  # e.g. the unregularized model, the first point of both sweeps
    curve_a = ([shared[0], 2.0], [shared[1], 0.2])
    curve_b = ([shared[0], 3.0], [shared[1], 0.3])
    rows = matched_error_comparison(curve_a, curve_b)
    assert [row["error"] for row in rows] == [2.0]
    assert rows[0]["a"] == pytest.approx(0.2) and rows[0]["b"] == pytest.approx(0.4 + (0.3 - 0.4) / 2)
    assert [row["error"] for row in matched_error_comparison(curve_a, curve_b, exclude_shared=False)] == [1.0, 1.0, 2.0]


def test_disjoint_curves_have_nothing_to_compare():
    assert matched_error_comparison(([1.0, 2.0], [0.0, 0.0]), ([3.0, 4.0], [0.0, 0.0])) == []


def test_weight_paths_compared_with_a_reference_at_matched_error():
    from aelib.measures.matched_error import compare_paths, lower_by_path, weight_path
    rows = [{"method": "cae", "weight": 1.0, "e": 3.0, "m": 1.0}, {"method": "cae", "weight": 0.1, "e": 2.0, "m": 2.0},
            {"method": "wd", "weight": 0.1, "e": 2.5, "m": 1.0}, {"method": "far", "weight": 1.0, "e": 9.0, "m": 1.0}]
    start = [{"method": "ae", "weight": 0.0, "e": 1.0, "m": 3.0}]
    paths = {name: weight_path(rows, name, start=start if name != "far" else []) for name in ("cae", "wd", "far")}
    assert [row["weight"] for row in paths["cae"]] == [0.0, 0.1, 1.0]
    matched = compare_paths(paths, "cae", error="e", measure="m", columns=("error", "cae_m", "other_m"))
    # wd's path (1, 3) -> (2.5, 1) against cae's (1, 3) -> (2, 2) -> (3, 1): the shared start is left out
    assert [(row["against"], row["error"], row["error_of"]) for row in matched] == [("wd", 2.0, "cae"), ("wd", 2.5, "wd")]
    assert matched[0]["cae_m"] == 2.0 and matched[0]["other_m"] == pytest.approx(3 - 2 * 1 / 1.5)
    assert matched[1]["cae_m"] == pytest.approx(1.5) and matched[1]["other_m"] == 1.0
    assert lower_by_path(matched, ["wd", "far"], reference="cae_m", other="other_m") == {"wd": [False, False], "far": []}


def test_misses_told_apart_by_whose_model_sets_the_error():
    from aelib.measures.matched_error import misses_by_kind
    rows = [{"against": "wd", "error_of": "wd", "cae": 2.0, "other": 1.9},     # a miss on the CAE's line only
            {"against": "wd", "error_of": "cae", "cae": 1.0, "other": 1.5},
            {"against": "sat", "error_of": "sat", "cae": 2.0, "other": 1.0},
            {"against": "sat", "error_of": "cae", "cae": 2.0, "other": 1.0},   # a miss at a CAE model
            {"against": "dae", "error_of": "cae", "cae": 1.0, "other": 2.0}]
    assert misses_by_kind(rows, ["wd", "sat", "dae", "far"], reference="cae") == {
        "wd": "only on its lines", "sat": "at its own models", "dae": "none", "far": "none"}
    renamed = [{**row, "cae_norm": row.pop("cae")} for row in map(dict, rows)]
    assert misses_by_kind(renamed, ["wd", "sat"], reference="cae_norm", method="cae") == {
        "wd": "only on its lines", "sat": "at its own models"}
