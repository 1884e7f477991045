"""Checks for a notebook's parameters, run first so bad input fails before any work.

Each raises ValueError naming the parameter, the value given and what is allowed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping


def require_positive_int(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"parameter {name} must be a positive integer, got {value!r}")


def require_positive(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"parameter {name} must be a positive number, got {value!r}")


def require_fractions(name: str, values: Iterable, *, below_one: bool = True) -> None:
    """Every value a fraction in [0, 1) (or [0, 1] with below_one=False)."""
    values = list(values) if isinstance(values, (list, tuple)) else [values]
    upper = "1)" if below_one else "1]"
    for value in values:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 1
        if not ok or (below_one and value == 1):
            raise ValueError(f"parameter {name} must hold fractions in [0, {upper}, got {value!r}")


def require_choice(name: str, value, choices: Iterable) -> None:
    choices = list(choices)
    if value not in choices:
        raise ValueError(f"parameter {name} must be one of {choices}, got {value!r}")


def require_sweep(name: str, values, *, start: float | None = 0.0, minimum_length: int = 2) -> None:
    """A swept weight or noise level: at least `minimum_length` increasing non-negative numbers,
    the first equal to `start` when one is given (0.0: the unregularized model heads the sweep)."""
    numbers = isinstance(values, (list, tuple)) and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0 for v in values)
    if not numbers or len(values) < minimum_length or any(b <= a for a, b in zip(values, values[1:])) \
            or (start is not None and values[0] != start):
        first = f", starting at {start!r}" if start is not None else ""
        raise ValueError(f"parameter {name} must be at least {minimum_length} increasing non-negative numbers"
                         f"{first}, got {values!r}")


def require_parameters(values: Mapping, *, positive_ints: Iterable[str] = (), positives: Iterable[str] = (),
                       fractions: Iterable[str] = (), above_zero: Iterable[str] = ()) -> None:
    """The checks above on a notebook's parameters by name (`values`: its globals()), in this order:
    each of `positive_ints` a positive integer, each of `positives` a positive number, each of
    `fractions` in [0, 1), and each of `above_zero` (fractions already checked) not 0."""
    for name in positive_ints:
        require_positive_int(name, values[name])
    for name in positives:
        require_positive(name, values[name])
    for name in fractions:
        require_fractions(name, values[name])
    for name in above_zero:
        if values[name] == 0:
            raise ValueError(f"parameter {name} must be above 0, got {values[name]!r}")


def require_increasing_positive(name: str, values, *, integers: bool = False, strictly: bool = False) -> None:
    """A non-empty list of positive numbers (`integers`: integers) in increasing order (`strictly`: no repeats)."""
    kinds = int if integers else (int, float)
    if not isinstance(values, (list, tuple)) or not values or any(
            isinstance(v, bool) or not isinstance(v, kinds) or v <= 0 for v in values) \
            or sorted(set(values) if strictly else values) != list(values):
        kind = "integers" if integers else "numbers"
        raise ValueError(f"parameter {name} must be positive {kind} in {'strictly ' if strictly else ''}increasing "
                         f"order, got {values!r}")


def require_multiple_of(name: str, value: int, unit_name: str, unit: int) -> None:
    """`value` a multiple of the parameter `unit_name` (of value `unit`)."""
    if value % unit:
        raise ValueError(f"parameter {name} must be a multiple of {unit_name} ({unit}), got {value}")
