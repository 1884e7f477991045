"""Command line: run the studies' notebooks with papermill, build the report, fetch data.

    python -m aelib list
    python -m aelib reproduce [STUDY ...] --profile quick|full [-p NAME VALUE ...]
    python -m aelib report [--profile quick|full]
    python -m aelib notebooks [STUDY ...]          re-execute notebooks in place, strip run metadata
    python -m aelib data fetch mnist cifar10 [--data-dir DIR]

Every argument is checked before any notebook runs.
"""

from __future__ import annotations

import argparse
import ast
import os
import shutil
import sys
import time
from pathlib import Path

import yaml

from aelib.pipeline.notebooks import execute_in_place, strip_run_metadata
from aelib.pipeline.results import PROFILES, project_root, report_dir, study_dir

# Set by the command line itself, never through -p.
RESERVED_PARAMETERS = ("profile", "output_dir")


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
    """The quick profile is the notebook's own defaults; the full one is read from
    notebooks/<study>.full.yaml, the paper-scale settings."""
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


def check_parameters(notebook: Path, parameters: dict) -> None:
    """Each parameter must exist in the notebook's parameters cell, with a value of the
    default's type (an int is accepted for a float)."""
    import papermill

    declared = papermill.inspect_notebook(str(notebook))
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


def reproduce(names: list[str], profile: str, overrides: dict, build: bool = True) -> None:
    import papermill

    root = project_root()
    chosen = resolve_studies(names, root)
    runs = []
    for study in chosen:  # check everything before running anything
        notebook = studies(root)[study]
        parameters = {**profile_parameters(study, profile, root), **overrides}
        check_parameters(notebook, parameters)
        runs.append((study, notebook, parameters))
    for study, notebook, parameters in runs:
        final = study_dir(study, profile, root)
        staging = final.with_name(final.name + ".running")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        print(f"== {study} ({profile} profile) -> {final.relative_to(root)}", flush=True)
        started = time.monotonic()
        try:
            papermill.execute_notebook(
                str(notebook), str(staging / f"{study}.ipynb"), cwd=str(notebook.parent),
                parameters={**parameters, "profile": profile, "output_dir": str(staging)},
                kernel_name="python3", progress_bar=False)
        except BaseException:
            print(f"   {study} failed; its partial output is in {staging}; {final} is unchanged",
                  file=sys.stderr)
            raise
        executed = staging / f"{study}.ipynb"
        if executed.exists():
            strip_run_metadata(executed)
        _replace_folder(staging, final)
        print(f"   done in {time.monotonic() - started:.0f} s", flush=True)
    if build:
        report(profile)


def refresh_notebooks(names: list[str]) -> None:
    """Re-execute the chosen notebooks (default: all) in place with their quick defaults, storing
    the outputs that nbval compares, without per-run metadata."""
    root = project_root()
    for study in resolve_studies(names, root):
        print(f"== {study}: executing notebooks/{study}.ipynb in place", flush=True)
        execute_in_place(studies(root)[study])


def report(profile: str) -> None:
    from aelib.pipeline.report import build_report

    root = project_root()
    written = build_report(study_dir("x", profile, root).parent, report_dir(profile, root))
    print("report written:", *(str(Path(p).relative_to(root)) for p in written), sep="\n  ")


def fetch_data(names: list[str], data_dir: str | None) -> None:
    from aelib.data import DATASETS, fetch

    unknown = [name for name in names if name not in DATASETS]
    if unknown:
        raise UsageError(f"unknown data set(s) {', '.join(unknown)}; choose from {', '.join(DATASETS)}")
    for name in names:
        for path in fetch(name, data_dir):
            print(f"{name}: {path} (checksum verified)")


def list_studies() -> None:
    import papermill

    root = project_root()
    for study, notebook in studies(root).items():
        full = (root / "notebooks" / f"{study}.full.yaml").exists()
        print(f"{study}{'' if full else '  (no full profile yet)'}")
        for name, spec in papermill.inspect_notebook(str(notebook)).items():
            print(f"    {name} = {spec['default']}    {spec['help']}")


def _replace_folder(new: Path, final: Path) -> None:
    """Swap a finished run into place; the old record is removed only after."""
    old = final.with_name(final.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        os.replace(final, old)
    os.replace(new, final)
    shutil.rmtree(old, ignore_errors=True)


def parser() -> argparse.ArgumentParser:
    main_parser = argparse.ArgumentParser(prog="python -m aelib", description=__doc__.split("\n")[0])
    commands = main_parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="list the studies and their parameters")
    run = commands.add_parser("reproduce", help="run studies' notebooks, then build the report")
    run.add_argument("studies", nargs="*", help="study names or numbers (default: all)")
    run.add_argument("--profile", choices=PROFILES, default="quick",
                     help="quick: minutes, writes results/quick/; full: paper scale, writes results/")
    run.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                     help="override a notebook parameter (VALUE is YAML: 3, 0.5, [0, 0.25])")
    run.add_argument("--no-report", action="store_true", help="do not rebuild the report afterwards")
    refresh = commands.add_parser("notebooks", help="re-execute notebooks in place (quick defaults) and strip "
                                  "their run metadata, so that nbval compares fresh outputs")
    refresh.add_argument("studies", nargs="*", help="study names or numbers (default: all)")
    rep = commands.add_parser("report", help="build report/ from results/")
    rep.add_argument("--profile", choices=PROFILES, default="full")
    data = commands.add_parser("data", help="data sets")
    data_commands = data.add_subparsers(dest="data_command", required=True)
    get = data_commands.add_parser("fetch", help="download the official files and verify them")
    get.add_argument("datasets", nargs="+")
    get.add_argument("--data-dir", help="folder to store them in (default: $AELIB_DATA_DIR or the cache)")
    return main_parser


def main(argv: list[str] | None = None) -> int:
    arguments = parser().parse_args(argv)
    try:
        if arguments.command == "list":
            list_studies()
        elif arguments.command == "reproduce":
            reproduce(arguments.studies, arguments.profile, parse_overrides(arguments.parameter),
                      build=not arguments.no_report)
        elif arguments.command == "notebooks":
            refresh_notebooks(arguments.studies)
        elif arguments.command == "report":
            report(arguments.profile)
        elif arguments.command == "data":
            fetch_data(arguments.datasets, arguments.data_dir)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0
