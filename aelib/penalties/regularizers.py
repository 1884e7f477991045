"""Every way of regularizing an autoencoder, one named entry each, and the training loss it builds.

An entry turns (model, minibatch x, weight) into the mean training loss of the minibatch:
a reconstruction term plus the weight times the method's penalty (or, for denoising, the
reconstruction of x from a corrupted copy). Studies compose entries; they do not re-derive
them. `training_loss(name, model, weight)` returns the closure that `aelib.training.loop.train`
minimises.

    plain AE        L_H(x, g(f(x)))                                    Vincent et al. 2008, eq. 2
    weight decay    L_H + (lambda / 2) sum_l sum_ij (W_ij^(l))^2       CS294A notes, sec. 2
    L1 activity     L_H + lambda sum_i |h_i|                           (the L1 penalty on the code)
    KL sparsity     L_H + beta sum_j KL(rho || rho_hat_j)              CS294A notes, sec. 3
    denoising       L_H(x, g(f(x~))),  x~ = x masked at fraction nu    Vincent et al. 2008, sec. 2.3
    contractive     L_H + lambda ||J_f(x)||_F^2                        Rifai et al. 2011, eq. 4
    saturating      ||x - g(f(W x + b))||^2 + alpha sum_i f_c(W x + b)  Goroshin & LeCun 2013, eq. 1
                    (the sum over every encoding layer's units, maps and positions for a stack)
    rank-ordered    sum_k ||x - S_k||^2                                Bertens 2016
    VAE             -L(x), the negative evidence lower bound          Kingma & Welling 2014, eq. 10

L_H is the cross-entropy of a sigmoid decoder (aelib.models.losses). Adding a method takes one
entry here, one test (tests/test_regularizers.py) and one grid in a study's profile.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import torch

from aelib.models.losses import cross_entropy, reconstruction_cross_entropy, squared_error
from aelib.models.rank_ordered import rank_ordered_loss_gram
from aelib.models.vae import elbo
from aelib.penalties.contractive import contractive_penalty
from aelib.penalties.corruption import masking_noise
from aelib.penalties.saturation import saturation_penalty
from aelib.penalties.sparsity import kl_sparsity, l1_activity

Loss = Callable[[torch.Tensor], torch.Tensor]


def weight_decay(weights: Iterable[torch.Tensor], lam: float) -> torch.Tensor:
    """(lambda / 2) sum_l sum_ij (W_ij^(l))^2 over the weight matrices only, not the biases
    (CS294A notes, sec. 2, the second term of J(W, b)). The one weight-decay convention of aelib."""
    return lam / 2 * sum(w.pow(2).sum() for w in weights)


def weight_decay_groups(parameters: Iterable[torch.Tensor], decayed: Iterable[torch.Tensor],
                        lam: float) -> list[dict]:
    """Optimizer parameter groups that apply `weight_decay(decayed, lam)` inside the optimizer's step:
    torch's SGD, Adagrad and Adam with weight_decay=lambda add lambda W to the gradient of each decayed
    weight W, which is the gradient of (lambda / 2) sum W^2 (AdamW's decoupled decay is another rule:
    not for it). The same training as the term in the loss, without its extra passes over the weights
    in every step; the loss that training records is then the data term alone. The parameters not in
    `decayed` form a second group, without decay."""
    decayed = list(decayed)
    chosen = {id(w) for w in decayed}
    return [{"params": decayed, "weight_decay": lam},
            {"params": [p for p in parameters if id(p) not in chosen], "weight_decay": 0.0}]


def weight_matrices(model: torch.nn.Module) -> list[torch.Tensor]:
    """The encoder's and, when untied, the decoder's weight matrix: what weight decay penalises."""
    return [w for w in (model.weight, getattr(model, "decoder_weight", None)) if w is not None]


def _plain(model, x, weight, generator, **options):
    return reconstruction_cross_entropy(model, x)


def _weight_decay(model, x, weight, generator, **options):
    return reconstruction_cross_entropy(model, x) + weight_decay(weight_matrices(model), weight)


def _l1_activity(model, x, weight, generator, **options):
    h = model.encode(x)
    return cross_entropy(model.decoder_pre_activation(h), x) + weight * l1_activity(h)


def _kl_sparsity(model, x, weight, generator, *, kl_target: float, **options):
    h = model.encode(x)
    return cross_entropy(model.decoder_pre_activation(h), x) + weight * kl_sparsity(h, kl_target)


def _denoising(model, x, weight, generator, **options):
    return reconstruction_cross_entropy(model, x, masking_noise(x, weight, generator))


def _contractive(model, x, weight, generator, **options):
    return reconstruction_cross_entropy(model, x) + weight * contractive_penalty(model, x)


def _saturating(model, x, weight, generator, *, masking_fraction: float = 0.0, **options):
    inputs = masking_noise(x, masking_fraction, generator) if masking_fraction > 0 else x
    layers = model.pre_activations(inputs) if hasattr(model, "pre_activations") else [model.pre_activation(inputs)]
    penalty = sum(saturation_penalty(z, model.encoder_activation_name, weight, model.shrink_threshold) for z in layers)
    return squared_error(model.decode(model.encoder_activation(layers[-1])), x) + penalty


def _rank_ordered(model, x, weight, generator, **options):
    return rank_ordered_loss_gram(model.encode(x), model.weight, x)


def _negative_elbo(model, x, weight, generator, **options):
    return -elbo(model, x, generator).bound.mean()


@dataclass(frozen=True)
class Regularizer:
    """One method: its name, the symbol of its weight (None when it has none) and its loss
    (model, x, weight, generator, **options) -> the minibatch's mean loss."""
    name: str
    weight_symbol: str | None
    loss: Callable[..., torch.Tensor]
    source: str


