"""Greedy layer-wise pretraining of a stack of autoencoders, then supervised fine-tuning.

The recipe (Bengio, Lamblin, Popovici, Larochelle, "Greedy Layer-Wise Training of Deep
Networks", NIPS 2007, sec. 2 and 4; Vincent et al. 2008, sec. 3.4 for the denoising stack):

1. Train the first autoencoder on the inputs x to reconstruct them.
2. For k = 2..L, train the k-th autoencoder to reconstruct the codes h_{k-1} = f_{k-1}(...f_1(x))
   of the (already trained, now frozen) layers below it.
   Each layer may be regularized: masking noise on its input (stacked denoising
   autoencoders, SdA; Vincent et al. 2008), a contractive penalty lambda ||J_f(x)||_F^2
   (stacked contractive autoencoders, SCAE; Rifai et al. 2011, eq. 2), or nothing
   (stacked ordinary autoencoders, SAA).
3. Keep the encoders, put a softmax (multinomial logistic regression) layer on top and
   fine-tune the whole network with labels by minimising the cross-entropy of the class
   (gradient descent through every layer); select the number of fine-tuning epochs by
   the error on a validation set (early stopping).
The baseline is the same network fine-tuned from random weights (no step 1-2).

The benchmark is MNIST-basic (aelib.data.mnist_basic).
"""

from __future__ import annotations

import copy
import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from aelib.data.mnist_basic import load_mnist_basic
from aelib.models.autoencoders import Autoencoder, StackedAutoencoder
from aelib.models.losses import reconstruction_cross_entropy
from aelib.penalties.contractive import contractive_penalty
from aelib.penalties.corruption import masking_noise
from aelib.penalties.regularizers import weight_decay
from aelib.training.loop import evaluate, train
from aelib.training.processes import run_side_by_side


def new_stack(n_visible: int, hidden_sizes: list[int], generator: torch.Generator | None = None) -> StackedAutoencoder:
    """An untrained stack of tied sigmoid autoencoders n_visible -> hidden_sizes[0] -> ..."""
    sizes = [n_visible, *hidden_sizes]
    return StackedAutoencoder([Autoencoder(a, b, tied=True, generator=generator) for a, b in zip(sizes, sizes[1:])])


def layer_loss(layer: Autoencoder, *, noise: float = 0.0, contraction: float = 0.0, decay: float = 0.0,
               generator: torch.Generator | None = None):
    """The per-layer pretraining loss: reconstruction cross-entropy L_H(x, g(f(x~)))
    (Vincent et al. 2008, eq. 2), with x~ = x masked at fraction `noise` (sec. 2.3; x~ = x
    when 0), plus contraction * ||J_f(x)||_F^2 (Rifai et al. 2011, eq. 2) when > 0, plus
    (decay / 2) ||W||_F^2 (weight decay, `aelib.penalties.regularizers.weight_decay`) when > 0."""
    def loss(x: torch.Tensor) -> torch.Tensor:
        corrupted = masking_noise(x, noise, generator) if noise > 0 else x
        reconstruction = reconstruction_cross_entropy(layer, x, corrupted)
        if contraction > 0:
            reconstruction = reconstruction + contraction * contractive_penalty(layer, x)
        if decay > 0:
            reconstruction = reconstruction + weight_decay([layer.weight], decay)
        return reconstruction
    return loss


def pretrain_layer(layer: Autoencoder, inputs: torch.Tensor, *, epochs: int, batch_size: int,
                   learning_rate: float, noise: float = 0.0, contraction: float = 0.0, decay: float = 0.0,
                   generator: torch.Generator | None = None, description: str = "layer") -> list[dict]:
    """Train one autoencoder by minibatch SGD on `layer_loss`; returns its per-epoch rows."""
    generator = generator if generator is not None else torch.Generator().manual_seed(0)
    loss = layer_loss(layer, noise=noise, contraction=contraction, decay=decay, generator=generator)
    return train(loss, torch.optim.SGD(layer.parameters(), lr=learning_rate), inputs, epochs=epochs,
                 batch_size=batch_size, generator=generator, progress=False, description=description)


