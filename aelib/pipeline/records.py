"""A results folder read back: every study's record at each of its seeds, checked for what the report needs, and a claim's verdict over the seeds."""

from __future__ import annotations

import json
import math
from pathlib import Path

REQUIRED_KEYS = ("study", "claims", "provenance")


def _read_metrics(path: Path) -> dict:
    """Parse one metrics.json; a broken file is an error that names it."""
    try:
        metrics = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not valid JSON ({error})") from error
    missing = [key for key in REQUIRED_KEYS if not isinstance(metrics, dict) or key not in metrics]
    if missing:
        raise ValueError(f"{path}: missing required key(s) {', '.join(missing)}")
    metrics["directory"] = path.parent
    return metrics


SEED_FOLDER_MARK = ".seed-"  # results/<study>.seed-<n>/: the study run at another seed (aelib.pipeline.workflow)


def load_results(results_dir: Path) -> list[dict]:
    """Every `results_dir/*/metrics.json` except the other profiles' (`results_dir/quick/`,
    `results_dir/paper/`), sorted by study name. A
    study's runs at other seeds (folders `<study>.seed-<n>`) are attached to its record as
    `seed_runs`; the record itself is the default seed's (or, without it, the lowest seed's)."""
    paths = [p for p in Path(results_dir).glob("*/metrics.json") if p.parent.name not in ("quick", "paper")]
    records = sorted((_read_metrics(p) for p in paths),
                     key=lambda m: (m["study"], SEED_FOLDER_MARK in m["directory"].name, seed_of(m)))
    studies: dict[str, dict] = {}
    for record in records:
        if record["study"] in studies:
            studies[record["study"]].setdefault("seed_runs", []).append(record)
        else:
            studies[record["study"]] = record
    return list(studies.values())


def seed_of(record: dict):
    seed = (record.get("provenance") or {}).get("seed", (record.get("params") or {}).get("seed"))
    return seed if isinstance(seed, int) else -1


def runs_of(study: dict) -> list[dict]:
    """The study's record and its runs at other seeds."""
    return [study, *study.get("seed_runs", [])]


def verdict_over_seeds(study: dict, claim: dict) -> tuple[bool | None, int, int]:
    """(holds, k, n): the claim holds only if it holds at every one of the study's n seed runs, and it
    holds at k of them; None where no run evaluated it."""
    verdicts = [next((c.get("holds") for c in run["claims"] if c.get("id") == claim.get("id")), None)
                for run in runs_of(study)]
    held = sum(v is True for v in verdicts)
    holds = None if all(v is None for v in verdicts) else held == len(verdicts)
    return holds, held, len(verdicts)


def seeds_within_a_run(study: dict) -> int:
    """How many seeds each run of the study repeats its training over inside it (its `n_seeds` parameter,
    as studies 06, 07 and 08 do), 1 where it has none: a verdict of one such run already rests on
    several seeds."""
    inside = (study.get("params") or {}).get("n_seeds")
    return inside if isinstance(inside, int) and not isinstance(inside, bool) and inside > 1 else 1


def format_cell(value) -> str:
    """A table cell as text: floats to four significant digits, nested values as JSON."""
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        return f"{value:.1f}" if abs(value) >= 1000 else f"{value:.4g}"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


HOLDS_MARKER = {True: "yes", False: "NO", None: "not evaluated"}
