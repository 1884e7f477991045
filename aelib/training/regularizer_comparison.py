"""Every regularizer on one footing (study 07): the model each method trains, how its code is read, and
one run's measures, the same for every method.

A method is an entry of the regularizer registry (`aelib.penalties.regularizers`) with a grid of weights
and an architecture: the tied sigmoid autoencoder for the sigmoid penalties (weight decay, L1 activity,
KL sparsity, denoising, contractive), saturated linear units for the saturating AE (Goroshin & LeCun
2013), the rank-ordered autoencoder (Bertens 2016) and the VAE (Kingma & Welling 2013), whose code is
the posterior mean mu(x). Every run is measured by one code (`train_and_measure`): the clean test
reconstruction error sum_i (x^_i - x_i)^2, Hoyer's sparsity, the saturated fraction, the mean Jacobian
norm ||J_f(x)||_F (Rifai et al. 2011, eq. 2), the sensitivity ratios ||f(x + d) - f(x)|| / ||d|| to random
and worst-case (projected gradient ascent) perturbations, and a linear probe's accuracy on validation
(the selection criterion) and on test codes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from aelib.measures.linear_probe import fit_linear_probe
from aelib.measures.saturation import saturated_fraction, sigmoid_saturated_fraction
from aelib.measures.sensitivity import pgd_perturbations, random_perturbations, sensitivity_ratio
from aelib.models.autoencoders import Autoencoder
from aelib.models.rank_ordered import RankOrderedAutoencoder, hoyer_sparsity
from aelib.models.vae import VAE
from aelib.penalties.contractive import autograd_jacobian_norm_squared
from aelib.penalties.regularizers import regularizer, training_loss
from aelib.penalties.saturation import saturating_autoencoder
from aelib.training.loop import train


@dataclass(frozen=True)
class Architecture:
    """The model a method trains, and how its code is read (the same measures for every method)."""
    build: Callable           # generator -> model
    code: Callable            # model -> (x -> code), differentiable with the true derivative
    reconstruct: Callable     # model -> (x -> x^)
    saturated: Callable       # (model, x) -> saturated fraction per example


def architectures(n_hidden: int, n_visible: int = 784) -> dict[str, Architecture]:
    """The four architectures of the comparison, each with `n_hidden` code units."""
    return {
        "sigmoid": Architecture(
            build=lambda generator: Autoencoder(n_visible, n_hidden, tied=True, generator=generator),
            code=lambda model: model.encode, reconstruct=lambda model: model,
            saturated=lambda model, x: sigmoid_saturated_fraction(model.encode(x))),
        "saturated linear": Architecture(
            build=lambda generator: saturating_autoencoder(n_visible, n_hidden, "saturated_linear", generator=generator),
            code=lambda model: model.encode, reconstruct=lambda model: model,
            saturated=lambda model, x: saturated_fraction(model.pre_activation(x), "saturated_linear")),
        "rank-ordered": Architecture(  # its code clip(W x + b, 0, 1), with the true derivative rather than TReLU's
            build=lambda generator: RankOrderedAutoencoder(n_visible, n_hidden, generator=generator),
            code=lambda model: (lambda x: model.pre_activation(x).clamp(0.0, 1.0)), reconstruct=lambda model: model,
            saturated=lambda model, x: saturated_fraction(model.pre_activation(x), "saturated_linear")),
        "VAE": Architecture(  # its code is the posterior mean
            build=lambda generator: VAE(n_visible, n_hidden, n_hidden, decoder="bernoulli", generator=generator),
            code=lambda model: (lambda x: model.encode(x)[0]), reconstruct=lambda model: model.reconstruct,
            saturated=lambda model, x: torch.zeros(len(x), device=x.device)),
    }


ARCHITECTURE_OF = {"saturating": "saturated linear", "rank-ordered": "rank-ordered", "VAE": "VAE"}  # others: sigmoid


@dataclass(frozen=True)
class Method:
    """A regularizer of aelib.penalties.regularizers, its grid of weights and its architecture."""
    name: str
    grid: list
    architecture: Architecture

    @property
    def weight_name(self) -> str:
        return regularizer(self.name).weight_symbol or "-"

    @property
    def sigmoid_penalty(self) -> bool:
        """A weighted penalty on the sigmoid autoencoder: its weight path starts at the plain AE."""
        return ARCHITECTURE_OF.get(self.name, "sigmoid") == "sigmoid" and self.weight_name != "-"

    def setting(self, weight: float) -> str:
        """The weight as the tables show it ("lambda=0.1"; "-" for a method without one)."""
        return f"{self.weight_name}={weight:g}" if self.weight_name != "-" else "-"


def methods_from_grids(grids: dict[str, list], n_hidden: int) -> list[Method]:
    """One Method per entry of `grids` (registry name -> weights), on its architecture."""
    parts = architectures(n_hidden)
    return [Method(name, grid, parts[ARCHITECTURE_OF.get(name, "sigmoid")]) for name, grid in grids.items()]


@dataclass(frozen=True)
class ComparisonData:
    """The digits every run trains and is measured on (already on the device; labels on the CPU)."""
    train_images: torch.Tensor
    train_labels: torch.Tensor
    validation_images: torch.Tensor
    validation_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor
    evaluation_images: torch.Tensor  # the test subset the Jacobian and the sensitivities are measured on


@dataclass(frozen=True)
class ComparisonBudget:
    """What every method gets alike: its training, the probe's training codes, the perturbations."""
    epochs: int
    batch_size: int
    learning_rate: float
    kl_target: float
    probe_train_size: int
    perturbation_norm: float
    attack_steps: int


