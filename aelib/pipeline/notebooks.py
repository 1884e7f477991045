"""Committed notebooks without per-run metadata, so that a rerun with the same results leaves no diff.

papermill stamps every cell and the notebook with start and end times and durations, and
Jupyter adds execution timestamps: `strip_run_metadata` removes them (the outputs, the
tags and everything else stay). `python -m aelib notebooks` re-executes the notebooks in
place with their quick defaults and strips them.
"""

from __future__ import annotations

import json
from pathlib import Path

from aelib.pipeline.results import write_text_atomic

RUN_METADATA_KEYS = ("papermill", "execution")


def strip_run_metadata(path: str | Path) -> bool:
    """Remove papermill's and Jupyter's per-run metadata from the notebook at `path`, in place
    (atomically). Returns whether anything was removed."""
    path = Path(path)
    notebook = json.loads(path.read_text(encoding="utf-8"))
    changed = False
    for holder in [notebook.get("metadata", {})] + [cell.get("metadata", {}) for cell in notebook.get("cells", [])]:
        for key in RUN_METADATA_KEYS:
            changed |= holder.pop(key, None) is not None
    if changed:
        write_text_atomic(path, json.dumps(notebook, indent=1, ensure_ascii=False) + "\n")
    return changed


def execute_in_place(notebook: Path) -> None:
    """Run `notebook` with its own defaults (the quick profile), store its outputs, strip its metadata."""
    import papermill

    papermill.execute_notebook(str(notebook), str(notebook), cwd=str(notebook.parent),
                               kernel_name="python3", progress_bar=False)
    strip_run_metadata(notebook)
