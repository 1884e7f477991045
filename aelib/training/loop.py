"""A minibatch training loop that knows no model.

It takes an optimizer (which holds the parameters), a loss closure and tensors (or a
function giving each epoch its own tensors). The data stay on their device as whole
tensors; each epoch draws a permutation and indexes minibatches out of it, so there is
no per-example Python work. A per-epoch callback (`on_epoch_end`) carries what a study
does between epochs: a learning-rate schedule, extra measurements, early stopping.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

LossFn = Callable[..., torch.Tensor]
Data = torch.Tensor | Sequence[torch.Tensor]
EpochCallback = Callable[[dict], bool | None]


class NonFiniteLossError(FloatingPointError):
    """The loss became NaN or infinite; training stopped at the end of that epoch."""


def train(loss_fn: LossFn, optimizer: torch.optim.Optimizer, train_data: Data | Callable[[int], Data], *,
          epochs: int, batch_size: int, test_data: Data | None = None,
          test_loss_fn: LossFn | None = None, generator: torch.Generator | None = None,
          on_epoch_end: EpochCallback | None = None,
          checkpoint_path: str | os.PathLike | None = None, progress: bool = True,
          description: str = "training", autocast_dtype: torch.dtype | None = None,
          shuffle: bool = True, generators: Sequence[torch.Generator] = ()) -> list[dict]:
    """Minimise `loss_fn` by minibatch steps of `optimizer`; return one row per epoch.

    loss_fn(*batch) returns the mean loss of a minibatch, where `batch` holds the
    rows of each tensor of `train_data` at the drawn indices. It may also return a
    vector of K independent losses (K models trained as one, see aelib.models.batched):
    their sum is minimised and each is recorded, as a list in the rows. Its randomness (e.g.
    corruption) must come from `generator`, from the further `generators` or from the global
    torch RNG: all are saved in checkpoints, so a resumed run repeats an uninterrupted one exactly.

    `train_data` may instead be a function of the epoch number (1, 2, ...) that returns
    that epoch's tensors (e.g. fresh random patches of the training images). Each epoch's rows are
    visited in a random order drawn from `generator`; with `shuffle=False`, in the order given
    (and the generator draws nothing for it): for per-epoch data already in the order wanted,
    e.g. the indices of `training_order`, so that how a run is cut into epochs changes nothing.

    Each row: epoch, train_loss (mean over the epoch's batches, weighted by size),
    test_loss (test_loss_fn, default loss_fn, on test_data without gradients) and
    seconds. `on_epoch_end(row)` is then called: it may add entries to the row (e.g. a
    held-out loss), change the optimizer's learning rate, and return True to stop after
    this epoch (early stopping). With `checkpoint_path`, the state is saved after every
    epoch (after the callback) and an existing checkpoint is resumed; a resumed run
    repeats an uninterrupted one exactly when per-epoch data and the callback depend on
    the epoch number and the saved state only. The progress bar honours TQDM_DISABLE.

    The losses are checked for NaN and infinity once per epoch, on their sum, so that
    no batch waits for the device: a non-finite loss raises NonFiniteLossError at the
    end of its epoch, naming the epoch and the first bad batch (the parameters are
    then those after the whole epoch, not those before the bad batch).
    `autocast_dtype` (e.g. torch.bfloat16 on CUDA) runs the training losses under
    torch.autocast in that dtype; evaluation stays in float32. None (the default)
    leaves the arithmetic untouched.
    """
    if epochs < 0 or batch_size < 1:
        raise ValueError(f"need epochs >= 0 and batch_size >= 1, got {epochs} and {batch_size}")
    parameters = [p for group in optimizer.param_groups for p in group["params"]]
    device = parameters[0].device
    data_for_epoch = train_data if callable(train_data) else None
    if data_for_epoch is None:
        train_data = _checked_data(train_data, device)
    test_data = tuple(t.to(device) for t in _as_tuple(test_data)) if test_data is not None else None
    generator = generator if generator is not None else torch.Generator().manual_seed(0)

    history: list[dict] = []
    stopped = False
    checkpoint = Path(checkpoint_path) if checkpoint_path is not None else None
    fingerprint = {"n": None if data_for_epoch else len(train_data[0]), "batch_size": batch_size,
                   "shapes": [tuple(p.shape) for p in parameters]}
    if checkpoint is not None and checkpoint.exists():
        history, stopped = _load_checkpoint(checkpoint, fingerprint, parameters, optimizer, generator, generators)
    if stopped:  # the callback had stopped the run that wrote the checkpoint
        return history

    autocast = (torch.autocast(device.type, dtype=autocast_dtype) if autocast_dtype is not None
                else contextlib.nullcontext())
    quiet = {} if progress else {"disable": True}  # not passing `disable` lets TQDM_DISABLE decide
    bar = tqdm(range(len(history), epochs), desc=description, initial=len(history), total=epochs, **quiet)
    for epoch in bar:
        started = time.perf_counter()
        if data_for_epoch is not None:
            train_data = _checked_data(data_for_epoch(epoch + 1), device)
        n = len(train_data[0])
        order = (torch.randperm(n, generator=generator) if shuffle else torch.arange(n)).to(device)
        loss_sum = torch.zeros((), device=device)
        batch_losses = []  # kept on the device; read only if the epoch's sum is not finite
        for indices in order.split(batch_size):
            with autocast:
                loss = loss_fn(*(t[indices] for t in train_data))
            optimizer.zero_grad(set_to_none=True)
            (loss if loss.ndim == 0 else loss.sum()).backward()  # a scalar needs no extra sum node
            optimizer.step()
            batch_losses.append(loss.detach())
            loss_sum = loss_sum + loss.detach() * len(indices)
        if not torch.isfinite(loss_sum).all():  # the one host-device synchronisation of the epoch
            _raise_non_finite(batch_losses, description, epoch)
        row = {"epoch": epoch + 1, "train_loss": _number(loss_sum / n)}
        if test_data is not None:
            row["test_loss"] = evaluate(test_loss_fn or loss_fn, test_data)
        row["seconds"] = time.perf_counter() - started
        history.append(row)
        stopped = bool(on_epoch_end(row)) if on_epoch_end is not None else False
        bar.set_postfix({k: f"{sum(v) / len(v) if isinstance(v, list) else v:.4g}"
                         for k, v in row.items() if k.endswith("loss")})
        if checkpoint is not None:
            _save_checkpoint(checkpoint, fingerprint, parameters, optimizer, generator, generators, history, stopped)
        if stopped:
            break
    bar.close()
    return history


def full_batch_steps(loss_fn: LossFn, optimizer: torch.optim.Optimizer, train_data: torch.Tensor, steps: int) -> float:
    """`steps` gradient steps on the whole of `train_data` at once (loss_fn(train_data) is its mean
    loss): no minibatches, no shuffling, as the papers' 2-D toy models are trained. Returns the loss
    before the last step."""
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    for _ in range(steps):
        loss = loss_fn(train_data)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return loss.item()


def stop_when_levelled_off(fraction: float) -> EpochCallback:
    """An `on_epoch_end` that stops training once the loss has levelled off: after the first epoch
    whose mean training loss is less than `fraction` below the previous epoch's,

        (L_{t-1} - L_t) / |L_{t-1}| < fraction.

    It adds that relative improvement to each row (`relative_improvement`, NaN for the first
    epoch) and keeps the previous loss itself, so use one callback per run (no checkpoint resume)."""
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must be in (0, 1), got {fraction!r}")
    previous: list[float] = []

    def levelled_off(row: dict) -> bool:
        loss = float(sum(row["train_loss"])) if isinstance(row["train_loss"], list) else float(row["train_loss"])
        row["relative_improvement"] = (previous[-1] - loss) / abs(previous[-1]) if previous else math.nan
        previous.append(loss)
        return len(previous) > 1 and row["relative_improvement"] < fraction

    return levelled_off


def training_order(n_examples: int, start: int, stop: int, seed: int) -> torch.Tensor:
    """Positions start, ..., stop - 1 of an endless sequence of passes over the n_examples rows,
    each pass a fresh random permutation (pass j drawn from its own generator, seeded from seed and
    j): the indices of the examples a run sees between its start-th and its stop-th training sample.
    A run cut into segments at any points sees the same examples in the same order."""
    if n_examples < 1 or not 0 <= start <= stop or seed < 0:
        raise ValueError(f"need n_examples >= 1, 0 <= start <= stop and seed >= 0, got {n_examples}, "
                         f"{start}, {stop}, {seed}")
    pieces = []
    for pass_number in range(start // n_examples, -(-stop // n_examples)):
        # torch's CPU generator keeps 32 bits of a seed: derive them from (seed, pass) by NumPy's SeedSequence
        generator = torch.Generator().manual_seed(int(np.random.SeedSequence([seed, pass_number]).generate_state(1)[0]))
        permutation = torch.randperm(n_examples, generator=generator)
        offset = pass_number * n_examples
        pieces.append(permutation[max(start - offset, 0):min(stop - offset, n_examples)])
    return torch.cat(pieces) if pieces else torch.zeros(0, dtype=torch.long)


def log_spaced_counts(first: int, last: int, per_decade: int, multiple: int = 1) -> list[int]:
    """Increasing counts from `first` to `last` (both included), `per_decade` of them per factor of
    10 on a log scale, each rounded to a positive multiple of `multiple`: where a run evaluated on
    a log axis (10^(i / per_decade) x first, ..., last)."""
    if not 0 < first <= last or per_decade < 1 or multiple < 1:
        raise ValueError(f"need 0 < first <= last, per_decade >= 1 and multiple >= 1, got {first}, {last}, "
                         f"{per_decade}, {multiple}")
    steps = math.floor(per_decade * math.log10(last / first) + 1e-9)
    counts = {max(multiple, round(first * 10 ** (i / per_decade) / multiple) * multiple) for i in range(steps + 1)}
    return sorted(c for c in counts if c < last) + [last]


def _checked_data(data: Data, device: torch.device) -> tuple[torch.Tensor, ...]:
    data = _as_tuple(data)
    n = len(data[0])
    if n == 0 or any(len(t) != n for t in data):
        raise ValueError("train_data must be non-empty tensors with the same number of rows")
    return tuple(t.to(device) for t in data)


def _raise_non_finite(batch_losses: list[torch.Tensor], description: str, epoch: int):
    """Name the first batch of the epoch whose loss was NaN or infinite."""
    finite = torch.stack([torch.isfinite(loss).all() for loss in batch_losses]).tolist()
    if all(finite):
        raise NonFiniteLossError(f"{description}: every batch loss of epoch {epoch + 1} was finite, "
                                 "but their sum overflowed. Check the scale of the loss.")
    first = finite.index(False)
    raise NonFiniteLossError(
        f"{description}: the loss became {batch_losses[first].tolist()} at epoch {epoch + 1}, batch "
        f"{first + 1} (of {len(batch_losses)}). Lower the learning rate, check the input scaling, "
        "or look for a log of 0 in the loss.")


@torch.no_grad()
def evaluate(loss_fn: LossFn, data: torch.Tensor | Sequence[torch.Tensor],
             batch_size: int = 1000) -> float | list[float]:
    """The mean of loss_fn over `data`, in batches, without gradients."""
    data = _as_tuple(data)
    n = len(data[0])
    total = sum(loss_fn(*(t[i:i + batch_size] for t in data)) * min(batch_size, n - i)
                for i in range(0, n, batch_size))
    return _number(total / n)


def _number(loss: torch.Tensor) -> float | list[float]:
    """A scalar loss as a float, a vector of losses (one per model) as a list."""
    return loss.item() if loss.ndim == 0 else loss.tolist()


def _as_tuple(data) -> tuple[torch.Tensor, ...]:
    return (data,) if isinstance(data, torch.Tensor) else tuple(data)


def _save_checkpoint(path: Path, fingerprint, parameters, optimizer, generator, generators, history, stopped) -> None:
    state = {
        "fingerprint": fingerprint,
        "parameters": [p.detach().cpu().clone() for p in parameters],
        "optimizer": optimizer.state_dict(),
        "generator": generator.get_state(),
        "generators": [g.get_state() for g in generators],
        "torch_rng": torch.get_rng_state(),
        "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
        "history": history,
        "stopped": stopped,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    torch.save(state, partial)
    os.replace(partial, path)  # an interrupted save never replaces a good checkpoint


def _load_checkpoint(path: Path, fingerprint, parameters, optimizer, generator,
                     generators) -> tuple[list[dict], bool]:
    state = torch.load(path, weights_only=False)
    if state["fingerprint"] != fingerprint:
        raise ValueError(f"checkpoint {path} was written by a different run ({state['fingerprint']}, "
                         f"this run is {fingerprint}); delete it or choose another checkpoint_path")
    with torch.no_grad():
        for parameter, saved in zip(parameters, state["parameters"]):
            parameter.copy_(saved)
    optimizer.load_state_dict(state["optimizer"])
    generator.set_state(state["generator"])
    saved = state.get("generators", [])
    if len(saved) != len(generators):
        raise ValueError(f"checkpoint {path} saved {len(saved)} further generator(s), this run has {len(generators)}")
    for further, saved_state in zip(generators, saved):
        further.set_state(saved_state)
    torch.set_rng_state(state["torch_rng"])
    if state["cuda_rng"] is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda_rng"])
    return state["history"], state.get("stopped", False)


def seconds_per_epoch(history: list[dict]) -> float:
    """The mean wall time of an epoch in the rows `train` returns."""
    return sum(row["seconds"] for row in history) / len(history)
