"""A measure along a sweep of one setting (a penalty weight alpha rising from 0): its trend, and how far
it falls up to the last setting whose model still reconstructs."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd


def rank_correlation(settings: Sequence[float], values: Sequence[float]) -> float:
    """Spearman's rank correlation between the settings and the measure along the sweep
    (+1: the measure rises with the setting at every step, -1: it falls at every step)."""
    if len(settings) != len(values) or len(settings) < 2:
        raise ValueError(f"need as many values as settings, at least 2: got {len(settings)} and {len(values)}")
    return pd.Series(list(settings)).corr(pd.Series(list(values)), method="spearman")


def last_reconstructing(settings: Sequence[float], errors: Sequence[float], factor: float) -> int | None:
    """The position of the largest setting above 0 whose reconstruction error is at most `factor` times
    the error at the first setting (0: the unpenalised model); None when no penalised model qualifies."""
    if len(settings) != len(errors) or not settings:
        raise ValueError(f"need as many errors as settings: got {len(settings)} and {len(errors)}")
    within = [k for k, (setting, error) in enumerate(zip(settings, errors)) if setting > 0 and error <= factor * errors[0]]
    return within[-1] if within else None


def relative_fall(values: Sequence[float], position: int) -> float:
    """1 - values[position] / values[0]: the fraction by which the measure fell from the first setting."""
    return 1 - values[position] / values[0]
