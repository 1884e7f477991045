"""Saturating and denoising autoencoders trained as the saturating study sweeps them (Goroshin & LeCun 2013).

Each model minimises the saturating loss (sec. 2, eq. 1) on inputs masked at a fraction nu,

    L = ||x - g(f(W q_nu(x) + b))||^2  +  alpha sum_i f_c(w_i . q_nu(x) + b_i),

so a setting (alpha, nu) = (alpha, 0) is a saturating autoencoder, (0, nu) a denoising one and
(0, 0) the plain one. Dense models of one sweep start from the same initial weights and are trained
together as one batched model (aelib.models.batched: each ends as it would if trained alone);
a convolutional model is trained alone until its training loss levels off.
"""

from __future__ import annotations

import copy

import torch

from aelib.models.autoencoders import sigmoid_init_bound
from aelib.models.batched import BatchedAutoencoder, split_history
from aelib.models.losses import squared_error
from aelib.penalties.corruption import masking_noise
from aelib.penalties.regularizers import training_loss
from aelib.penalties.saturation import saturating_autoencoder, saturation_penalty
from aelib.training.loop import full_batch_steps, stop_when_levelled_off, train

Setting = tuple[float, float]  # (alpha, masking fraction nu)


def batched_saturating_loss(sweep: BatchedAutoencoder, settings: list[Setting], activation: str,
                            shrink_threshold: float, noise_generator: torch.Generator):
    """The loss closure of K models at once: x -> the vector of their K minibatch losses (eq. 1
    above), model k's input masked at its own fraction (a fraction of 0 keeps x)."""
    alphas = [alpha for alpha, _ in settings]
    noise_levels = torch.tensor([noise for _, noise in settings], device=next(sweep.parameters()).device)

    def loss(x):
        corrupted = masking_noise(x, noise_levels, noise_generator)  # [K, B, D]
        z = sweep.pre_activation(corrupted)
        penalties = torch.stack([saturation_penalty(z[k], activation, alpha, shrink_threshold)
                                 for k, alpha in enumerate(alphas)])
        return squared_error(sweep.decode(sweep.encoder_activation(z)), x) + penalties

    return loss


def train_saturating_sweep(initial: torch.nn.Module, activation: str, settings: list[Setting],
                           images: torch.Tensor, *, epochs: int, batch_size: int, learning_rate: float,
                           shrink_threshold: float, seed: int, description: str = "sweep"):
    """One copy of `initial` per setting, trained together with Adam; returns (models, histories),
    one per setting. Masking noise is drawn from a generator seeded seed + 1, the minibatch order
    from one seeded seed + 2."""
    device = images.device
    sweep = BatchedAutoencoder([copy.deepcopy(initial) for _ in settings]).to(device)
    loss = batched_saturating_loss(sweep, settings, activation, shrink_threshold,
                                   torch.Generator(device=device).manual_seed(seed + 1))
    history = train(loss, torch.optim.Adam(sweep.parameters(), lr=learning_rate), images, epochs=epochs,
                    batch_size=batch_size, generator=torch.Generator().manual_seed(seed + 2), description=description)
    return sweep.unstack(), split_history(history, len(settings))


def train_until_levelled_off(model: torch.nn.Module, setting: Setting, images: torch.Tensor, *, epochs: int,
                             batch_size: int, learning_rate: float, plateau: float, seed: int,
                             description: str = "model") -> list[dict]:
    """Train `model` alone (in place) with Adam on the saturating loss at setting (alpha, nu), summed over
    every encoding layer, for at most `epochs`, stopping once an epoch lowers the mean training loss by
    less than the fraction `plateau`; returns its history (seeds as in train_saturating_sweep)."""
    alpha, noise = setting
    loss = training_loss("saturating", model, alpha, masking_fraction=noise,
                         generator=torch.Generator(device=images.device).manual_seed(seed + 1))
    return train(loss, torch.optim.Adam(model.parameters(), lr=learning_rate), images, epochs=epochs,
                 batch_size=batch_size, generator=torch.Generator().manual_seed(seed + 2),
                 on_epoch_end=stop_when_levelled_off(plateau), description=description)


def levelling_off(history: list[dict], plateau: float) -> dict:
    """How a run stopped: its epochs, final loss, last relative improvement, and whether it levelled off."""
    last = history[-1]
    return {"epochs": len(history), "final_loss": last["train_loss"],
            "last_relative_improvement": last["relative_improvement"],
            "levelled_off": bool(last["relative_improvement"] < plateau)}


def fit_planar_autoencoder(points: torch.Tensor, hidden: int, alpha: float, steps: int, seed: int) -> torch.nn.Module:
    """The paper's 2-D toy (sec. 4): an untied autoencoder of `hidden` saturated linear units, clip(z, 0, 1),
    fitted to planar `points` by `steps` full-batch Adam steps (step 0.01) on
    ||x - g(f(x))||^2 + alpha sum_i f_c(z_i), from initial weights seeded `seed`. They are drawn in the
    sigmoid's range: Glorot's is too narrow for 2 inputs to cover the data's scale."""
    model = saturating_autoencoder(2, hidden, "saturated_linear", tied=False, init_bound=sigmoid_init_bound(2, hidden),
                                   generator=torch.Generator().manual_seed(seed))
    full_batch_steps(training_loss("saturating", model, alpha), torch.optim.Adam(model.parameters(), lr=0.01), points,
                     steps)
    return model