REGULARIZERS: dict[str, Regularizer] = {entry.name: entry for entry in (
    Regularizer("plain AE", None, _plain, "Vincent et al. 2008, eq. 2"),
    Regularizer("weight decay", "lambda", _weight_decay, "CS294A notes, sec. 2"),
    Regularizer("L1 activity", "lambda", _l1_activity, "L1 penalty on the code"),
    Regularizer("KL sparsity", "beta", _kl_sparsity, "CS294A notes, sec. 3 (option kl_target: rho)"),
    Regularizer("denoising", "nu", _denoising, "Vincent et al. 2008, sec. 2.3"),
    Regularizer("contractive", "lambda", _contractive, "Rifai et al. 2011, eq. 4"),
    Regularizer("saturating", "alpha", _saturating,
                "Goroshin & LeCun 2013, eq. 1 (option masking_fraction: the denoising variant)"),
    Regularizer("rank-ordered", None, _rank_ordered, "Bertens 2016"),
    Regularizer("VAE", None, _negative_elbo, "Kingma & Welling 2014, eq. 10"),
)}


def regularizer(name: str) -> Regularizer:
    """The entry called `name`; a clear error lists the known ones."""
    if name not in REGULARIZERS:
        raise ValueError(f"unknown regularizer {name!r}; known: {', '.join(REGULARIZERS)}")
    return REGULARIZERS[name]


def training_loss(name: str, model: torch.nn.Module, weight: float = 0.0, *,
                  generator: torch.Generator | None = None, **options) -> Loss:
    """x -> the mean training loss of method `name` for `model` at `weight` on minibatch x.
    `generator` draws the method's randomness (masking noise, the VAE's samples); `options`
    are the method's own settings (kl_target for KL sparsity, masking_fraction for saturating)."""
    entry = regularizer(name)
    if entry.weight_symbol is None and weight != 0:
        raise ValueError(f"{name} has no weight to set, got {weight!r}; pass 0")
    if isinstance(weight, (int, float)) and weight < 0:
        raise ValueError(f"the weight {entry.weight_symbol} of {name} must be >= 0, got {weight!r}")
    return lambda x: entry.loss(model, x, weight, generator, **options)
