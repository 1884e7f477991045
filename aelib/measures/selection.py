"""Choosing a setting on validation data (a penalty weight, a learning rate, a number of epochs)."""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Mapping, Sequence


def select_setting(scores: Mapping[Hashable, float], *, higher_is_better: bool = True) -> Hashable:
    """The setting with the best validation score; ties go to the first setting listed
    (list the weakest penalty first, so a tie keeps the lighter regularizer)."""
    if not scores:
        raise ValueError("no settings to choose from")
    if any(not math.isfinite(score) for score in scores.values()):
        raise ValueError(f"validation scores must be finite, got {dict(scores)}")
    sign = 1 if higher_is_better else -1
    best = max(sign * score for score in scores.values())
    return next(setting for setting, score in scores.items() if sign * score == best)


def choose_then_repeat(grids: Mapping[str, Sequence], seeds: Sequence[int],
                       run_all: Callable[[list[tuple]], list[dict]], score: str, *,
                       higher_is_better: bool = True, single_settings_with_the_grid: bool = False,
                       ) -> tuple[list[dict], list[dict], dict]:
    """Each method's setting chosen on validation at the first seed, then that choice repeated at the others.

    `grids`: method -> its settings, weakest first; `run_all` trains and measures a list of
    (method, setting, seed) triples and returns one row each, holding the validation `score`.
    A method of one setting has nothing to choose: with `single_settings_with_the_grid`, its other
    seeds go into the first call, beside the grid (a `run_all` that trains its calls side by side
    then keeps the machine busy while the grid trains; the rows are the same).
    Returns the first seed's rows of every setting, each with "chosen" (whether `select_setting`
    picked it), the chosen setting's rows at every seed, method by method and seed by seed, and
    {method: chosen setting}."""
    if not seeds:
        raise ValueError("no seeds to run")
    settled = [name for name, grid in grids.items() if len(grid) == 1] if single_settings_with_the_grid else []
    first = run_all([(name, setting, seeds[0]) for name, grid in grids.items() for setting in grid]
                    + [(name, grids[name][0], seed) for name in settled for seed in seeds[1:]])
    rows = iter(first)
    by_method = {name: [next(rows) for _ in grid] for name, grid in grids.items()}
    settled_repeats = {name: [next(rows) for _ in seeds[1:]] for name in settled}
    chosen = {name: select_setting({setting: row[score] for setting, row in zip(grids[name], candidates)},
                                   higher_is_better=higher_is_better) for name, candidates in by_method.items()}
    still_to_repeat = [(name, chosen[name], seed) for name in grids if name not in settled for seed in seeds[1:]]
    repeats = iter(run_all(still_to_repeat) if still_to_repeat else [])
    grid_rows, runs = [], []
    for name, candidates in by_method.items():
        grid_rows += [{**row, "chosen": setting == chosen[name]} for setting, row in zip(grids[name], candidates)]
        runs += [candidates[list(grids[name]).index(chosen[name])]]
        runs += settled_repeats[name] if name in settled else [next(repeats) for _ in seeds[1:]]
    return grid_rows, runs, chosen


def choices_at_grid_edge(grids: Mapping[str, Sequence], chosen: Mapping[str, Hashable]) -> list[str]:
    """The methods with more than one setting whose chosen setting is the first or the last of its grid:
    the validation optimum may lie beyond the grid there."""
    return [name for name, grid in grids.items() if len(grid) > 1 and chosen[name] in (grid[0], grid[-1])]


def edge_margins(grids: Mapping[str, Sequence], chosen: Mapping[str, Hashable],
                 accuracies: Mapping[str, Mapping[Hashable, float]], n_validation: int) -> dict[str, tuple[float, float]]:
    """How far each edge choice (`choices_at_grid_edge`) leads its one interior neighbour on validation.

    For a chosen setting of validation accuracy p and a neighbour of accuracy q, the margin is p - q,
    given with its size in binomial standard errors of one accuracy on n validation examples,
    (p - q) / sqrt(p (1 - p) / n). Under one standard error the validation set does not resolve the
    optimum at that edge (the grid is flat there); well above it, the optimum lies beyond the grid.
    Returns {method: (margin, margin in standard errors)}."""
    if n_validation < 1:
        raise ValueError(f"n_validation must be a positive number of validation examples, got {n_validation}")
    margins = {}
    for name in choices_at_grid_edge(grids, chosen):
        grid = list(grids[name])
        neighbour = grid[1] if grid.index(chosen[name]) == 0 else grid[-2]
        p, q = accuracies[name][chosen[name]], accuracies[name][neighbour]
        standard_error = math.sqrt(p * (1 - p) / n_validation)
        margins[name] = (p - q, (p - q) / standard_error if standard_error > 0 else (math.inf if p > q else 0.0))
    return margins
