"""The report's performance section: the benchmark script's measurements (benchmarks/results.json) and the GPU check's, as tables and notes."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from aelib.pipeline.records import format_cell

GPU_CHECK = Path("benchmarks") / "gpu" / "gpu_check.json"  # beside the results folder


def _read_measurement(path: Path, key: str, kind: type, script: str) -> dict | None:
    """A measurement file as a dict holding `key` (of type `kind`); None when there is no file."""
    if not path.is_file():
        return None
    try:
        measurement = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not valid JSON ({error})") from error
    if not isinstance(measurement, dict) or not isinstance(measurement.get(key), kind):
        raise ValueError(f"{path}: missing required key {key} (rerun {script})")
    measurement["path"] = path
    return measurement


def load_benchmark(results_dir: Path) -> dict | None:
    """`benchmarks/results.json` of the checkout holding results_dir, if the benchmark was run."""
    return _read_measurement(Path(results_dir).parent / "benchmarks" / "results.json", "targets", list,
                             "benchmarks/run.py")


def load_gpu_check(results_dir: Path) -> dict | None:
    """`benchmarks/gpu/gpu_check.json` of the checkout holding results_dir, if the GPU check was run."""
    return _read_measurement(Path(results_dir).parent / GPU_CHECK, "device", dict, "benchmarks/gpu_check.py")


def _performance_frames(benchmark: dict) -> dict[str, pd.DataFrame]:
    """The benchmark's targets (met or not) and its tables, each as a frame of formatted cells."""
    targets = [{"target": t.get("target", ""), "required": t.get("required", ""),
                "measured": t.get("measured", ""), "met": "met" if t.get("met") else "NOT MET"}
               for t in benchmark["targets"]]
    frames = {"Targets": pd.DataFrame(targets, columns=["target", "required", "measured", "met"])}
    frames.update({name: pd.DataFrame(rows, dtype=object).map(
                       lambda value: "not recorded" if value is None else format_cell(value))
                   for name, rows in (benchmark.get("tables") or {}).items()})
    return frames


def _performance_note(benchmark: dict) -> str:
    """Where the numbers come from: the file, when, how many threads, which machine."""
    return (f"From `benchmarks/results.json` ({benchmark.get('profile', 'unknown')} settings, "
            f"started {benchmark.get('started', 'unknown')}, {benchmark.get('threads', '?')} threads, "
            f"{benchmark.get('platform', 'unknown platform')}); rerun with `python benchmarks/run.py`. "
            "Timings depend on the machine and on its load."
            + (f" Note: {benchmark['note']}" if benchmark.get("note") else ""))


def _rows(part) -> list[dict]:
    """A measured part's rows; none when the part is absent or failed."""
    return part.get("rows") or [] if isinstance(part, dict) else []


def _verdict_agreement(row: dict) -> str:
    """A study run on the GPU against the CPU run: the same verdicts, which differ, or why it has none."""
    if row.get("status") != "ok":
        return f"{row.get('status', 'unknown')}: {row.get('error', 'no error recorded')}"
    if row.get("same"):
        return "same as on the CPU"
    marks = {True: "holds", False: "does not hold", None: "not evaluated"}
    return "differs: " + "; ".join(
        f"{d.get('id')} CPU {marks.get(d.get('cpu'), d.get('cpu'))}, GPU {marks.get(d.get('device'), d.get('device'))}"
        for d in row.get("differing", []))


def _gpu_label(gpu: dict) -> str:
    """What the check ran on, as its tables name it: "GPU", or "CPU check" for a run with --device cpu."""
    kind = str(gpu["device"].get("type", "unknown"))
    return "GPU" if kind == "cuda" else f"{kind.upper()} check"


