"""Measures over seeds: summaries, intervals, and whether a gain is shown.

A study repeats a comparison at several seeds; these turn the per-seed values into what
a claim is judged on:

- `summarize_over_seeds`: one row per method with the mean and the spread (sample
  standard deviation, ddof=1) of each measure over seeds.
- `t_interval`: the mean over seeds and the half-width of its Student-t confidence interval.
- `gain_verdict`: whether an improvement over seeds is shown: its mean beyond twice its spread.

Comparisons at matched reconstruction error, along each method's weight path, are in
`aelib.measures.matched_error`.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence

import torch
from scipy import stats


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
    mean, spread = _mean_and_spread(values)
    return mean, float(stats.t.ppf((1 + level) / 2, n - 1)) * spread / math.sqrt(n)


def _mean_and_spread(values: Sequence[float]) -> tuple[float, float]:
    """The mean of n >= 2 values and their sample standard deviation (ddof = 1)."""
    mean = sum(values) / len(values)
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


MINIMUM_SEEDS_FOR_A_GAIN = 3


def gain_verdict(gains: Sequence[float], *, minimum_seeds: int = MINIMUM_SEEDS_FOR_A_GAIN) -> tuple[bool | None, str]:
    """Whether paired gains g_s = (baseline - method) at seeds s show an improvement, with a note.

    With mean m and sample standard deviation s (ddof = 1) over n >= `minimum_seeds` seeds: the
    improvement holds when m > 2 s, does not hold when m < -2 s (the method is worse beyond its
    spread), and is not judged (None) in between, or with fewer seeds: a gain smaller than twice
    its spread over seeds can flip with the next seed, so it is no verdict either way."""
    gains = [float(g) for g in gains]
    if not all(math.isfinite(g) for g in gains):
        raise ValueError(f"gains must be finite, got {gains}")
    n = len(gains)
    if n < minimum_seeds:
        return None, f"{n} seeds, a gain needs at least {minimum_seeds}"
    mean, spread = _mean_and_spread(gains)
    if mean > 2 * spread:
        return True, f"gain {mean:.2f} > 2 x sd {spread:.2f} over {n} seeds"
    if mean < -2 * spread:
        return False, f"loss {-mean:.2f} > 2 x sd {spread:.2f} over {n} seeds"
    return None, f"gain {mean:.2f} within 2 x sd {spread:.2f} over {n} seeds"


def within_combined_interval(mean: float, half_width: float, reference: float, reference_half_width: float,
                             offset: float = 0.0) -> tuple[float, bool]:
    """Whether a mean over seeds agrees with a published value: |mean - reference| <= sqrt(h^2 + H^2) + |offset|,
    h and H the two 95% half-widths (ours over seeds, the paper's), combined as independent errors, and
    `offset` a known shift between the two settings (a split's calibration offset). Returns the allowed
    distance and the verdict."""
    allowed = math.hypot(half_width, reference_half_width) + abs(offset)
    return allowed, abs(mean - reference) <= allowed


def all_hold(verdicts: Iterable[bool | None]) -> bool | None:
    """One verdict from several (e.g. a claim judged at each seed or for each method): does not hold if any
    does not, is not judged (None) if any is not judged, else holds."""
    verdicts = list(verdicts)
    return False if False in verdicts else (None if None in verdicts else True)


def paired_gains(worse: Sequence[float], better: Sequence[float]) -> list[float]:
    """worse_s - better_s at each seed s: the gain of `better` over `worse`, paired by seed (same order)."""
    if len(worse) != len(better):
        raise ValueError(f"paired gains need one value of each per seed, got {len(worse)} and {len(better)}")
    return [float(a) - float(b) for a, b in zip(worse, better)]
