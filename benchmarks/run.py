"""aelib's performance, measured side by side in one run: the machine's limit, aelib's
training throughput, a well-known peer loop, the batched sweep, the studies' wall times.

    export AELIB_DATA_DIR=/path/to/data      # official MNIST and CIFAR-10 (see README)
    .venv/bin/python benchmarks/run.py            # about 3 minutes on a quiet 2-core CPU (estimated)
    .venv/bin/python benchmarks/run.py --quick    # about 1 minute: a smoke run, noisy numbers

Prints tables and the targets (met / not met) and writes benchmarks/results.json, which
`python -m aelib report` renders as the report's "Performance" section. A benchmark, not a
test: run it on a quiet machine; every number comes from this run except the studies' wall
times, which are read from their recorded metrics.json.
"""

from __future__ import annotations

import argparse
import datetime
import platform
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling modules, however this is started

from batched_sweep import sweep_speedups  # noqa: E402
from library_throughput import throughput  # noqa: E402
from machine_limit import DAE, VAE_EXAMPLE, VAE_PAPER, machine_limits  # noqa: E402
from rank_ordered_rule import TARGET_SECONDS, rule_speed  # noqa: E402
from study_durations import study_durations  # noqa: E402
from vae_peer import compare  # noqa: E402

from aelib.data.datasets import load_dataset  # noqa: E402
from aelib.data.patches import random_patches  # noqa: E402
from aelib.pipeline.reproducibility import package_versions  # noqa: E402
from aelib.pipeline.results import project_root, write_json_atomic  # noqa: E402

ROOT = project_root(Path(__file__).resolve().parent)
# (full run, --quick) settings
SETTINGS = {
    "matmul_seconds": (1.0, 0.25),       # how long each shape's products are repeated per timing
    "throughput_examples": (20_000, 3_000),  # rows of the timed epoch of each workload
    "throughput_repeats": (2, 1),         # timed epochs per workload (the fastest counts), after a warm-up
    "peer_epochs": (3, 1),                # epochs of the peer and of aelib's VAE on all 60,000 digits
    "sweep_steps": (300, 60),             # SGD steps of the batched-sweep timings
    "sweep_repeats": (3, 1),
    "rule_epochs": (3, 1),                # timed epochs of the per-patch rank-ordered rule on 40,000 patches
}
FRACTION_TARGET, PEER_SPEEDUP_TARGET, PEER_LOSS_TOLERANCE, SWEEP_SPEEDUP_TARGET = 0.7, 1.5, 0.5, 2.0


def targets(rows: list[dict], peer: dict, sweep: dict, rule: dict) -> list[dict]:
    """The targets, each measured in this run, met or not."""
    result = [{"target": "aelib's VAE epoch vs the PyTorch example's (same settings)",
               "required": f">= {PEER_SPEEDUP_TARGET}x faster, test loss within {PEER_LOSS_TOLERANCE} nats",
               "measured": f"{peer['speedup']:.2f}x, test loss {peer['aelib']['test_loss_nats']:.2f} vs "
                           f"{peer['peer']['test_loss_nats']:.2f} nats after {peer['epochs']} epoch(s) "
                           f"(with PyTorch's default, unfused Adam: {peer['speedup_unfused_adam']:.2f}x)",
               "met": bool(peer["speedup"] >= PEER_SPEEDUP_TARGET
                           and abs(peer["test_loss_difference_nats"]) <= PEER_LOSS_TOLERANCE)},
              {"target": "K=4 batched DAE sweep vs 4 sequential runs (DAE full settings)",
               "required": f">= {SWEEP_SPEEDUP_TARGET}x",
               "measured": f"{sweep['speedup_bmm']:.2f}x (aelib.models.batched); best variant "
                           f"{sweep['best_variant']}: {sweep['speedup']:.2f}x",
               "met": bool(sweep["speedup_bmm"] >= SWEEP_SPEEDUP_TARGET)},
              {"target": "study 04's faithful run: per-patch SGD, 40,000 patches x 60 epochs, 169 units",
               "required": f"under {TARGET_SECONDS / 60:.0f} minutes",
               "measured": f"{rule['projected_full_profile_seconds']:.0f} s projected from "
                           f"{rule['patches_per_second']:,.0f} patches/s",
               "met": bool(rule["projected_full_profile_seconds"] < TARGET_SECONDS)}]
    for shape in (DAE, VAE_EXAMPLE, VAE_PAPER):
        row = next(r for r in rows if r["model"] == shape.name and not r["torch_compile"])
        result.append({"target": f"achieved FLOP/s of the {shape.name} step", "required":
                       f">= {FRACTION_TARGET:.0%} of the matmul rate at its shapes",
                       "measured": f"{row['fraction_of_matmul_rate']:.0%} ({row['gflops']:.1f} of "
                                   f"{row['matmul_gflops']:.1f} GFLOP/s)",
                       "met": bool(row["fraction_of_matmul_rate"] >= FRACTION_TARGET)})
    return result