def _gpu_frames(gpu: dict, benchmark: dict | None) -> dict[str, pd.DataFrame]:
    """The GPU check's throughput (float32 and bf16) beside the CPU benchmark's, its sweep beside the
    CPU's, and each study's verdict agreement, each as a frame of formatted cells."""
    on = _gpu_label(gpu)
    cpu_rate = {r.get("model"): r.get("examples_per_second")
                for r in (benchmark or {}).get("throughput") or [] if not r.get("torch_compile")}
    cpu_sweep = {r.get("variant"): r for r in _rows((benchmark or {}).get("batched_sweep"))}
    rows = _rows(gpu.get("throughput"))
    rate = {(r.get("model"), r.get("precision")): r for r in rows}
    throughput = []
    for model in dict.fromkeys(r.get("model") for r in rows):
        float32, bf16 = rate.get((model, "float32"), {}), rate.get((model, "bf16 autocast"), {})
        cpu, gpu_float32 = cpu_rate.get(model), float32.get("examples_per_second")
        throughput.append({
            "model": model, "CPU float32 examples/s": cpu, f"{on} float32 examples/s": gpu_float32,
            f"{on} bf16 autocast examples/s": bf16.get("examples_per_second"),
            "bf16 / float32": bf16.get("speedup_over_float32"),
            f"{on} / CPU (float32)": gpu_float32 / cpu if cpu and gpu_float32 else None,
            f"{on} float32 epoch s": float32.get("epoch_seconds"),
            "held-out loss, float32 eval (float32 / bf16 training)":
                f"{format_cell(float32.get('held_out_loss_float32'))} / {format_cell(bf16.get('held_out_loss_float32'))}"})
    sweep = [{"variant": r.get("variant"), f"{on} images/s": r.get("images_per_second"),
              f"{on} speedup": r.get("speedup"),
              "CPU images/s": cpu_sweep.get(r.get("variant"), {}).get("images_per_second"),
              "CPU speedup": cpu_sweep.get(r.get("variant"), {}).get("speedup"),
              f"{on} max weight difference": r.get("max_weight_difference")} for r in _rows(gpu.get("batched_sweep"))]
    verdicts = [{"study": r.get("study"), "claims": r.get("claims"), f"verdicts, {on}": _verdict_agreement(r),
                 "seconds": r.get("seconds")} for r in _rows(gpu.get("studies"))]
    frames = {f"{on}: aelib training throughput, float32 and bf16 autocast": throughput,
              f"{on}: K=4 DAE sweep, batched vs sequential": sweep,
              f"{on}: each study's quick profile, verdicts against the CPU run": verdicts}
    return {title: pd.DataFrame(rows, dtype=object).map(
                lambda value: "not recorded" if value is None else format_cell(value))
            for title, rows in frames.items() if rows}


def _gpu_note(gpu: dict) -> str:
    """Where the GPU figures come from: the device, the versions, the commit; and any part that failed."""
    device, commit = gpu["device"], gpu.get("commit") or {}
    failed = [f"{name}: {gpu[name]['error']}" for name in ("throughput", "batched_sweep", "studies")
              if isinstance(gpu.get(name), dict) and gpu[name].get("error")]
    seconds = gpu.get("seconds")
    return (f"{_gpu_label(gpu)}: from `{GPU_CHECK.as_posix()}` ({device.get('name', 'unknown device')}, "
            f"torch {device.get('torch', '?')}, CUDA {device.get('cuda') or 'none'}, "
            f"commit {str(commit.get('git_commit', 'unknown'))[:12]}"
            f"{' (dirty tree)' if commit.get('git_dirty') else ''}, started {gpu.get('started', 'unknown')}, "
            + (f"{seconds:.0f} s in all" if isinstance(seconds, (int, float)) else "incomplete") + "); "
            "rerun with `python benchmarks/gpu_check.py benchmarks/gpu --device cuda`. "
            "Evaluation is in float32 in both precisions."
            + (" A --smoke run: tiny settings, its numbers measure nothing." if gpu.get("smoke") else "")
            + "".join(f" Failed, {line}" for line in failed))


def performance_parts(benchmark: dict | None, gpu: dict | None) -> list[tuple[str, dict[str, pd.DataFrame]]]:
    """The Performance section as (note, frames) pairs: the CPU benchmark's, then the GPU check's."""
    parts = [] if benchmark is None else [(_performance_note(benchmark), _performance_frames(benchmark))]
    return parts + ([] if gpu is None else [(_gpu_note(gpu), _gpu_frames(gpu, benchmark))])
