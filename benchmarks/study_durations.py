"""Each study's wall time in its quick and full profile, read from the runs' own records.

Full: `results/<study>/metrics.json`; quick: `results/quick/<study>/metrics.json` (if present).
Nothing is rerun: the durations are those the recorded runs measured, on the machine and
thread count each records.
"""

from __future__ import annotations

import json
from pathlib import Path


def _duration(path: Path) -> dict:
    if not path.is_file():
        return {"seconds": None, "source": f"{path} (missing)"}
    provenance = json.loads(path.read_text(encoding="utf-8")).get("provenance", {})
    return {"seconds": provenance.get("duration_seconds"), "source": str(path),
            "threads": provenance.get("threads"), "commit": str(provenance.get("git_commit", ""))[:10]}


def study_durations(results_dir: Path) -> list[dict]:
    """One row per study found in results_dir or results_dir/quick."""
    results_dir = Path(results_dir)
    studies = sorted({p.parent.name for p in results_dir.glob("*/metrics.json") if p.parent.name != "quick"}
                     | {p.parent.name for p in (results_dir / "quick").glob("*/metrics.json")})
    rows = []
    for study in studies:
        quick, full = _duration(results_dir / "quick" / study / "metrics.json"), _duration(
            results_dir / study / "metrics.json")
        rows.append({"study": study, "quick_seconds": quick["seconds"], "quick_threads": quick.get("threads"),
                     "full_seconds": full["seconds"], "full_threads": full.get("threads"),
                     "quick_source": quick["source"], "full_source": full["source"]})
    return rows
