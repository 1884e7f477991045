"""Command line: run the studies' notebooks with papermill, build the report, fetch data.

    python -m aelib list
    python -m aelib reproduce [STUDY ...] --profile quick|full|paper [-p NAME VALUE ...] [--seeds 0 1 2]
                              [--cores N] [--executor slurm] [--force] [--dry-run]
    python -m aelib report [--profile quick|full|paper] [--results-dir DIR --report-dir DIR]
    python -m aelib snapshot --profile quick --to results/quick-seeds     a profile's runs, to commit
    python -m aelib notebooks [STUDY ...]          re-execute notebooks in place, strip run metadata
    python -m aelib data fetch mnist cifar10 [--data-dir DIR]

Every argument is checked before any notebook runs.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import shutil
import sys
import time
from pathlib import Path

import yaml

from aelib.pipeline.notebooks import execute_in_place, strip_run_metadata
from aelib.pipeline.results import PROFILES, project_root, report_dir, study_dir, write_json_atomic

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


def reproduce(names: list[str], profile: str, overrides: dict, *, seeds: list[int] | None = None,
              cores: int = 1, executor: str | None = None, workflow_profile: str | None = None,
              force: bool = False, dry_run: bool = False, build: bool = True) -> int:
    """Run the chosen studies as a workflow (aelib.pipeline.workflow): only what changed, every
    study even if another fails, each seed; then the report. Returns the exit status."""
    from aelib.pipeline import workflow

    if cores < 1:
        raise UsageError(f"--cores takes a positive integer, got {cores}")
    root = project_root()
    runs = check_run(names, profile, overrides, seeds, root)
    if seeds is None and "seed" in overrides:  # -p seed N is --seeds N: the job sets each run's seed
        seeds = [overrides["seed"]]
        if not isinstance(seeds[0], int) or seeds[0] < 0:
            raise UsageError(f"parameter seed takes a non-negative integer, got {seeds[0]!r}")
        runs = {study: {k: v for k, v in parameters.items() if k != "seed"} for study, parameters in runs.items()}
    jobs = len(runs) * (len(seeds) if seeds else 1)
    config_path = root / workflow.STATE / "workflow" / f"config-{profile}.json"
    config = workflow.write_config(config_path, studies=list(runs), profile=profile, seeds=seeds, parameters=runs,
                                   threads_per_job=max(1, cores // min(jobs, cores)), root=root)
    status = workflow.run_snakemake(config_path, root, cores=cores, dry_run=dry_run, force=force,
                                    executor=executor, workflow_profile=workflow_profile,
                                    targets=None if build else [str(workflow.stamp_path(profile, study, seed))
                                                                for study in runs for seed in config["seeds"][study]])
    if dry_run:
        return 0 if status == 0 else 1
    failed = [job for job in workflow.outcomes(config, root) if job.failure]
    if failed:
        print(f"\n{len(failed)} of {jobs} run(s) failed; their records are unchanged:", file=sys.stderr)
        for job in failed:
            print(f"  {job.study} (seed {job.seed}): {job.failure['reason']}\n      log: {job.failure['log']}",
                  file=sys.stderr)
        if build and len(failed) < jobs:
            report(profile)  # the report job waits for every study: build it from the runs that finished
        return 1
    return 0 if status == 0 else 1


def checkpoint_folder(study: str, profile: str, parameters: dict, final: Path, root: Path) -> Path:
    """Where a run of `study` recorded in `final` keeps its training checkpoints: beside the record,
    in <final>.checkpoints/<digest>, so that the same command run again finds them and resumes. The
    digest covers the profile, the parameters, the code cells of the notebook and the aelib modules
    it imports: a run with other parameters or other code starts afresh, in a folder of its own."""
    from aelib.pipeline.workflow import library_inputs

    notebook = studies(root)[study]
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    digest = hashlib.sha256(json.dumps({"profile": profile, "parameters": parameters}, sort_keys=True,
                                       default=str).encode())
    digest.update("\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code").encode())
    for module in library_inputs(notebook, root):
        digest.update(module.read_bytes())
    return final.with_name(final.name + ".checkpoints") / digest.hexdigest()[:16]


def run_notebook(study: str, profile: str, parameters: dict, final: Path, root: Path) -> None:
    """Execute one study's notebook into a staging folder beside `final`, and swap it into place
    only when it finishes: an interrupted or failed run leaves the record as it was.

    A notebook that declares a `checkpoint_dir` parameter is given `checkpoint_folder(...)`, outside
    the staging folder (which every run starts empty): its training saves checkpoints there, and the
    same command run again after an interruption resumes from them. They are deleted once the run is
    recorded."""
    import papermill

    from aelib.pipeline.study import parameter_names

    notebook = studies(root)[study]
    staging = final.with_name(final.name + ".running")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    injected = {**parameters, "profile": profile, "output_dir": str(staging)}
    checkpoints = None
    if "checkpoint_dir" in parameter_names(notebook):
        checkpoints = checkpoint_folder(study, profile, parameters, final, root)
        injected["checkpoint_dir"] = str(checkpoints)
    print(f"== {study} ({profile} profile) -> {final.relative_to(root)}", flush=True)
    if checkpoints is not None and checkpoints.exists() and any(checkpoints.iterdir()):
        print(f"   resuming from the checkpoints in {checkpoints.relative_to(root)}", flush=True)
    started = time.monotonic()
    try:
        papermill.execute_notebook(str(notebook), str(staging / f"{study}.ipynb"), cwd=str(notebook.parent),
                                   parameters=injected, kernel_name="python3", progress_bar=False)
    except BaseException:
        resume = (f"; rerun the same command to resume from its checkpoints in {checkpoints}"
                  if checkpoints is not None and checkpoints.exists() else "")
        print(f"   {study} failed; its partial output is in {staging}; {final} is unchanged{resume}", file=sys.stderr)
        raise
    executed = staging / f"{study}.ipynb"
    if executed.exists():
        strip_run_metadata(executed)
    _replace_folder(staging, final)
    if checkpoints is not None:
        shutil.rmtree(checkpoints.parent, ignore_errors=True)  # the record is in place: no run resumes these
    print(f"   done in {time.monotonic() - started:.0f} s", flush=True)


def run_study(study: str, profile: str, seed: int, threads: int, parameters: dict, stamp: Path) -> int:
    """One workflow job (called by workflow/Snakefile): the notebook at `seed`, recorded in the
    seed's folder; writes `stamp` when done, or the reason beside it when it fails."""
    from aelib.pipeline import workflow

    root = project_root()
    notebook = studies(root)[study]
    parameters = {**parameters, "seed": seed}
    if "threads" in workflow.parameter_names(notebook) and "threads" not in parameters:
        parameters["threads"] = threads
    os.environ.update({name: str(threads) for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")})
    final = workflow.seed_record_dir(study, profile, seed, workflow.default_seed(notebook), root)
    failure = workflow.failure_path(stamp)
    failure.unlink(missing_ok=True)
    try:
        run_notebook(study, profile, parameters, final, root)
    except Exception as error:
        log = workflow.log_path(profile, study, seed)
        write_json_atomic(failure, {"reason": workflow.failure_reason(error), "log": str(log)})
        print(workflow.failure_reason(error), file=sys.stderr)
        return 1
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.touch()
    return 0


def refresh_notebooks(names: list[str]) -> None:
    """Re-execute the chosen notebooks (default: all) in place with their quick defaults, storing
    the outputs that nbval compares, without per-run metadata."""
    root = project_root()
    for study in resolve_studies(names, root):
        print(f"== {study}: executing notebooks/{study}.ipynb in place", flush=True)
        execute_in_place(studies(root)[study])


def report(profile: str, results_folder: Path | None = None, report_folder: Path | None = None) -> None:
    """Build the report of `profile` (its results folder into its report folder), or of any results folder."""
    from aelib.pipeline.report import build_report

    root = project_root()
    written = build_report(results_folder or study_dir("x", profile, root).parent, report_folder or report_dir(profile, root))
    print("report written:", *(_shown(Path(p), root) for p in written), sep="\n  ")


def _shown(path: Path, root: Path) -> str:
    """A path relative to the checkout where it lies inside it."""
    path = path.resolve()
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


def snapshot(profile: str, target: Path) -> None:
    """Copy the results of `profile` (e.g. results/quick/, which every quick run rewrites) to `target`, a
    folder to commit: each study's default-seed folder whole, and its runs at other seeds
    (`<study>.seed-<n>/`) as their metrics.json only (all the report reads of them). The copy is made
    beside `target` and swapped in when complete, so an interrupted snapshot leaves the old one."""
    from aelib.pipeline.report import SEED_FOLDER_MARK

    source = study_dir("x", profile, project_root()).parent
    records = sorted(source.glob("*/metrics.json"))
    if not records:
        raise UsageError(f"no results to snapshot in {source}: run `python -m aelib reproduce --profile "
                         f"{profile} --seeds ...` first")
    target = Path(target).resolve()
    if target == source.resolve() or source.resolve() in target.parents:
        raise UsageError(f"the snapshot must lie outside {source}, which the next {profile} run rewrites")
    staging = target.with_name(target.name + ".running")
    shutil.rmtree(staging, ignore_errors=True)
    for metrics in records:
        folder = metrics.parent
        if SEED_FOLDER_MARK in folder.name:
            (staging / folder.name).mkdir(parents=True)
            shutil.copy2(metrics, staging / folder.name / metrics.name)
        else:
            shutil.copytree(folder, staging / folder.name)
    _replace_folder(staging, target)
    print(f"{len(records)} runs copied from {source} to {target}")


def paper(profile: str, compile_pdf: bool) -> int:
    from aelib.pipeline.paper import PaperError, build_paper

    root = project_root()
    try:
        built = build_paper(study_dir("x", profile, root).parent, root / "paper", compile_pdf=compile_pdf)
    except PaperError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"paper: {built.relative_to(root)} (numbers, tables and figures from "
          f"{study_dir('x', profile, root).parent.relative_to(root)}/)")
    return 0


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
                     help="quick: minutes, writes results/quick/; full: the committed record, writes results/; "
                          "paper: the paper's own budget where a study has one (for a GPU or a cluster), "
                          "writes results/paper/")
    run.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                     help="override a notebook parameter (VALUE is YAML: 3, 0.5, [0, 0.25])")
    run.add_argument("--no-report", action="store_true", help="do not rebuild the report afterwards")
    run.add_argument("--seeds", nargs="+", type=int, metavar="SEED",
                     help="run each study at each seed (default: the notebook's own seed); seed n of a study "
                          "is recorded in results/<study>.seed-n/ beside the default seed's folder")
    run.add_argument("--cores", type=int, default=1, help="run independent studies side by side on N cores, "
                     "each with its share of threads (default 1)")
    run.add_argument("--executor", help="a Snakemake executor plugin that you installed, e.g. slurm")
    run.add_argument("--workflow-profile", help="a Snakemake profile folder (resources, queue, ...), e.g. "
                     "workflow/profiles/slurm")
    run.add_argument("--force", action="store_true", help="rerun the chosen studies even if nothing changed")
    run.add_argument("--dry-run", action="store_true", help="list what would run and why, run nothing")
    job = commands.add_parser("run-study", help="one job of the workflow (used by workflow/Snakefile)")
    job.add_argument("study")
    job.add_argument("--profile", choices=PROFILES, required=True)
    job.add_argument("--seed", type=int, required=True)
    job.add_argument("--threads", type=int, default=1)
    job.add_argument("--parameters", default="{}", help="the study's parameters as JSON")
    job.add_argument("--stamp", type=Path, required=True, help="written when the run is recorded")
    refresh = commands.add_parser("notebooks", help="re-execute notebooks in place (quick defaults) and strip "
                                  "their run metadata, so that nbval compares fresh outputs")
    refresh.add_argument("studies", nargs="*", help="study names or numbers (default: all)")
    rep = commands.add_parser("report", help="build report/ from results/")
    rep.add_argument("--profile", choices=PROFILES, default="full")
    rep.add_argument("--results-dir", type=Path, help="build it from this results folder instead of the profile's "
                     "(e.g. results/quick-seeds)")
    rep.add_argument("--report-dir", type=Path, help="write it to this folder instead of the profile's")
    snap = commands.add_parser("snapshot", help="copy a profile's results (e.g. a seed sweep of the quick profile) "
                               "to a folder to commit")
    snap.add_argument("--profile", choices=PROFILES, default="quick")
    snap.add_argument("--to", type=Path, required=True, help="the folder to write, e.g. results/quick-seeds")
    draft = commands.add_parser("paper", help="build paper/main.pdf: its numbers, tables and figures from results/")
    draft.add_argument("--profile", choices=PROFILES, default="full", help="whose results (default: the record)")
    draft.add_argument("--no-compile", action="store_true",
                       help="generate and check paper/generated/ only, without LaTeX")
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
            return reproduce(arguments.studies, arguments.profile, parse_overrides(arguments.parameter),
                             seeds=arguments.seeds, cores=arguments.cores, executor=arguments.executor,
                             workflow_profile=arguments.workflow_profile, force=arguments.force,
                             dry_run=arguments.dry_run, build=not arguments.no_report)
        elif arguments.command == "run-study":
            return run_study(arguments.study, arguments.profile, arguments.seed, arguments.threads,
                             json.loads(arguments.parameters), arguments.stamp)
        elif arguments.command == "notebooks":
            refresh_notebooks(arguments.studies)
        elif arguments.command == "report":
            report(arguments.profile, arguments.results_dir, arguments.report_dir)
        elif arguments.command == "snapshot":
            snapshot(arguments.profile, arguments.to)
        elif arguments.command == "paper":
            return paper(arguments.profile, not arguments.no_compile)
        elif arguments.command == "data":
            fetch_data(arguments.datasets, arguments.data_dir)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0
