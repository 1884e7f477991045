"""Where a study's results go, and the record (metrics.json) each run writes.

results/<study>/          the committed full-profile record
results/quick/<study>/    quick runs (tests, `make reproduce`, a notebook's defaults)
results/paper/<study>/    paper-profile runs, where a study has one (<study>.paper.yaml: the paper's
                          own budget, for a GPU or a cluster)
Each holds metrics.json, figures/ and, when run by papermill, the executed notebook.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from aelib.pipeline.reproducibility import Provenance

PROFILES = ("quick", "full", "paper")


def project_root(start: str | os.PathLike | None = None) -> Path:
    """The checkout this code runs from: the nearest folder above `start` (default:
    the working directory, then this package) holding aelib's pyproject.toml."""
    candidates = [Path(start or Path.cwd()).resolve(), Path(__file__).resolve().parent]
    for candidate in candidates:
        for folder in (candidate, *candidate.parents):
            pyproject = folder / "pyproject.toml"
            if pyproject.exists() and 'name = "aelib"' in pyproject.read_text():
                return folder
    raise FileNotFoundError("cannot find the aelib checkout (a folder with aelib's pyproject.toml) "
                            f"above {candidates[0]}; run from inside the repository or pass output_dir")


def study_dir(study: str, profile: str, root: Path | None = None) -> Path:
    """results/<study> for the full profile, results/<profile>/<study> for the others (quick, paper)."""
    check_profile(profile)
    results = (root or project_root()) / "results"
    return results / study if profile == "full" else results / profile / study


def report_dir(profile: str, root: Path | None = None) -> Path:
    check_profile(profile)
    report = (root or project_root()) / "report"
    return report if profile == "full" else report / profile


def check_profile(profile: str) -> None:
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")


@dataclass
class Claim:
    """One claim of a paper, checked by our run."""
    id: str
    statement: str
    paper_value: str
    paper_source: str
    ours: str
    tolerance: str
    holds: bool | None
    diagnosis: str | None = None  # a measured reason beside the verdict (why it does not hold, or what limits it)

    def verdict(self) -> str:
        mark = {True: "holds", False: "DOES NOT HOLD", None: "not evaluated"}[self.holds]
        line = f"[{mark}] {self.id}: {self.ours} (tolerance: {self.tolerance})"
        return line + (f"\n    why: {self.diagnosis}" if self.diagnosis else "")


class StudyRecord:
    """Collects one run's metrics, tables, claims and figures and writes metrics.json.

    Created at the start of a run (the provenance clock starts then) and written
    once at the end with `write()`, atomically.
    """

    def __init__(self, study: str, title: str, profile: str, params: dict, *, seed: int,
                 device: torch.device, output_dir: str | os.PathLike | None = None):
        self.study, self.title, self.profile = study, title, profile
        self.params = dict(params)
        self.dir = Path(output_dir) if output_dir else study_dir(study, profile)
        check_profile(profile)
        self.figures_dir = self.dir / "figures"
        self.figures_dir.mkdir(parents=True, exist_ok=True)
        self.provenance = Provenance(seed, device)
        self.metrics: dict = {}
        self.tables: dict[str, list[dict]] = {}
        self.claims: list[Claim] = []
        self.figures: list[dict] = []

    def save_figure(self, figure, name: str, caption: str) -> Path:
        """Save a matplotlib figure as figures/<name>.png (for the report) and figures/<name>.pdf
        (vector, for the paper; no creation date, so a rerun with the same numbers writes the same
        bytes), named after what it shows."""
        path = self.figures_dir / f"{name}.png"
        figure.savefig(path, dpi=100, bbox_inches="tight")
        figure.savefig(path.with_suffix(".pdf"), bbox_inches="tight", metadata={"CreationDate": None})
        self.figures = [f for f in self.figures if f["file"] != f"figures/{name}.png"]
        self.figures.append({"file": f"figures/{name}.png", "pdf": f"figures/{name}.pdf", "caption": caption})
        return path

    def claim(self, id: str, statement: str, *, paper_value: str, paper_source: str, ours: str,
              tolerance: str, holds: bool | None, needs: str | None = None, diagnosis: str | None = None) -> Claim:
        """Record one claim's verdict. `needs`, when given, says what this run's scale lacks to judge
        the claim (for example the full profile's number of samples): the claim is then not judged
        (holds None, whatever `holds` says), and its value reads 'not judged at <profile> scale:
        needs ...', followed by what was measured. A quick profile that cannot show an effect says
        so, rather than teach a verdict that the full record contradicts. `diagnosis`, when given, is
        the measured reason the notebook gives beside the verdict (printed on a line of its own, and
        carried into the report): whether a miss is a finding about the method or a
        shortfall of the protocol, and what measurement says so."""
        if needs is not None:
            holds, ours = None, f"not judged at {self.profile} scale: needs {needs}; measured {ours}"
        claim = Claim(id, statement, paper_value, paper_source, ours, tolerance,
                      None if holds is None else bool(holds), diagnosis)
        self.claims = [c for c in self.claims if c.id != id] + [claim]
        return claim

    def print_claims(self) -> None:
        """One rounded line per claim: what the notebook's checked cell shows."""
        for claim in self.claims:
            print(claim.verdict())

    def as_dict(self) -> dict:
        return {"study": self.study, "title": self.title, "profile": self.profile,
                "params": self.params, "metrics": self.metrics, "tables": self.tables,
                "claims": [asdict(c) for c in self.claims], "figures": self.figures,
                "provenance": self.provenance.record()}

    def write(self) -> Path:
        path = self.dir / "metrics.json"
        write_json_atomic(path, self.as_dict())
        return path


def write_json_atomic(path: str | os.PathLike, obj) -> None:
    """Write `obj` as JSON atomically (see write_text_atomic); NaN and infinity become null."""
    write_text_atomic(path, json.dumps(_finite(obj), indent=2, default=_to_json, allow_nan=False) + "\n")


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write text to a temporary file beside `path`, then rename it into place: a reader
    sees the old file or the new one, never half of one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o644)  # mkstemp makes it private; results are meant to be read
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
    return path


def _finite(value):
    """JSON has no NaN or infinity: store them as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value


def _to_json(value):
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    if isinstance(value, (np.ndarray, np.generic)):
        return _finite(value.tolist())
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot store {type(value).__name__} in metrics.json: {value!r}")
