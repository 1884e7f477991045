"""Choosing a setting on validation data (a penalty weight, a learning rate, a number of epochs)."""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping


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
