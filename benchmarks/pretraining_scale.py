"""Study 08 at the paper's width: how long do greedy pretraining and fine-tuning take at 1,000 units?

The workload: MNIST-basic's 10,000 training digits (random pixels here: the speed does not depend on
them), minibatches of 20, plain SGD, a stack 784-h-h-h of tied sigmoid autoencoders
(aelib.training.pretraining). Timed, one epoch each, after a warm-up: the first layer and a deeper layer
pretrained as a denoising autoencoder (SdA-3) and as a contractive one (SCAE-3), and one
fine-tuning epoch of the whole network with its validation pass. Each stage runs in one process
with 1 thread, in one process with 2 threads, and as two 1-thread processes side by side (two
candidates at once, as notebook 08 does with `processes: 2`), whose throughput counts both.

The projection: the full profile's training time at `--hidden`, for the candidates of
08_layerwise_pretraining.full.yaml (all at the first seed, the kept ones at the others) with the
fine-tuning epochs the earlier record ran (`--finetuning-epochs`, about 40 per network). A
benchmark, not a test: run it on an otherwise idle machine.

    .venv/bin/python benchmarks/pretraining_scale.py --hidden 500 1000
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("TQDM_DISABLE", "1")

import torch  # noqa: E402

from aelib.training.pretraining import classifier_from_stack, fine_tune, new_stack, pretrain_layer  # noqa: E402
from aelib.training.processes import run_side_by_side  # noqa: E402

TRAINING_DIGITS, VALIDATION_DIGITS, BATCH = 10_000, 2_000, 20


def stage_seconds(hidden: int, threads: int) -> dict:
    """Seconds of one epoch of each stage at width `hidden`, in this process with `threads` threads."""
    torch.set_num_threads(threads)
    generator = torch.Generator().manual_seed(0)
    images = torch.rand(TRAINING_DIGITS, 784, generator=generator)
    codes = torch.rand(TRAINING_DIGITS, hidden, generator=generator)
    labels = torch.randint(0, 10, (TRAINING_DIGITS,), generator=generator)
    stack = new_stack(784, [hidden] * 3, generator)
    seconds = {}
    for name, layer, inputs, options in (("SdA layer 1", stack.layers[0], images, {"noise": 0.25}),
                                         ("SdA layer 2", stack.layers[1], codes, {"noise": 0.25}),
                                         ("SCAE layer 1", stack.layers[0], images, {"contraction": 0.1}),
                                         ("SCAE layer 2", stack.layers[1], codes, {"contraction": 0.1})):
        pretrain_layer(layer, inputs[:2000], epochs=1, batch_size=BATCH, learning_rate=0.1, **options)  # warm-up
        clock = time.perf_counter()
        pretrain_layer(layer, inputs, epochs=1, batch_size=BATCH, learning_rate=0.1, **options)
        seconds[name] = time.perf_counter() - clock
    classifier = classifier_from_stack(stack)
    clock = time.perf_counter()
    fine_tune(classifier, images, labels, images[:VALIDATION_DIGITS], labels[:VALIDATION_DIGITS], max_epochs=1,
              patience=1, batch_size=BATCH, learning_rate=0.2)
    seconds["fine-tuning"] = time.perf_counter() - clock
    return seconds


def projection(seconds: dict, *, pretraining_epochs: int, finetuning_epochs: int, seeds: int,
               masking_levels: int, contraction_weights: int) -> float:
    """Training seconds of the full profile, one candidate after another, from one epoch of each stage."""
    def stack(kind):
        return pretraining_epochs * (seconds[f"{kind} layer 1"] + 2 * seconds[f"{kind} layer 2"])
    fine = finetuning_epochs * seconds["fine-tuning"]
    first_seed = fine + (fine + stack("SdA")) * (1 + masking_levels) + (fine + stack("SCAE")) * contraction_weights
    other_seed = fine + 2 * (fine + stack("SdA")) + (fine + stack("SCAE"))
    return first_seed + (seeds - 1) * other_seed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", type=int, nargs="+", default=[500, 1000])
    parser.add_argument("--pretraining-epochs", type=int, default=15)
    parser.add_argument("--finetuning-epochs", type=int, default=40)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--masking-levels", type=int, default=2)
    parser.add_argument("--contraction-weights", type=int, default=1)
    arguments = parser.parse_args()
    results = []
    for hidden in arguments.hidden:
        one, two_threads = stage_seconds(hidden, 1), stage_seconds(hidden, 2)
        pair = run_side_by_side(stage_seconds, [{"hidden": hidden, "threads": 1}] * 2, total_threads=2)
        side_by_side = {stage: max(pair[0][stage], pair[1][stage]) / 2 for stage in one}  # two candidates per wait
        for label, seconds in (("1 process, 1 thread", one), ("1 process, 2 threads", two_threads),
                               ("2 processes side by side (per candidate)", side_by_side)):
            total = projection(seconds, pretraining_epochs=arguments.pretraining_epochs,
                               finetuning_epochs=arguments.finetuning_epochs, seeds=arguments.seeds,
                               masking_levels=arguments.masking_levels,
                               contraction_weights=arguments.contraction_weights)
            results.append({"hidden": hidden, "variant": label, **{k: round(v, 2) for k, v in seconds.items()},
                            "projected_full_minutes": round(total / 60, 1)})
            print(json.dumps(results[-1]))


if __name__ == "__main__":
    main()
