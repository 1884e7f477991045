"""Two families of models compared at matched reconstruction error.

A regularizer buys something (a less sensitive code, a smaller Jacobian) with reconstruction
error, and its weight sets the price. Sweeping one method's weight gives a family of models,
a curve of points (e_k, m_k): clean reconstruction error against the measure. Comparing two
methods at one weight each compares models that do not reconstruct alike; comparing them at
*equal error* asks which buys more for the same price. Along a curve ordered by error, the
measure at error e is the linear interpolation between the two models that bracket it,

    m(e) = m_k + (e - e_k) (m_{k+1} - m_k) / (e_{k+1} - e_k),    e_k <= e <= e_{k+1},

and the two curves are compared at every error of either family's models that lies inside
both curves' error ranges: each of A's models against B's interpolated curve, and each of B's
models against A's (both directions, so that neither family's grid alone sets the points).
Outside the overlap, nothing is compared: extrapolating a trade-off is guessing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence


def interpolate_along(errors: Sequence[float], measures: Sequence[float], error: float) -> float:
    """The measure of a curve at `error`, linearly interpolated between the two points whose
    errors bracket it (the points are sorted by error first); NaN outside the curve's range."""
    if len(errors) != len(measures) or not errors:
        raise ValueError(f"a curve needs as many errors as measures, at least one: got {len(errors)} and {len(measures)}")
    points = sorted(zip(errors, measures))
    if not points[0][0] <= error <= points[-1][0]:
        return math.nan
    for (e0, m0), (e1, m1) in zip(points, points[1:]):
        if e0 <= error <= e1:
            return m0 if e1 == e0 else m0 + (error - e0) * (m1 - m0) / (e1 - e0)
    return points[-1][1]  # a curve of one point, or `error` equal to the last


def matched_error_comparison(curve_a: tuple[Sequence[float], Sequence[float]],
                             curve_b: tuple[Sequence[float], Sequence[float]], *,
                             exclude_shared: bool = True) -> list[dict]:
    """Both curves, each (errors, measures), at every model error of either that lies inside both
    error ranges, ascending: rows {error, a, b, from} ("a" or "b": whose model sets the error).
    With `exclude_shared`, an error where both curves have a model with the same measure (a model
    both families share, e.g. the unregularized one) is left out: it compares a model with itself."""
    (errors_a, measures_a), (errors_b, measures_b) = curve_a, curve_b
    low = max(min(errors_a), min(errors_b))
    high = min(max(errors_a), max(errors_b))
    shared = set(zip(errors_a, measures_a)) & set(zip(errors_b, measures_b)) if exclude_shared else set()
    rows = []
    for source, errors, measures in (("a", errors_a, measures_a), ("b", errors_b, measures_b)):
        for error, measure in zip(errors, measures):
            if low <= error <= high and (error, measure) not in shared:
                rows.append({"error": error, "a": interpolate_along(errors_a, measures_a, error),
                             "b": interpolate_along(errors_b, measures_b, error), "from": source})
    return sorted(rows, key=lambda row: row["error"])


def lower_at_every_matched_error(points: list[dict], label: str) -> tuple[str, bool | None]:
    """Whether family a's measure is below family b's at every matched error of `points` (rows of
    matched_error_comparison), with a line that says at how many; None where the curves do not overlap."""
    if not points:
        return f"{label}: curves do not overlap", None
    lower = sum(row["a"] < row["b"] for row in points)
    text = (f"{label}: lower at {lower}/{len(points)} (errors {points[0]['error']:.1f}-{points[-1]['error']:.1f}; "
            f"mean {sum(row['a'] for row in points) / len(points):.3f} vs {sum(row['b'] for row in points) / len(points):.3f})")
    return text, lower == len(points)


def weight_path(rows: Sequence[Mapping], name: str, *, start: Sequence[Mapping] = (), method: str = "method",
                weight: str = "weight") -> list[Mapping]:
    """A method's weight path: the `rows` of method `name` in increasing weight, after the `start` rows
    (the unregularized model a penalty's path begins at, weight 0)."""
    return list(start) + sorted((row for row in rows if row[method] == name), key=lambda row: row[weight])


def compare_paths(paths: Mapping[str, Sequence[Mapping]], reference: str, *, error: str, measure: str,
                  columns: tuple[str, str, str] = ("error", "reference", "other")) -> list[dict]:
    """The `reference` method's weight path against every other path, at matched error
    (`matched_error_comparison`, both directions): one row per matched point, {"against": the other
    method, columns[0]: the error, columns[1]: the reference's measure there, columns[2]: the other's,
    "error_of": the method whose model sets the error}. A path is a list of rows holding `error` and `measure`."""
    def curve(steps):
        return [row[error] for row in steps], [row[measure] for row in steps]

    error_column, reference_column, other_column = columns
    return [{"against": name, error_column: point["error"], reference_column: point["a"], other_column: point["b"],
             "error_of": reference if point["from"] == "a" else name}
            for name, steps in paths.items() if name != reference
            for point in matched_error_comparison(curve(paths[reference]), curve(steps))]


def lower_by_path(rows: Sequence[Mapping], against: Sequence[str], *, reference: str = "reference",
                  other: str = "other") -> dict[str, list[bool]]:
    """For each method in `against`, whether the reference's measure is below that method's at each of
    their matched points (rows of `compare_paths`), in order; an empty list where the paths do not overlap."""
    return {name: [row[reference] < row[other] for row in rows if row["against"] == name] for name in against}


def misses_by_kind(rows: Sequence[Mapping], against: Sequence[str], *, reference: str = "reference",
                   other: str = "other", method: str | None = None) -> dict[str, str]:
    """What each of `against`'s misses is (rows of `compare_paths`; a miss: the reference's measure not
    below the other's): "none" where there is none or the paths do not overlap; "at its own models"
    where the reference misses at an error one of its own models sets (its measure there is a model's,
    not a line's: a finding); "only on its lines" where it misses only at the other's errors, where its
    own measure is read off the straight line between two of its models (a convex curve lies below such
    a line, so a finer path of the reference could remove the miss: not resolved). `method` is the reference's
    name in the rows' "error_of" (default: `reference`, the column of its measure)."""
    kinds = {}
    for name in against:
        misses = [row for row in rows if row["against"] == name and not row[reference] < row[other]]
        kinds[name] = ("none" if not misses else "at its own models"
                       if any(row["error_of"] == (method or reference) for row in misses) else "only on its lines")
    return kinds