def in_batches(function: Callable, x: torch.Tensor, size: int = 500) -> torch.Tensor:
    """function(x) computed `size` rows at a time without gradients, concatenated."""
    with torch.no_grad():
        return torch.cat([function(x[i:i + size]) for i in range(0, len(x), size)])


def train_and_measure(method: Method, weight: float, run_seed: int, data: ComparisonData, budget: ComparisonBudget,
                      device: torch.device | str = "cpu") -> dict:
    """Train `method` at `weight` with Adam from initial weights drawn with `run_seed` (its noise from
    run_seed + 1, its minibatch order from run_seed + 2, its perturbations from run_seed + 3), then
    measure it: one row of the comparison (see the module's docstring)."""
    parts = method.architecture
    model = parts.build(torch.Generator().manual_seed(run_seed)).to(device)
    loss = training_loss(method.name, model, weight, kl_target=budget.kl_target,
                         generator=torch.Generator(device=device).manual_seed(run_seed + 1))
    history = train(loss, torch.optim.Adam(model.parameters(), lr=budget.learning_rate),
                    data.train_images, epochs=budget.epochs, batch_size=budget.batch_size,
                    generator=torch.Generator().manual_seed(run_seed + 2), progress=False)
    model.eval()
    code, reconstruct = parts.code(model), parts.reconstruct(model)
    test_codes = in_batches(code, data.test_images)
    probe = fit_linear_probe(in_batches(code, data.train_images[:budget.probe_train_size]),
                             data.train_labels[:budget.probe_train_size], seed=run_seed)
    evaluation = data.evaluation_images
    jacobian_norm = torch.cat([autograd_jacobian_norm_squared(code, evaluation[i:i + 100]).sqrt()
                               for i in range(0, len(evaluation), 100)])
    perturbations = torch.Generator(device=device).manual_seed(run_seed + 3)
    random_d = random_perturbations(evaluation, budget.perturbation_norm, perturbations)
    worst_d = pgd_perturbations(code, evaluation, budget.perturbation_norm, budget.attack_steps, generator=perturbations)
    hoyer = hoyer_sparsity(test_codes)
    return {
        "method": method.name, "seed": run_seed, "setting": method.setting(weight), "weight": weight,
        "reconstruction_error": in_batches(lambda x: (reconstruct(x) - x).pow(2).sum(dim=1), data.test_images).mean().item(),
        "hoyer_sparsity": hoyer[torch.isfinite(hoyer)].mean().item(),
        "saturated_fraction": in_batches(lambda x: parts.saturated(model, x), data.test_images).mean().item(),
        "jacobian_norm": jacobian_norm.mean().item(),
        "random_sensitivity": sensitivity_ratio(code, evaluation, random_d).mean().item(),
        "worst_case_sensitivity": sensitivity_ratio(code, evaluation, worst_d).mean().item(),
        "validation_probe_accuracy": float(probe.score(in_batches(code, data.validation_images).cpu().numpy(),
                                                       data.validation_labels.numpy())),
        "probe_accuracy": float(probe.score(test_codes.cpu().numpy(), data.test_labels.numpy())),
        "train_seconds": sum(row["seconds"] for row in history),
        "final_train_loss": history[-1]["train_loss"],
    }
