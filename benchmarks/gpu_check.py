"""aelib on a GPU, checked in one run: every study's quick profile, training throughput, the batched sweep.

    export AELIB_DATA_DIR=/path/to/data
    python benchmarks/gpu_check.py benchmarks/gpu --device cuda       # meant to take under 8 minutes on one GPU
    python benchmarks/gpu_check.py /tmp/check --device cpu --smoke    # the CPU smoke run (tests), seconds

Three parts, in this order, each recorded with its wall seconds (a part that fails is recorded
with its error and the next one runs); not yet run on a GPU:
  throughput    examples/s of aelib.training.loop.train for the DAE, the paper's VAE and the
                rank-ordered model, in float32 and with bf16 autocast (the loss then
                evaluated in float32 on held-out rows)
  batched_sweep the K=4 DAE sweep trained as one batched model against four sequential runs
  studies       each study's quick profile run with `device` set (papermill, one process per
                study), every claim's verdict compared with the CPU run's (the committed
                notebook's stored claims output); studies stop being started, and a running
                one is stopped, when the time budget (450 s from the start) is spent
Writes OUT_DIR/gpu_check.json atomically after every part (the report reads
benchmarks/gpu/gpu_check.json); the studies' run folders go to OUT_DIR/runs/.

--smoke: tiny step counts on random inputs of the studies' shapes (no data needed) and,
unless --studies is given, one tiny notebook in place of the studies, whose verdict goes
through the same comparison; the committed notebooks' stored verdicts are parsed too.
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling modules, however this is started

from batched_sweep import sweep_speedups  # noqa: E402
from library_throughput import precision_throughput  # noqa: E402
from study_verdicts import CHECKED_CELL_MARKER, run_study, stored_verdicts  # noqa: E402

from aelib.pipeline.reproducibility import git_state, package_versions  # noqa: E402
from aelib.pipeline.results import project_root, write_json_atomic  # noqa: E402

ROOT = project_root(Path(__file__).resolve().parent)
# (run on a device, --smoke) settings
SETTINGS = {
    "throughput_examples": (20_000, 200),  # rows of each timed epoch
    "throughput_repeats": (2, 1),          # timed epochs per workload and precision (the fastest counts), after a warm-up
    "held_out_examples": (5_000, 100),     # rows of the float32 evaluation after training
    "sweep_steps": (500, 4),               # SGD steps of the batched-sweep timings
    "sweep_repeats": (3, 1),
    "budget_seconds": (450, 60),           # from the start: no study starts later, a running one is stopped then
}
CUDA_MISSING = ("--device cuda was asked for, but this torch ({version}, CUDA build: {cuda}) sees no CUDA device. "
                "On a GPU machine, install a CUDA build of torch first and then this project "
                "(README.md, section 'On a GPU'); without a GPU, run the CPU smoke check: "
                "python benchmarks/gpu_check.py OUT_DIR --device cpu --smoke")


def check_device(name: str) -> torch.device:
    """The torch device asked for; a clear error, before any work, when CUDA is asked for and absent."""
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(CUDA_MISSING.format(version=torch.__version__, cuda=torch.version.cuda or "none"))
    return torch.device(name)


def describe(device: torch.device) -> dict:
    """The device and the software that drives it."""
    described = {"type": device.type, "torch": torch.__version__, "cuda": torch.version.cuda,
                 "threads": torch.get_num_threads(), "platform": platform.platform(),
                 "float32_matmul_precision": torch.get_float32_matmul_precision()}
    if device.type == "cuda":
        properties = torch.cuda.get_device_properties(device)
        described.update(name=properties.name, memory_gib=properties.total_memory / 2**30,
                         capability=f"{properties.major}.{properties.minor}",
                         cudnn=torch.backends.cudnn.version(), bf16_supported=torch.cuda.is_bf16_supported())
    else:
        described["name"] = f"cpu ({platform.processor() or platform.machine()})"
    return described


def smoke_notebook(path: Path, stored_holds: bool | None = True) -> Path:
    """A tiny study notebook at `path`: a parameters cell (device, profile, output_dir), a cell that
    judges one claim on the device and writes metrics.json, and a claims cell whose stored output
    (the "CPU verdict") says `stored_holds` for it. The run itself finds that it holds."""
    mark = {True: "holds", False: "DOES NOT HOLD", None: "not evaluated"}[stored_holds]
    sources = [
        ('device = "auto"   # "auto", "cpu" or "cuda"\nprofile = "quick"\noutput_dir = None', ["parameters"], ""),
        ("import json\nfrom pathlib import Path\n\nimport torch\n\n"
         'torch_device = torch.device(("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device)\n'
         "total = torch.ones(3, device=torch_device).sum().item()\n"
         'claims = [{"id": "ones_sum_to_three", "holds": total == 3.0}, {"id": "left_unjudged", "holds": None}]\n'
         'Path(output_dir, "metrics.json").write_text(json.dumps({"claims": claims}))', [], ""),
        (f"{CHECKED_CELL_MARKER}\nfor claim in claims:\n"
         '    mark = {True: "holds", False: "DOES NOT HOLD", None: "not evaluated"}[claim["holds"]]\n'
         "    print(f\"[{mark}] {claim['id']}: a smoke claim\")", [],
         f"[{mark}] ones_sum_to_three: a smoke claim\n[not evaluated] left_unjudged: a smoke claim\n"),
    ]
    cells = [{"cell_type": "code", "id": cell_id, "execution_count": None, "metadata": {"tags": tags},
              "source": source, "outputs": [{"output_type": "stream", "name": "stdout", "text": stdout}] if stdout else []}
             for cell_id, (source, tags, stdout) in zip(("parameters", "judge", "claims"), sources)]
    notebook = {"cells": cells, "nbformat": 4, "nbformat_minor": 5,
                "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(notebook, indent=1))
    return path


def training_data(smoke: bool, settings: dict, data_dir: str | None) -> dict[str, torch.Tensor]:
    """Training and held-out rows: MNIST digits and 7x7 CIFAR-10 patches; random ones for --smoke."""
    n, held_out = settings["throughput_examples"], settings["held_out_examples"]
    if smoke:
        generator = torch.Generator().manual_seed(0)
        return {"images": torch.rand(n, 784, generator=generator), "patches": torch.rand(n, 147, generator=generator),
                "held_out_images": torch.rand(held_out, 784, generator=generator),
                "held_out_patches": torch.rand(held_out, 147, generator=generator)}
    from aelib.data.datasets import load_dataset
    from aelib.data.patches import random_patches

    mnist = load_dataset("mnist", data_dir, download=False)
    cifar = load_dataset("cifar10-train-split", data_dir, download=False)
    patches = random_patches(cifar.train_images, cifar.image_shape, 7, torch.Generator().manual_seed(0))
    held_out_patches = random_patches(cifar.test_images[:held_out], cifar.image_shape, 7,
                                      torch.Generator().manual_seed(1))
    return {"images": mnist.train_images, "patches": patches,
            "held_out_images": mnist.test_images[:held_out], "held_out_patches": held_out_patches}


def throughput_part(device: torch.device, data: dict[str, torch.Tensor], settings: dict) -> dict:
    rows = precision_throughput(data["images"], data["patches"], data["held_out_images"], data["held_out_patches"],
                                settings["throughput_examples"], settings["throughput_repeats"], device)
    for row in rows:
        float32 = next(r for r in rows if r["model"] == row["model"] and r["precision"] == "float32")
        row["speedup_over_float32"] = row["examples_per_second"] / float32["examples_per_second"]
    return {"rows": rows}


def study_notebooks(names: list[str] | None, smoke: bool, runs: Path) -> list[Path]:
    """The notebooks to run: the named studies; all of them; or, for --smoke, the tiny one."""
    if smoke and not names:
        return [smoke_notebook(runs / "smoke_notebook" / "00_smoke_study.ipynb")]
    from aelib.pipeline.arguments import resolve_studies, studies

    known = studies(ROOT)
    return [known[name] for name in resolve_studies(names or [], ROOT)]


def studies_part(device: torch.device, notebooks: list[Path], runs: Path, deadline: float, jobs: int) -> dict:
    """Each notebook's quick profile on `device`, at most `jobs` at a time, none started past `deadline`;
    and how many CPU verdicts each committed notebook stores (or why none could be read)."""
    parsed = {}
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        try:
            parsed[path.stem] = len(stored_verdicts(path))
        except (OSError, ValueError, KeyError) as error:
            parsed[path.stem] = f"{type(error).__name__}: {error}"

    def one(notebook: Path) -> dict:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return {"study": notebook.stem, "status": "skipped", "error": "the time budget was spent"}
        run_dir = runs / notebook.stem
        shutil.rmtree(run_dir, ignore_errors=True)
        print(f"   {notebook.stem} ...", flush=True)
        try:
            result = run_study(notebook, run_dir, device.type, remaining)
        except Exception as error:  # one study's surprise must not lose the others' results
            result = {"study": notebook.stem, "status": "failed", "error": f"{type(error).__name__}: {error}",
                      "seconds": 0.0}
        print(f"   {notebook.stem}: {result['status']}"
              + (", verdicts as on the CPU" if result.get("same") else
                 f", differing: {[d['id'] for d in result['differing']]}" if "same" in result else "")
              + f" ({result['seconds']:.0f} s)", flush=True)
        return result

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        rows = list(pool.map(one, notebooks))
    return {"jobs": jobs, "rows": rows, "all_same": all(row.get("same") is True for row in rows),
            "stored_verdicts_parsed": parsed}


def run_part(name: str, result: dict, output: Path, work) -> None:
    """Run one part into result[name] with its wall seconds (or its error), then write the JSON."""
    print(f"{name} ...", flush=True)
    started = time.perf_counter()
    try:
        result[name] = work()
    except Exception as error:  # recorded; the next part still runs
        result[name] = {"error": f"{type(error).__name__}: {error}"}
        print(f"   {name} failed: {result[name]['error']}", file=sys.stderr, flush=True)
    result[name]["seconds"] = time.perf_counter() - started
    write_json_atomic(output, result)


def parser() -> argparse.ArgumentParser:
    arguments = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    arguments.add_argument("out_dir", type=Path, help="folder of gpu_check.json and the studies' run folders")
    arguments.add_argument("--device", choices=("cuda", "cpu"), default="cuda")
    arguments.add_argument("--smoke", action="store_true",
                           help="tiny settings on random inputs and a tiny notebook: a check of the script itself")
    arguments.add_argument("--studies", nargs="+", default=None,
                           help="studies to run (names or numbers; default: all, or the tiny notebook with --smoke)")
    arguments.add_argument("--jobs", type=int, default=None,
                           help="studies run at once (default: 2 on cuda, 1 on cpu)")
    arguments.add_argument("--budget-seconds", type=float, default=None,
                           help="seconds from the start after which no study starts and a running one is stopped "
                                f"(default: {SETTINGS['budget_seconds'][0]}, {SETTINGS['budget_seconds'][1]} with --smoke)")
    arguments.add_argument("--data-dir", default=None, help="folder of the official files (default: $AELIB_DATA_DIR)")
    return arguments


def main(argv: list[str] | None = None) -> int:
    arguments = parser().parse_args(argv)
    output, runs = arguments.out_dir / "gpu_check.json", arguments.out_dir / "runs"
    try:  # every argument is checked before any work
        device = check_device(arguments.device)
        notebooks = study_notebooks(arguments.studies, arguments.smoke, runs)
    except (RuntimeError, ValueError) as error:  # no CUDA; an unknown study (arguments.UsageError)
        print(f"error: {error}", file=sys.stderr)
        return 2
    started, clock = datetime.datetime.now(datetime.timezone.utc), time.monotonic()
    settings = {name: values[1 if arguments.smoke else 0] for name, values in SETTINGS.items()}
    if arguments.smoke:
        torch.set_num_threads(1)  # tiny products: one thread is as fast, and steadier on a shared machine
    if arguments.budget_seconds is not None:
        settings["budget_seconds"] = arguments.budget_seconds
    jobs = arguments.jobs or (2 if device.type == "cuda" else 1)
    loaded: dict[str, torch.Tensor] = {}

    def data() -> dict[str, torch.Tensor]:  # loaded once, by the first part that needs it
        loaded.update(loaded or training_data(arguments.smoke, settings, arguments.data_dir))
        return loaded

    result = {"script": "benchmarks/gpu_check.py", "smoke": arguments.smoke, "complete": False,
              "started": started.isoformat(timespec="seconds"), "device": describe(device),
              "commit": git_state(ROOT), "versions": package_versions(), "settings": settings}
    run_part("throughput", result, output, lambda: throughput_part(device, data(), settings))
    run_part("batched_sweep", result, output, lambda: sweep_speedups(
        data()["images"], settings["sweep_steps"], settings["sweep_repeats"], device))
    run_part("studies", result, output,
             lambda: studies_part(device, notebooks, runs, clock + settings["budget_seconds"], jobs))
    result.update(complete=True, seconds=time.monotonic() - clock)
    write_json_atomic(output, result)
    print(f"{result['seconds']:.0f} s; written to {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