def tables(limits, rows, peer, sweep, rule, durations) -> dict[str, list[dict]]:
    """The measurements as report tables (rows of plain values)."""
    return {
        "Machine limit: float32 matmul rate at each model's shapes": [
            {"shape": name, "matmul GFLOP/s": row["matmul_gflops"], "step MFLOP": row["step_mflops"],
             "ideal epoch s": row["ideal_epoch_seconds"], "examples per epoch": row["examples_per_epoch"]}
            for name, row in limits.items()],
        "aelib training throughput (aelib.training.loop.train)": [
            {"model": r["model"], "torch.compile": r["torch_compile"], "examples/s": r["examples_per_second"],
             "GFLOP/s": r["gflops"], "of matmul rate": f"{r['fraction_of_matmul_rate']:.0%}",
             "epoch s": r["epoch_seconds"], "ideal epoch s": r["ideal_epoch_seconds"]} for r in rows],
        "VAE 784-400-20, Adam 1e-3, batch 128: PyTorch example loop vs aelib": [
            {"loop": name, "epoch s (fastest)": min(side["epoch_seconds"]),
             "epoch s (each)": ", ".join(f"{s:.2f}" for s in side["epoch_seconds"]),
             "test loss nats": side["test_loss_nats"], "epochs": peer["epochs"]}
            for name, side in (("PyTorch example (DataLoader, num_workers=0)", peer["peer"]),
                               ("aelib as notebook 05 (resident tensor, aelib.training.loop.train, fused Adam)",
                                peer["aelib"]),
                               ("aelib with PyTorch's default (unfused) Adam", peer["aelib_unfused_adam"]))],
        "K=4 DAE sweep (784-500, batch 20, SGD): batched vs sequential": [
            {"variant": r["variant"], "images/s": r["images_per_second"], "GFLOP/s": r["gflops"],
             "speedup": r["speedup"], "max weight difference": r["max_weight_difference"]}
            for r in sweep["rows"]],
        "The author's per-patch rank-ordered rule (compiled kernel), 169 units, 7x7 CIFAR-10 patches": [
            {"patches per epoch": rule["patches"], "epoch s (fastest)": rule["epoch_seconds"],
             "patches/s": rule["patches_per_second"],
             "projected full profile s (40,000 x 60)": rule["projected_full_profile_seconds"]}],
        "Study wall times (read from the recorded runs)": [
            {"study": r["study"], "quick s": r["quick_seconds"], "quick threads": r["quick_threads"],
             "full s": r["full_seconds"], "full threads": r["full_threads"]} for r in durations],
    }


def print_tables(named_tables: dict[str, list[dict]]) -> None:
    for title, rows in named_tables.items():
        print(f"\n{title}")
        columns = list(rows[0]) if rows else []
        cells = [[f"{v:.4g}" if isinstance(v, float) else str(v) for v in row.values()] for row in rows]
        widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
        print("  ".join(c.rjust(w) for c, w in zip(columns, widths)))
        for row in cells:
            print("  ".join(v.rjust(w) for v, w in zip(row, widths)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="short settings for a ~1-minute smoke run")
    parser.add_argument("--compile", action="store_true", help="also time each workload under torch.compile")
    parser.add_argument("--data-dir", default=None, help="folder of the official files (default: $AELIB_DATA_DIR)")
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results.json")
    parser.add_argument("--note", default="", help="how the machine was, e.g. 'quiet' or 'shared with 3 jobs'")
    arguments = parser.parse_args()
    settings = {name: values[1 if arguments.quick else 0] for name, values in SETTINGS.items()}
    started = datetime.datetime.now(datetime.timezone.utc)

    mnist = load_dataset("mnist", arguments.data_dir, download=False)
    cifar = load_dataset("cifar10-train-split", arguments.data_dir, download=False)
    patches = random_patches(cifar.train_images, cifar.image_shape, 7, torch.Generator().manual_seed(0))

    print("machine limit ...", flush=True)
    limits = machine_limits(settings["matmul_seconds"])
    print("aelib throughput ...", flush=True)
    rows = throughput(mnist.train_images, patches, limits, settings["throughput_examples"],
                      settings["throughput_repeats"], arguments.compile)
    print("peer VAE loop vs aelib ...", flush=True)
    peer = compare(mnist, settings["peer_epochs"])
    print("batched sweep ...", flush=True)
    sweep = sweep_speedups(mnist.train_images, settings["sweep_steps"], settings["sweep_repeats"])
    print("per-patch rank-ordered rule ...", flush=True)
    rule = rule_speed(patches * (255 / 256), settings["rule_epochs"])
    durations = study_durations(ROOT / "results")

    named_tables = tables(limits, rows, peer, sweep, rule, durations)
    result = {
        "profile": "quick" if arguments.quick else "full", "note": arguments.note, "settings": settings,
        "started": started.isoformat(timespec="seconds"),
        "seconds": (datetime.datetime.now(datetime.timezone.utc) - started).total_seconds(),
        "threads": torch.get_num_threads(), "platform": platform.platform(), "versions": package_versions(),
        "targets": targets(rows, peer, sweep, rule), "tables": named_tables,
        "machine_limit": limits, "throughput": rows, "vae_peer": peer, "batched_sweep": sweep,
        "rank_ordered_rule": rule,
        "study_durations": durations,
    }
    print_tables(named_tables)
    print("\nTargets")
    for target in result["targets"]:
        print(f"  [{'met' if target['met'] else 'NOT MET'}] {target['target']}: {target['measured']} "
              f"(required {target['required']})")
    print(f"\n{result['threads']} threads, {result['seconds']:.0f} s; written to {arguments.output}")
    write_json_atomic(arguments.output, result)


if __name__ == "__main__":
    main()
