"""What study 06 trains and measures (Rifai et al. 2011): the tied sigmoid autoencoder with each of four
regularizers (AE, AE+wd, DAE, CAE), from the same initial weights, and one row of measures per model.

A candidate is trained with Adam on the registry's training loss (`aelib.penalties.regularizers`); its
validation loss is the clean reconstruction cross-entropy, -sum_i [x_i log x^_i + (1 - x_i) log(1 - x^_i)]
in nats per digit. Its measures (`candidate_measures`): the mean Jacobian norm ||J_f(x)||_F from the closed
form of a sigmoid encoder (eq. 5), ||J_f(x)||_F^2 = sum_j (h_j (1 - h_j))^2 ||W_j||^2; the fraction of
saturated units (h_j < margin or h_j > 1 - margin, the paper's 0.05); the mean activation; the clean test
cross-entropy; and a linear probe's test accuracy on the codes.
"""

from __future__ import annotations

import copy
import time

import torch

from aelib.measures.linear_probe import fit_linear_probe
from aelib.measures.saturation import sigmoid_saturated_fraction
from aelib.models.autoencoders import Autoencoder
from aelib.models.losses import reconstruction_cross_entropy
from aelib.penalties.contractive import sigmoid_jacobian_norm_squared
from aelib.penalties.regularizers import training_loss
from aelib.training.loop import evaluate, train

REGULARIZER_OF = {"AE": "plain AE", "AE+wd": "weight decay", "DAE": "denoising", "CAE": "contractive"}


def clean_cross_entropy(model: Autoencoder):
    """The reconstruction cross-entropy of clean inputs (nats per digit), as a loss function."""
    return lambda x: reconstruction_cross_entropy(model, x)


def fit_candidate(initial_model: Autoencoder, kind: str, weight: float, train_images: torch.Tensor,
                  validation_images: torch.Tensor, *, epochs: int, batch_size: int, learning_rate: float, seed: int,
                  device: torch.device | str = "cpu") -> tuple[Autoencoder, list[dict], float]:
    """Train a copy of `initial_model` with regularizer `kind` (a key of REGULARIZER_OF) at `weight`, its
    noise drawn with seed + 1 and its minibatch order with seed + 2; return the model, its history (the
    clean validation cross-entropy as the test loss) and the training seconds."""
    model = copy.deepcopy(initial_model)
    loss = training_loss(REGULARIZER_OF[kind], model, weight, generator=torch.Generator(device=device).manual_seed(seed + 1))
    clock = time.perf_counter()
    history = train(loss, torch.optim.Adam(model.parameters(), lr=learning_rate), train_images, epochs=epochs,
                    batch_size=batch_size, test_data=validation_images, test_loss_fn=clean_cross_entropy(model),
                    generator=torch.Generator().manual_seed(seed + 2), description=f"{kind} {weight:g}")
    return model, history, time.perf_counter() - clock


def code_probe(model: Autoencoder, images: torch.Tensor, labels: torch.Tensor, seed: int):
    """A linear probe (`fit_linear_probe`) fitted on the model's codes of `images`."""
    with torch.no_grad():
        return fit_linear_probe(model.encode(images), labels, seed=seed)


def probe_score(probe, model: Autoencoder, images: torch.Tensor, labels: torch.Tensor) -> float:
    """The probe's accuracy on the model's codes of `images`."""
    with torch.no_grad():
        return float(probe.score(model.encode(images).cpu().numpy(), labels.numpy()))


def candidate_measures(model: Autoencoder, probe, evaluation: torch.Tensor, test_images: torch.Tensor,
                       test_labels: torch.Tensor, saturation_margin: float) -> dict:
    """A trained candidate's measures (see the module's docstring): the Jacobian, saturation and mean
    activation on the `evaluation` digits, the cross-entropy and the probe's accuracy on the test set."""
    with torch.no_grad():
        h = model.encode(evaluation)
        return {"jacobian_frobenius_norm": sigmoid_jacobian_norm_squared(model, evaluation).sqrt().mean().item(),
                "saturated_fraction": sigmoid_saturated_fraction(h, saturation_margin, 1 - saturation_margin).mean().item(),
                "mean_activation": h.mean().item(),
                "test_cross_entropy_nats": evaluate(clean_cross_entropy(model), test_images),
                "test_probe_accuracy": probe_score(probe, model, test_images, test_labels)}