def greedy_layerwise_pretraining(stack: StackedAutoencoder, inputs: torch.Tensor, *, epochs: int,
                                 batch_size: int, learning_rate: float, noise: float = 0.0,
                                 contraction: float = 0.0, decay: float = 0.0, seed: int = 0) -> list[list[dict]]:
    """Steps 1-2 of the recipe (Bengio et al. 2007, sec. 2): layer k is trained, alone, to
    reconstruct the codes of layers 1..k-1, computed once with their trained weights.
    Returns one history per layer."""
    histories = []
    for depth, layer in enumerate(stack.layers):
        with torch.no_grad():
            codes = stack.encode(inputs, depth)
        histories.append(pretrain_layer(layer, codes, epochs=epochs, batch_size=batch_size,
                                        learning_rate=learning_rate, noise=noise, contraction=contraction,
                                        decay=decay, generator=torch.Generator().manual_seed(seed + depth),
                                        description=f"layer {depth + 1}"))
    return histories


class DeepClassifier(nn.Module):
    """Sigmoid hidden layers h_k = s(W_k h_{k-1} + b_k) and a softmax output layer;
    `forward` returns the class logits (the softmax's input)."""

    def __init__(self, hidden: list[nn.Linear], output: nn.Linear):
        super().__init__()
        self.hidden = nn.ModuleList(hidden)
        self.output = output

    def features(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.hidden:
            x = torch.sigmoid(layer(x))
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.output(self.features(x))


def classifier_from_stack(stack: StackedAutoencoder, n_classes: int = 10) -> DeepClassifier:
    """Step 3's network: copies of the stack's encoders (W_k, b_k) and a softmax layer
    that starts at zero weights (as the Theano deep learning tutorials' logistic layer).
    Given an untrained stack, this is the same network from random weights."""
    hidden = []
    for layer in stack.layers:
        linear = nn.Linear(layer.n_visible, layer.n_hidden)
        with torch.no_grad():
            linear.weight.copy_(layer.weight)
            linear.bias.copy_(layer.hidden_bias)
        hidden.append(linear)
    output = nn.Linear(stack.layers[-1].n_hidden, n_classes)
    nn.init.zeros_(output.weight)
    nn.init.zeros_(output.bias)
    return DeepClassifier(hidden, output)


def classification_error(classifier: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> float:
    """The fraction of `images` whose most probable class is not the label."""
    classifier.eval()
    return evaluate(lambda x, y: (classifier(x).argmax(dim=1) != y).float().mean(), (images, labels))


def fine_tune(classifier: DeepClassifier, train_images: torch.Tensor, train_labels: torch.Tensor,
              valid_images: torch.Tensor, valid_labels: torch.Tensor, *, max_epochs: int, patience: int,
              batch_size: int, learning_rate: float, seed: int = 0) -> list[dict]:
    """Step 3: minibatch SGD on the cross-entropy of the labels through every layer, with
    early stopping on the validation error: stop after `patience` epochs without a new best
    (or at `max_epochs`) and restore the weights of the best epoch (the first one on a tie).

    Returns one row per epoch: epoch, train_loss (nats), seconds (of training), valid_error,
    and is_best (the epoch whose weights were kept). The test set plays no part here.
    """
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.SGD(classifier.parameters(), lr=learning_rate)

    def loss(x, y):
        return F.cross_entropy(classifier(x), y)

    best = {"error": float("inf"), "state": None, "epochs_since": 0}

    def early_stopping(row: dict) -> bool:
        row["valid_error"] = classification_error(classifier, valid_images, valid_labels)
        row["is_best"] = False
        classifier.train()
        if row["valid_error"] < best["error"]:
            best.update(error=row["valid_error"], state=copy.deepcopy(classifier.state_dict()), epochs_since=0)
            return False
        best["epochs_since"] += 1
        return best["epochs_since"] >= patience

    classifier.train()
    history = train(loss, optimizer, (train_images, train_labels), epochs=max_epochs, batch_size=batch_size,
                    generator=generator, on_epoch_end=early_stopping, progress=False, description="fine-tuning")
    classifier.load_state_dict(best["state"])
    best_epoch = int(np.argmin([row["valid_error"] for row in history]))
    history[best_epoch]["is_best"] = True
    return history


def epoch_kept_by_early_stopping(valid_errors: Sequence[float], patience: int) -> int:
    """The index of the epoch that early stopping with `patience` keeps, replayed on one run's validation
    errors (as `fine_tune` chooses: the first epoch of lowest error before `patience` epochs in a row
    without a strictly lower one). Exact for any patience up to the one the run itself used: it ran at least
    that long past its best epoch."""
    if patience < 1 or not valid_errors:
        raise ValueError(f"need a patience of at least 1 and some epochs, got {patience!r} and {len(valid_errors)}")
    best, since = 0, 0
    for index in range(1, len(valid_errors)):
        if valid_errors[index] < valid_errors[best]:
            best, since = index, 0
        else:
            since += 1
            if since >= patience:
                break
    return best


def patience_check(runs: Sequence[dict], patience: int, describe: Callable[[dict], str]) -> list[dict]:
    """Each fine-tuned run replayed at half its `patience` (`epoch_kept_by_early_stopping`): the epoch it
    kept and its validation error (percent) at the patience and at half of it, with its variant, seed,
    epochs run and setting (`describe(run)`). A patience long enough keeps the same epoch at both."""
    half = max(1, patience // 2)
    rows = []
    for run in runs:
        valid_errors = [row["valid_error"] for row in run["history"]]
        at_half = epoch_kept_by_early_stopping(valid_errors, half)
        rows.append({"variant": run["variant"], "setting": describe(run), "seed": run["seed"],
                     "epochs_run": len(valid_errors), "kept_epoch": run["best_epoch"],
                     f"kept_epoch_at_patience_{half}": run["history"][at_half]["epoch"],
                     "valid_error_percent": 100 * run["valid_error"],
                     f"valid_error_percent_at_patience_{half}": 100 * valid_errors[at_half]})
    return rows


def fine_tuning_shortfall(kept: Sequence[dict], n_valid: int, patience: int) -> dict:
    """What a fine-tuned network's test error owes to the protocol, measured on the `kept` networks
    (each with valid_error and test_error, fractions, and its fine-tuning history):

    - gap: mean(test error - validation error) in percentage points. Validation and test digits are
      drawn alike, so a gap of several binomial sds of one validation error, sqrt(e (1 - e) / n_valid)
      at the mean validation error e, says that the validation digits the networks (and the epochs and
      settings) were chosen on are easier than the test digits, and the choice on them optimistic;
    - not_levelled: how many networks early stopping at half the patience would have stopped at another
      epoch (`epoch_kept_by_early_stopping`): their validation error was still moving when they stopped.
    """
    if not kept or n_valid < 1:
        raise ValueError(f"need kept networks and a validation set, got {len(kept)} and {n_valid}")
    valid = float(np.mean([run["valid_error"] for run in kept]))
    gap = 100 * float(np.mean([run["test_error"] - run["valid_error"] for run in kept]))
    sd = 100 * float(np.sqrt(valid * (1 - valid) / n_valid))
    half = max(1, patience // 2)
    not_levelled = sum(run["best_epoch"] != run["history"][epoch_kept_by_early_stopping(
        [row["valid_error"] for row in run["history"]], half)]["epoch"] for run in kept)
    return {"valid_percent": 100 * valid, "gap_points": gap, "valid_sd_points": sd, "not_levelled": not_levelled,
            "networks": len(kept), "half_patience": half,
            "text": f"the kept networks err {gap:+.2f} points more on the test digits than on the {n_valid:,} "
                    f"validation digits they were chosen on ({100 * valid:.2f}%; {gap / sd:.1f} binomial sd of one "
                    f"validation error), and {not_levelled} of {len(kept)} would keep another epoch at patience "
                    f"{half}: a shortfall of our protocol (choice on a small validation set, fine-tuning not levelled "
                    f"off), not shown to be the method's"}


@dataclass(frozen=True)
class Recipe:
    """The settings every candidate of a layer-wise study shares: the stack's shape, the minibatch sizes,
    and early stopping of fine-tuning."""
    hidden_units: int
    n_layers: int
    pretraining_batch_size: int
    finetuning_max_epochs: int
    finetuning_patience: int
    finetuning_batch_size: int


@dataclass(frozen=True)
class Setting:
    """What a candidate chooses on validation: the variant's own `value` (its layers' penalty weight, see
    `VARIANTS`; None for random and the plain stacks), the pretraining epochs per layer
    and SGD step (0 and None for random: no pretraining), and the fine-tuning SGD step."""
    value: float | None
    pretraining_epochs: int
    pretraining_learning_rate: float | None
    finetuning_learning_rate: float

    @property
    def pretraining(self) -> tuple:
        """What candidates that can share one pretrained stack have in common."""
        return self.value, self.pretraining_epochs, self.pretraining_learning_rate

    def describe(self, value_name: str = "value") -> str:
        parts = [] if self.value is None else [f"{value_name} {self.value:g}"]
        if self.pretraining_epochs:
            parts.append(f"{self.pretraining_epochs} epochs at {self.pretraining_learning_rate:g}")
        return ", ".join(parts + [f"fine-tuning step {self.finetuning_learning_rate:g}"])


# Each variant: what its value sets in every layer's `layer_loss` (None: nothing, or no pretraining for
# "random"). The number after the dash is the depth, the recipe's n_layers: stacks of 3 are Vincent et al.
# 2008's (table 1: SAA-3, SdA-3) and our SCAE-3; single layers are Rifai et al. 2011's (tables 1-2).
VARIANTS = {"random": None, "SAA-3": None, "SdA-3": "noise", "SCAE-3": "contraction",
            "AE-1": None, "AE+wd-1": "decay", "DAE-1": "noise", "CAE-1": "contraction"}


def setting_grid(variant: str, values: Sequence[float | None], pretraining_epochs: Sequence[int],
                 pretraining_learning_rates: Sequence[float], finetuning_learning_rates: Sequence[float]) -> list[Setting]:
    """Every combination of the grids for `variant`, in grid order (the variant's value slowest, the
    fine-tuning step fastest: on a tie of validation error the first listed is kept). "random" has no
    value and no pretraining; the plain stacks (SAA-3, AE-1) no value."""
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {', '.join(VARIANTS)}, got {variant!r}")
    if VARIANTS[variant] is None:
        values = [None]
    if variant == "random":
        pretraining_epochs, pretraining_learning_rates = [0], [None]
    if not (values and pretraining_epochs and pretraining_learning_rates and finetuning_learning_rates):
        raise ValueError(f"every grid of {variant} needs at least one value")
    return [Setting(*combination) for combination in itertools.product(
        values, pretraining_epochs, pretraining_learning_rates, finetuning_learning_rates)]


def pretrain_and_fine_tune(recipe: Recipe, variant: str, settings: Sequence[Setting], seed: int, *, dataset: str,
                           data_dir=None, split_seed: int = 0, device: str = "cpu") -> list[dict]:
    """Candidates of the recipe that share their pretraining, from data to fine-tuned networks, all of
    it seeded by `seed` (initial weights; pretraining order and noise from seed + 1 on; fine-tuning order
    from seed + 2) on the split drawn with `split_seed`: `variant` is "random" (no pretraining) or a stack
    of `recipe.n_layers` layers whose `setting.value` is the weight `VARIANTS` names (SdA-3, DAE-1: the
    masking fraction; SCAE-3, CAE-1: the contraction weight; AE+wd-1: the weight decay). The stack
    is pretrained once and each setting's fine-tuning step starts from a copy of it. It loads its own data,
    so that it can run in a process of its own (`aelib.training.processes.run_side_by_side`).

    Returns, per setting: the fine-tuning history, the best validation error and its epoch, the first
    layer's filters (W) and hidden bias after pretraining, the fine-tuned network's state (CPU tensors),
    the seconds of each stage (the pretraining's shared by `pretraining_shared_by` settings). The test set
    is not touched."""
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {', '.join(VARIANTS)}, got {variant!r}")
    if variant != "random" and not variant.endswith(f"-{recipe.n_layers}"):
        raise ValueError(f"variant {variant} is a stack of {variant.rsplit('-', 1)[-1]} layers; the recipe has "
                         f"{recipe.n_layers}")
    if not settings or len({setting.pretraining for setting in settings}) != 1:
        raise ValueError(f"settings run together must share their pretraining, got {list(settings)}")
    split, _ = load_mnist_basic(dataset, data_dir, seed=split_seed)
    stack = new_stack(784, [recipe.hidden_units] * recipe.n_layers, torch.Generator().manual_seed(seed)).to(device)
    train_x, valid_x = split.train_images.to(device), split.valid_images.to(device)
    train_y, valid_y = split.train_labels.to(device), split.valid_labels.to(device)
    first = settings[0]
    clock = time.perf_counter()
    if variant != "random":
        greedy_layerwise_pretraining(stack, train_x, epochs=first.pretraining_epochs,
                                     batch_size=recipe.pretraining_batch_size,
                                     learning_rate=first.pretraining_learning_rate, seed=seed + 1,
                                     **({VARIANTS[variant]: first.value} if VARIANTS[variant] else {}))
    pretraining_seconds = time.perf_counter() - clock
    pretrained_filters = stack.layers[0].filters().cpu().clone()
    pretrained_hidden_bias = stack.layers[0].hidden_bias.detach().cpu().clone()
    results = []
    for setting in settings:
        classifier = classifier_from_stack(stack).to(device)
        clock = time.perf_counter()
        history = fine_tune(classifier, train_x, train_y, valid_x, valid_y, max_epochs=recipe.finetuning_max_epochs,
                            patience=recipe.finetuning_patience, batch_size=recipe.finetuning_batch_size,
                            learning_rate=setting.finetuning_learning_rate, seed=seed + 2)
        best = next(row for row in history if row["is_best"])
        results.append({"variant": variant, "setting": setting, "value": setting.value, "seed": seed,
                        "history": history, "valid_error": best["valid_error"], "best_epoch": best["epoch"],
                        "pretrained_filters": pretrained_filters, "pretrained_hidden_bias": pretrained_hidden_bias,
                        "classifier_state": {k: v.cpu() for k, v in classifier.state_dict().items()},
                        "pretraining_seconds": pretraining_seconds, "pretraining_shared_by": len(settings),
                        "finetuning_seconds": time.perf_counter() - clock})
    return results


def train_candidates(recipe: Recipe, candidates: Sequence[tuple[str, Setting, int]], *, dataset: str,
                     data_dir=None, split_seed: int = 0, device: str = "cpu", threads: int = 1,
                     processes: int = 1) -> list[dict]:
    """Train (variant, setting, seed) candidates, those that share a pretraining (same variant, seed and
    `Setting.pretraining`) from one pretrained stack, `processes` stacks at a time, each in a process of
    its own sharing `threads` in all; one result of `pretrain_and_fine_tune` per candidate, in order.
    The longest stacks start first (most pretraining epochs, then most fine-tunings), so that the last
    ones to end are short and the processes end together."""
    groups: dict[tuple, list[int]] = {}
    for index, (variant, setting, seed) in enumerate(candidates):
        groups.setdefault((variant, seed, setting.pretraining), []).append(index)
    groups = dict(sorted(groups.items(), key=lambda group: (group[0][2][1], len(group[1])), reverse=True))
    calls = [dict(recipe=recipe, variant=variant, settings=[candidates[i][1] for i in indices], seed=seed,
                  dataset=dataset, data_dir=data_dir, split_seed=split_seed, device=device)
             for (variant, seed, _), indices in groups.items()]
    results: list[dict | None] = [None] * len(candidates)
    for indices, group in zip(groups.values(), run_side_by_side(pretrain_and_fine_tune, calls,
                                                               total_threads=threads, at_once=processes)):
        for index, result in zip(indices, group):
            results[index] = result
    return results


def classifier_from_state(state: dict, recipe: Recipe, n_classes: int = 10) -> DeepClassifier:
    """The fine-tuned network that `pretrain_and_fine_tune` returned the state of."""
    classifier = classifier_from_stack(new_stack(784, [recipe.hidden_units] * recipe.n_layers), n_classes)
    classifier.load_state_dict(state)
    return classifier
