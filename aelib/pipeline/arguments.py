"""What a command asks to run, checked before anything runs: the studies by number or name, the profile's parameters, overrides (-p NAME VALUE) against the notebook's parameters cell, and the seeds."""

from __future__ import annotations

import ast
from pathlib import Path

import yaml

# Set by the command line itself, never through -p (checkpoint_dir only for notebooks that declare it).
RESERVED_PARAMETERS = ("profile", "output_dir", "checkpoint_dir")


class UsageError(ValueError):
    """A command-line argument is wrong; the message says what to do instead."""


def studies(root: Path) -> dict[str, Path]:
    """Every study: notebook stem -> notebook path, in reading order."""
    return {path.stem: path for path in sorted((root / "notebooks").glob("*.ipynb"))}


def resolve_studies(names: list[str], root: Path) -> list[str]:
    """Study names from the command line: a full stem (01_denoising_filters), its number
    (01) or the rest of its name (denoising_filters). None given means all."""
    known = studies(root)
    if not names:
        return list(known)
    chosen = []
    for name in names:
        matches = [stem for stem in known if name in (stem, stem.split("_", 1)[0], stem.split("_", 1)[-1])]
        if len(matches) != 1:
            raise UsageError(f"unknown study {name!r}; the studies are: {', '.join(known) or '(none)'}")
        chosen.append(matches[0])
    return chosen


def profile_parameters(study: str, profile: str, root: Path) -> dict:
    """The quick profile is the notebook's own defaults; the others are read from
    notebooks/<study>.<profile>.yaml: full, the committed record's settings, and paper, where a
    study has one, the paper's own budget (for a GPU or a cluster)."""
    if profile == "quick":
        return {}
    path = root / "notebooks" / f"{study}.{profile}.yaml"
    if not path.exists():
        raise UsageError(f"study {study} has no {profile} profile: {path} is missing")
    return yaml.safe_load(path.read_text()) or {}


def parse_overrides(pairs: list[list[str]]) -> dict:
    """-p NAME VALUE pairs; VALUE is read as YAML, so 3, 0.5, true and [0, 0.25] work."""
    overrides = {}
    for name, text in pairs:
        if name in RESERVED_PARAMETERS:
            raise UsageError(f"parameter {name} is set by --profile; do not pass it with -p")
        try:
            overrides[name] = yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise UsageError(f"cannot read the value of {name}: {text!r} ({error.problem})") from None
    return overrides


def papermill_parameters(notebook: Path) -> dict:
    """The notebook's parameters as papermill reads them: name -> default, type and help."""
    import papermill

    return papermill.inspect_notebook(str(notebook))


def check_parameters(notebook: Path, parameters: dict) -> None:
    """Each parameter must exist in the notebook's parameters cell, with a value of the
    default's type (an int is accepted for a float)."""
    declared = papermill_parameters(notebook)
    for name, value in parameters.items():
        if name not in declared:
            raise UsageError(f"{notebook.stem} has no parameter {name!r}; its parameters are: "
                             f"{', '.join(declared)}")
        try:
            default = ast.literal_eval(declared[name]["default"])
        except (ValueError, SyntaxError):  # an expression such as 2 ** 10: its type is not checked
            default = None
        compatible = (default is None or type(value) is type(default)
                      or (isinstance(default, float) and type(value) is int))
        if not compatible:
            raise UsageError(f"{notebook.stem}: parameter {name} takes a value of type "
                             f"{type(default).__name__} (default {default!r}), got {value!r}")


def check_run(names: list[str], profile: str, overrides: dict, seeds: list[int] | None,
              root: Path) -> dict[str, dict]:
    """Every argument checked before anything runs: study -> its parameters (profile and overrides)."""
    chosen = resolve_studies(names, root)
    if seeds is not None and (not seeds or any(s < 0 for s in seeds) or len(set(seeds)) != len(seeds)):
        raise UsageError(f"--seeds takes distinct non-negative integers, got {seeds}")
    if overrides.get("seed") is not None and seeds is not None:
        raise UsageError("give the seed with --seeds, not with -p seed")
    runs = {}
    for study in chosen:
        parameters = {**profile_parameters(study, profile, root), **overrides}
        check_parameters(studies(root)[study], parameters)
        if "seed" not in papermill_parameters(studies(root)[study]):
            raise UsageError(f"{study} has no seed parameter: the workflow needs one in its parameters cell")
        runs[study] = parameters
    return runs
