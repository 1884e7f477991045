"""Command line: run the studies' notebooks with papermill, build the report, fetch data.

    python -m aelib list
    python -m aelib reproduce [STUDY ...] --profile quick|full|paper [-p NAME VALUE ...] [--seeds 0 1 2]
                              [--cores N] [--executor slurm] [--force] [--dry-run]
    python -m aelib report [--profile quick|full|paper] [--results-dir DIR --report-dir DIR]
    python -m aelib snapshot --profile quick --to results/quick-seeds     a profile's runs, to commit
    python -m aelib paper [--profile quick|full|paper] [--results-dir DIR] [--no-compile]
    python -m aelib notebooks [STUDY ...]          re-execute notebooks in place, strip run metadata
    python -m aelib data fetch mnist cifar10 [--data-dir DIR]

Every argument is checked before any notebook runs.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from aelib.pipeline.arguments import UsageError, check_run, parse_overrides, resolve_studies, studies
from aelib.pipeline.notebooks import execute_in_place
from aelib.pipeline.results import PROFILES, project_root, report_dir, study_dir
from aelib.pipeline.runs import replace_folder, run_study


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
    from aelib.pipeline.records import SEED_FOLDER_MARK

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
    replace_folder(staging, target)
    print(f"{len(records)} runs copied from {source} to {target}")


def paper(profile: str, compile_pdf: bool, results_dir: Path | None = None) -> int:
    """Build the article from a results folder: the committed record's into the tracked paper/, any
    other (another profile's, or `results_dir`) into paper/builds/<its name>/."""
    from aelib.pipeline.paper import PaperError, build_paper, draft_for

    root = project_root()
    results = Path(results_dir) if results_dir else study_dir("x", profile, root).parent
    try:
        if profile == "full" and results_dir is None:
            draft = root / "paper"
        else:
            draft = draft_for(results.resolve().name if results_dir else profile)
        built = build_paper(results, draft, compile_pdf=compile_pdf)
    except PaperError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    shown = built.relative_to(root) if built.is_relative_to(root) else built
    source = results.resolve().relative_to(root) if results.resolve().is_relative_to(root) else results
    print(f"paper: {shown} (numbers, tables and figures from {source}/)")
    return 0


def fetch_data(names: list[str], data_dir: str | None) -> None:
    from aelib.data.datasets import DATASETS, fetch

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
    draft.add_argument("--profile", choices=PROFILES, default="full", help="whose results (default: the record; "
                       "another profile's builds into paper/builds/<profile>/)")
    draft.add_argument("--results-dir", type=Path, help="build it from this results folder (e.g. results/quick-seeds) "
                       "into paper/builds/<its name>/, leaving the tracked paper/ as it is")
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
            return paper(arguments.profile, not arguments.no_compile, arguments.results_dir)
        elif arguments.command == "data":
            fetch_data(arguments.datasets, arguments.data_dir)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0
