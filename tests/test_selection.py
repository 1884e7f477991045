"""Choosing on validation, once for every study: choose_then_repeat, choices_at_grid_edge and edge_margins."""

import pytest

from aelib.measures.seeds import all_hold
from aelib.measures.selection import choices_at_grid_edge, choose_then_repeat, edge_margins

GRIDS = {"plain": [0.0], "penalty": [0.1, 0.3, 1.0]}
SCORE = {("plain", 0.0): 0.80, ("penalty", 0.1): 0.81, ("penalty", 0.3): 0.85, ("penalty", 1.0): 0.85}


def fake_runs(calls_seen):
    def run_all(calls):
        calls_seen.append(list(calls))
        return [{"method": name, "weight": weight, "seed": seed, "score": SCORE[(name, weight)] - seed / 100}
                for name, weight, seed in calls]
    return run_all


def test_the_first_seed_chooses_and_the_others_repeat_the_choice():
    calls = []
    grid_rows, runs, chosen = choose_then_repeat(GRIDS, [5, 6, 7], fake_runs(calls), "score")
    assert chosen == {"plain": 0.0, "penalty": 0.3}  # a tie (0.3 and 1.0) keeps the lighter weight
    assert calls[0] == [("plain", 0.0, 5), ("penalty", 0.1, 5), ("penalty", 0.3, 5), ("penalty", 1.0, 5)]
    assert calls[1] == [("plain", 0.0, 6), ("plain", 0.0, 7), ("penalty", 0.3, 6), ("penalty", 0.3, 7)]
    assert [row["chosen"] for row in grid_rows] == [True, False, True, False]
    assert [(row["method"], row["weight"], row["seed"]) for row in runs] == [
        ("plain", 0.0, 5), ("plain", 0.0, 6), ("plain", 0.0, 7), ("penalty", 0.3, 5), ("penalty", 0.3, 6),
        ("penalty", 0.3, 7)]


def test_a_method_of_one_setting_can_repeat_its_seeds_beside_the_grid():
    calls = []
    grid_rows, runs, chosen = choose_then_repeat(GRIDS, [5, 6, 7], fake_runs(calls), "score",
                                                 single_settings_with_the_grid=True)
    assert calls[0][-2:] == [("plain", 0.0, 6), ("plain", 0.0, 7)]
    assert calls[1] == [("penalty", 0.3, 6), ("penalty", 0.3, 7)]
    assert (grid_rows, runs, chosen) == choose_then_repeat(GRIDS, [5, 6, 7], fake_runs([]), "score")
    calls = []
    choose_then_repeat({"plain": [0.0]}, [5, 6], fake_runs(calls), "score", single_settings_with_the_grid=True)
    assert calls == [[("plain", 0.0, 5), ("plain", 0.0, 6)]]  # nothing left to repeat: one call


def test_lower_is_better_picks_the_smallest_score():
    _, runs, chosen = choose_then_repeat(GRIDS, [0], fake_runs([]), "score", higher_is_better=False)
    assert chosen["penalty"] == 0.1 and len(runs) == 2


def test_no_seeds_is_refused():
    with pytest.raises(ValueError, match="no seeds"):
        choose_then_repeat(GRIDS, [], fake_runs([]), "score")


def test_a_choice_at_either_end_of_a_grid_is_at_its_edge():
    grids = {"plain": [0.0], "a": [1, 2, 3], "b": [1, 2, 3], "c": [1, 2]}
    assert choices_at_grid_edge(grids, {"plain": 0.0, "a": 2, "b": 3, "c": 1}) == ["b", "c"]


def test_an_edge_choice_leads_its_interior_neighbour_by_a_margin_in_standard_errors():
    grids = {"a": [1, 2, 3], "b": [1, 2, 3], "c": [1, 2, 3]}
    accuracies = {"a": {1: 0.90, 2: 0.91, 3: 0.80}, "b": {1: 0.5, 2: 0.6, 3: 0.7}, "c": {1: 0.1, 2: 0.2, 3: 0.1}}
    margins = edge_margins(grids, {"a": 2, "b": 1, "c": 3}, accuracies, n_validation=100)
    assert list(margins) == ["b", "c"]  # a's choice is interior
    assert margins["b"][0] == pytest.approx(-0.1)  # b's first weight against its neighbour, the second
    assert margins["b"][1] == pytest.approx(-0.1 / (0.5 * 0.5 / 100) ** 0.5)  # -2 standard errors
    assert margins["c"] == pytest.approx((-0.1, -0.1 / (0.1 * 0.9 / 100) ** 0.5))  # its neighbour is the middle
    with pytest.raises(ValueError, match="n_validation"):
        edge_margins(grids, {"a": 1, "b": 1, "c": 1}, accuracies, n_validation=0)


def test_all_hold_says_no_before_not_judged():
    assert all_hold([True, True]) is True
    assert all_hold([True, None]) is None
    assert all_hold([None, False, True]) is False


def test_paired_gains_pair_seed_by_seed():
    from aelib.measures.seeds import paired_gains
    assert paired_gains([3.0, 4.0], [2.5, 4.5]) == [0.5, -0.5]
    with pytest.raises(ValueError, match="one value of each per seed"):
        paired_gains([1.0, 2.0], [1.0])
