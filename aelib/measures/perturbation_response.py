"""How one trained autoencoder responds to perturbed inputs: every measure of the saturating study's table.

For a model with encoder h = f(x) and reconstruction x^ = g(f(x)), on a set of clean inputs x:
- the sensitivity ratio ||h(x + d) - h(x)|| / ||d|| of the code and of the reconstruction
  (aelib.measures.sensitivity), for random d at each of several norms, and for worst-case d
  of norm epsilon found with gradients (PGD) and without (a random search);
- the code Jacobian's Frobenius norm ||J||_F = sqrt(sum_k s_k^2) and spectral norm ||J||_2 = s_1,
  from its singular values s_k (aelib.measures.spectra), averaged over the inputs;
- a linear probe's accuracy on clean codes and on the codes of each perturbed input;
- and, with them, its clean reconstruction error and saturated fraction (`response_row`, one row of
  the table).
"""

from __future__ import annotations

import torch

from aelib.measures.linear_probe import fit_linear_probe
from aelib.measures.saturation import saturated_fraction
from aelib.measures.sensitivity import (
    pgd_perturbations,
    random_perturbations,
    random_search_perturbations,
    sensitivity_ratio,
)
from aelib.measures.spectra import jacobian_singular_values
from aelib.models.losses import squared_error


def perturbation_response(model: torch.nn.Module, x: torch.Tensor, *, norms: list[float], attack_norm: float,
                          attack_steps: int, generator: torch.Generator) -> tuple[dict, dict[str, torch.Tensor]]:
    """The code and reconstruction ratios (`code_ratio_random_<norm>`, `reconstruction_ratio_random_<norm>`,
    then `..._pgd`, `..._search` at `attack_norm`), and the perturbations of norm `attack_norm` used
    (random, pgd, search). Every draw comes from `generator`, in that order."""
    row = {}
    for norm in norms:
        d = random_perturbations(x, norm, generator)
        row[f"code_ratio_random_{norm:g}"] = sensitivity_ratio(model.encode, x, d).mean().item()
        row[f"reconstruction_ratio_random_{norm:g}"] = sensitivity_ratio(model, x, d).mean().item()
    attacks = {"random": random_perturbations(x, attack_norm, generator),
               "pgd": pgd_perturbations(model.encode, x, attack_norm, attack_steps, generator=generator),
               "search": random_search_perturbations(model.encode, x, attack_norm, attack_steps, generator=generator)}
    for attack in ("pgd", "search"):
        row[f"code_ratio_{attack}"] = sensitivity_ratio(model.encode, x, attacks[attack]).mean().item()
        row[f"reconstruction_ratio_{attack}"] = sensitivity_ratio(model, x, attacks[attack]).mean().item()
    return row, attacks


def jacobian_norms(encode, x: torch.Tensor) -> dict:
    """The code Jacobian's mean Frobenius norm and mean spectral norm over the rows of x."""
    singular_values = jacobian_singular_values(encode, x)
    return {"jacobian_frobenius": singular_values.square().sum(dim=1).sqrt().mean().item(),
            "jacobian_spectral": singular_values[:, 0].mean().item()}


def probe_accuracies(probe, encode, x: torch.Tensor, labels: torch.Tensor, perturbations: dict[str, torch.Tensor]) -> dict:
    """A fitted probe's accuracy on the clean codes (`probe_accuracy_clean`) and on the codes of x + d
    for each named perturbation d (`probe_accuracy_<name>`)."""
    with torch.no_grad():
        row = {"probe_accuracy_clean": probe.score(encode(x).cpu().numpy(), labels.numpy())}
        for name, d in perturbations.items():
            row[f"probe_accuracy_{name}"] = probe.score(encode(x + d).cpu().numpy(), labels.numpy())
    return row


def response_row(model: torch.nn.Module, x: torch.Tensor, labels: torch.Tensor, probe_images: torch.Tensor,
                 probe_labels: torch.Tensor, *, activation: str, shrink_threshold: float, norms: list[float],
                 attack_norm: float, attack_steps: int, generator: torch.Generator, seed: int,
                 dense: bool = True) -> dict:
    """One model's row of the saturating study's table, on the clean inputs x: its reconstruction error
    (squared, per input), the fraction of its units saturated (`saturated_fraction` of `activation`), then
    `perturbation_response`'s ratios (every draw from `generator`); for a dense model also
    `jacobian_norms` and the `probe_accuracies` of a linear probe fitted (seeded by `seed`) on the codes
    of `probe_images`."""
    with torch.no_grad():
        row = {"reconstruction_error": squared_error(model(x), x).item(),
               "saturated_fraction": saturated_fraction(model.pre_activation(x), activation,
                                                        shrink_threshold).mean().item()}
    ratios, attacks = perturbation_response(model, x, norms=norms, attack_norm=attack_norm,
                                            attack_steps=attack_steps, generator=generator)
    row.update(ratios)
    if dense:
        row.update(jacobian_norms(model.encode, x))
        with torch.no_grad():
            probe = fit_linear_probe(model.encode(probe_images), probe_labels, seed=seed)
        row.update(probe_accuracies(probe, model.encode, x, labels, attacks))
    return row
