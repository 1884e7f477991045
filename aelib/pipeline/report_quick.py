"""The report's table of the quick profile against the full record: each claim's full verdict beside its quick verdict at every seed of results/quick-seeds/."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from aelib.pipeline.records import HOLDS_MARKER, load_results, runs_of, seed_of, verdict_over_seeds

QUICK_RECORD = "quick-seeds"  # results/quick-seeds/: every study's quick profile at seeds 0-4 (make quick-seeds)


QUICK_MARKER = {True: "yes", False: "NO", None: "-"}


def _claim_verdicts(study: dict) -> dict[str, list[bool | None]]:
    """claim id -> its verdict at each of the study's runs, in seed order."""
    runs = sorted(runs_of(study), key=seed_of)
    ids = [c["id"] for run in runs for c in run["claims"]]
    return {claim_id: [next((c.get("holds") for c in run["claims"] if c.get("id") == claim_id), None) for run in runs]
            for claim_id in dict.fromkeys(ids)}


def quick_against_full(full: list[dict], quick: list[dict]) -> pd.DataFrame:
    """Per claim: the full record's verdict over its seeds, the quick profile's verdict at each quick seed
    ('-': not judged at quick scale), and whether they agree. A quick profile agrees when every seed that
    judges the claim gives the full verdict; it is 'not judged' where no quick seed judges it."""
    quick_by_study = {s["study"]: s for s in quick}
    seeds = sorted({seed_of(run) for s in quick for run in runs_of(s)})
    rows = []
    for study in full:
        quick_verdicts = _claim_verdicts(quick_by_study[study["study"]]) if study["study"] in quick_by_study else {}
        for claim_id in _claim_verdicts(study):
            holds, held, runs = verdict_over_seeds(study, {"id": claim_id})
            at_quick = quick_verdicts.get(claim_id, [])
            judged = [v for v in at_quick if v is not None]
            agreement = ("not in the quick record" if not at_quick else "not judged at quick scale" if not judged
                         else "full record does not judge it" if holds is None
                         else "agrees" if all(v == holds for v in judged) else "DISAGREES")
            rows.append({"study": study["study"], "claim": claim_id,
                         "full": f"{HOLDS_MARKER[holds]} ({held}/{runs} seeds)",
                         **{f"quick seed {seed}": QUICK_MARKER[v] for seed, v in zip(seeds, at_quick)},
                         "quick against full": agreement})
    return pd.DataFrame(rows, columns=["study", "claim", "full", *(f"quick seed {s}" for s in seeds), "quick against full"])


def quick_note(frame: pd.DataFrame) -> str:
    counts = frame["quick against full"].value_counts()
    judged = int(counts.get("agrees", 0) + counts.get("DISAGREES", 0))
    return (f"Every claim's verdict in the full record (over its seeds) beside the quick profile's at each seed of "
            f"`{QUICK_RECORD}/` ('-': the quick profile does not judge it, and says what it would need). "
            f"{judged} of {len(frame)} claims are judged at quick scale: {int(counts.get('agrees', 0))} agree with "
            f"the full record at every quick seed, {int(counts.get('DISAGREES', 0))} disagree; "
            f"{int(counts.get('not judged at quick scale', 0))} are not judged at quick scale.")


def quick_frame(results_dir: Path, full: list[dict]) -> pd.DataFrame | None:
    folder = Path(results_dir) / QUICK_RECORD
    return quick_against_full(full, load_results(folder)) if folder.is_dir() and any(folder.glob("*/metrics.json")) \
        else None
