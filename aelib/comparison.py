"""Comparing regularizers on one footing: code measures, validation choice, seed summaries.

A comparison trains several regularized autoencoders on the same data, architecture and
budget and measures their codes h = f(x) the same way. The pieces that are not one
regularizer's own live here:

- `select_setting`: a method's penalty weight chosen on validation data.
- `summarize_over_seeds`: one row per method with the mean and the spread (sample
  standard deviation, ddof=1) of each measure over seeds.
- `t_interval`: the mean over seeds and the half-width of its Student-t confidence interval.

Comparisons at matched reconstruction error, along each method's weight path, are in
`aelib.tradeoff`.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence

import torch
from scipy import stats


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


def t_interval(values: Sequence[float], level: float = 0.95) -> tuple[float, float]:
    """The mean of n values (e.g. one per seed) and the half-width of its Student-t confidence
    interval at `level`,  mean +- t_{(1 + level)/2, n - 1} s / sqrt(n),  s the sample standard
    deviation (ddof = 1). Needs n >= 2 finite values; with n = 3, t = 4.30 at 95%."""
    values = [float(v) for v in values]
    if len(values) < 2 or not all(math.isfinite(v) for v in values):
        raise ValueError(f"a confidence interval needs at least 2 finite values, got {values}")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    n = len(values)
    mean = sum(values) / n
    spread = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    return mean, float(stats.t.ppf((1 + level) / 2, n - 1)) * spread / math.sqrt(n)
