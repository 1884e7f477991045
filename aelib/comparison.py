"""Comparing regularizers on one footing: code measures, validation choice, seed summaries.

A comparison trains several regularized autoencoders on the same data, architecture and
budget and measures their codes h = f(x) the same way. The pieces that are not one
regularizer's own live here:

- `select_setting`: a method's penalty weight chosen on validation data.
- `summarize_over_seeds`: one row per method with the mean and the spread (sample
  standard deviation, ddof=1) of each measure over seeds.
- `smallest_at_matched_error`: which method has the smallest value of a measure among
  those whose reconstruction error is no worse than a reference's by more than a margin.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence

import torch


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


def summarize_over_seeds(runs: Iterable[Mapping], by: str, columns: Sequence[str]) -> list[dict]:
    """Group `runs` (one dict per method and seed) by the key `by` and return one row per
    group, in order of first appearance: `by`, `seeds` (how many runs), and for each column
    its mean and its spread `<column>_std`, the sample standard deviation (ddof = 1),
    NaN when fewer than 2 finite values exist. Non-finite values are left out of both."""
    groups: dict[Hashable, list[Mapping]] = {}
    for run in runs:
        groups.setdefault(run[by], []).append(run)
    rows = []
    for key, members in groups.items():
        row = {by: key, "seeds": len(members)}
        for column in columns:
            values = torch.tensor([float(m[column]) for m in members], dtype=torch.float64)
            values = values[torch.isfinite(values)]
            row[column] = values.mean().item() if len(values) else math.nan
            row[f"{column}_std"] = values.std().item() if len(values) >= 2 else math.nan
        rows.append(row)
    return rows


def smallest_at_matched_error(rows: Sequence[Mapping], *, reference: str, by: str, measure: str,
                              error: str, margin: float) -> tuple[list, Hashable]:
    """Among the rows whose `error` is at most (1 + margin) times the reference row's (the
    methods that reconstruct about as well or better), the value of `by` of the row with
    the smallest `measure`. Returns (the matched rows' `by` values, the winner)."""
    if margin < 0:
        raise ValueError(f"margin must be >= 0, got {margin!r}")
    references = [row for row in rows if row[by] == reference]
    if len(references) != 1:
        raise ValueError(f"expected one row with {by} = {reference!r}, found {len(references)}")
    limit = (1 + margin) * references[0][error]
    matched = [row for row in rows if row[error] <= limit]
    winner = min(matched, key=lambda row: row[measure])[by]
    return [row[by] for row in matched], winner
