"""The start of every study: what each notebook's set-up cell would otherwise repeat.

    record, torch_device = start_study("01_denoising_filters", "Denoising autoencoders ...", globals())

sets the thread count (torch and the BLAS of NumPy, when the notebook has a `threads`
parameter), seeds every generator and asks for deterministic kernels, resolves the device,
and opens the study's record with its parameters: the names assigned in the notebook's
tagged `parameters` cell, read from the notebook itself, with the values they have now
(papermill's injected values included). Nothing is listed by hand.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Sequence
from pathlib import Path

import torch
import yaml
from threadpoolctl import threadpool_limits

from aelib.pipeline.reproducibility import resolve_device, seed_everything
from aelib.pipeline.results import StudyRecord, project_root

# Set per run or per machine, not part of what a study computes: left out of the record's params.
UNRECORDED_PARAMETERS = ("profile", "output_dir", "data_dir", "checkpoint_dir")


def parameter_names(notebook: str | Path) -> list[str]:
    """The names assigned in the notebook's cell tagged `parameters`, in order."""
    notebook = Path(notebook)
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    tagged = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(tagged) != 1:
        raise ValueError(f"{notebook} must have exactly one cell tagged 'parameters', it has {len(tagged)}")
    names = []
    for statement in ast.parse("".join(tagged[0]["source"])).body:
        targets = statement.targets if isinstance(statement, ast.Assign) else \
            [statement.target] if isinstance(statement, ast.AnnAssign) else []
        names += [t.id for t in targets if isinstance(t, ast.Name) and t.id not in names]
    return names


def start_study(study: str, title: str, namespace: dict, *, root: Path | None = None) -> tuple[StudyRecord, torch.device]:
    """Threads, seed, device and the record of study `study` (its notebook's stem), whose
    parameters are the notebook's parameters-cell names looked up in `namespace` (pass
    `globals()`). Returns the record and the torch device."""
    notebook = (root or project_root()) / "notebooks" / f"{study}.ipynb"
    if not notebook.exists():
        raise FileNotFoundError(f"cannot read the parameters of study {study}: {notebook} does not exist")
    names = parameter_names(notebook)
    missing = [name for name in ("profile", "seed", "device", "output_dir") if name not in names]
    if missing:
        raise ValueError(f"{notebook}'s parameters cell must define {', '.join(missing)}")
    if "threads" in names:
        torch.set_num_threads(namespace["threads"])  # before seeding: it changes float results, and is recorded
        threadpool_limits(namespace["threads"])  # NumPy's BLAS too (scikit-learn, SciPy)
    seed_everything(namespace["seed"])
    device = resolve_device(namespace["device"])
    params = {name: namespace[name] for name in names if name not in UNRECORDED_PARAMETERS}
    record = StudyRecord(study, title, namespace["profile"], params, seed=namespace["seed"], device=device,
                         output_dir=namespace["output_dir"])
    print(f"device: {device}, threads: {torch.get_num_threads()}")
    return record, device


def full_scale_shortfall(record: StudyRecord, names: Sequence[str], *, root: Path | None = None) -> str | None:
    """What this run lacks of the full profile's scale, in the parameters `names`, worded as the
    `needs` of a claim it cannot judge (`StudyRecord.claim`); None when it has that scale.

    The full profile's values are those of notebooks/<study>.full.yaml (a name it does not set keeps
    the notebook's default, so no run falls short of it). A number falls short where it is below the
    full profile's; any other value (a data set's name) where it differs. A run with the full
    profile's scale, or a larger one, judges the claim: the rule follows the parameters, not the
    profile's name."""
    path = (root or project_root()) / "notebooks" / f"{record.study}.full.yaml"
    if not path.exists():
        raise FileNotFoundError(f"study {record.study} has no full profile ({path}) to compare this run's scale with")
    full = yaml.safe_load(path.read_text()) or {}
    unknown = [name for name in names if name not in record.params]
    if unknown:
        raise KeyError(f"{', '.join(unknown)}: not parameters of study {record.study}")
    short = []
    for name in names:
        if name not in full:
            continue
        here, there = record.params[name], full[name]
        numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (here, there))
        if (here < there) if numbers else (here != there):
            short.append(f"{name} {there!r} (here {here!r})")
    return f"the full profile's {', '.join(short)}" if short else None
