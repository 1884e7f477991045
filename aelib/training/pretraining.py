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
import time
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
from aelib.training.loop import evaluate, train


def new_stack(n_visible: int, hidden_sizes: list[int], generator: torch.Generator | None = None) -> StackedAutoencoder:
    """An untrained stack of tied sigmoid autoencoders n_visible -> hidden_sizes[0] -> ..."""
    sizes = [n_visible, *hidden_sizes]
    return StackedAutoencoder([Autoencoder(a, b, tied=True, generator=generator) for a, b in zip(sizes, sizes[1:])])


def layer_loss(layer: Autoencoder, *, noise: float = 0.0, contraction: float = 0.0,
               generator: torch.Generator | None = None):
    """The per-layer pretraining loss: reconstruction cross-entropy L_H(x, g(f(x~)))
    (Vincent et al. 2008, eq. 2), with x~ = x masked at fraction `noise` (sec. 2.3; x~ = x
    when 0), plus contraction * ||J_f(x)||_F^2 (Rifai et al. 2011, eq. 2) when > 0."""
    def loss(x: torch.Tensor) -> torch.Tensor:
        corrupted = masking_noise(x, noise, generator) if noise > 0 else x
        reconstruction = reconstruction_cross_entropy(layer, x, corrupted)
        if contraction > 0:
            reconstruction = reconstruction + contraction * contractive_penalty(layer, x)
        return reconstruction
    return loss


def pretrain_layer(layer: Autoencoder, inputs: torch.Tensor, *, epochs: int, batch_size: int,
                   learning_rate: float, noise: float = 0.0, contraction: float = 0.0,
                   generator: torch.Generator | None = None, description: str = "layer") -> list[dict]:
    """Train one autoencoder by minibatch SGD on `layer_loss`; returns its per-epoch rows."""
    generator = generator if generator is not None else torch.Generator().manual_seed(0)
    loss = layer_loss(layer, noise=noise, contraction=contraction, generator=generator)
    return train(loss, torch.optim.SGD(layer.parameters(), lr=learning_rate), inputs, epochs=epochs,
                 batch_size=batch_size, generator=generator, progress=False, description=description)


def greedy_layerwise_pretraining(stack: StackedAutoencoder, inputs: torch.Tensor, *, epochs: int,
                                 batch_size: int, learning_rate: float, noise: float = 0.0,
                                 contraction: float = 0.0, seed: int = 0) -> list[list[dict]]:
    """Steps 1-2 of the recipe (Bengio et al. 2007, sec. 2): layer k is trained, alone, to
    reconstruct the codes of layers 1..k-1, computed once with their trained weights.
    Returns one history per layer."""
    histories = []
    for depth, layer in enumerate(stack.layers):
        with torch.no_grad():
            codes = stack.encode(inputs, depth)
        histories.append(pretrain_layer(layer, codes, epochs=epochs, batch_size=batch_size,
                                        learning_rate=learning_rate, noise=noise, contraction=contraction,
                                        generator=torch.Generator().manual_seed(seed + depth),
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


@dataclass(frozen=True)
class Recipe:
    """The settings every candidate of a layer-wise study shares: the stack's shape, and the SGD of
    pretraining (per layer) and of fine-tuning."""
    hidden_units: int
    n_layers: int
    pretraining_epochs: int
    pretraining_batch_size: int
    pretraining_learning_rate: float
    finetuning_max_epochs: int
    finetuning_patience: int
    finetuning_batch_size: int
    finetuning_learning_rate: float


VARIANTS = ("random", "SAA-3", "SdA-3", "SCAE-3")  # SdA-3's value: a masking fraction; SCAE-3's: lambda


def pretrain_and_fine_tune(recipe: Recipe, variant: str, value: float | None, seed: int, *, dataset: str,
                           data_dir=None, split_seed: int = 0, device: str = "cpu") -> dict:
    """One candidate of the recipe, from data to a fine-tuned network, all of it seeded by `seed`
    (initial weights; pretraining order and noise from seed + 1 on; fine-tuning order from seed + 2)
    on the split drawn with `split_seed`: `variant` is "random" (no pretraining), "SAA-3", "SdA-3"
    (masking fraction `value`) or "SCAE-3" (contraction weight `value`). It loads its own data, so
    that candidates can run in processes of their own (`aelib.training.processes.run_side_by_side`).

    Returns the fine-tuning history, the best validation error and its epoch, the first layer's
    filters after pretraining, the fine-tuned network's state (CPU tensors) and the seconds of each
    stage. The test set is not touched."""
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    split, _ = load_mnist_basic(dataset, data_dir, seed=split_seed)
    stack = new_stack(784, [recipe.hidden_units] * recipe.n_layers, torch.Generator().manual_seed(seed)).to(device)
    train_x, valid_x = split.train_images.to(device), split.valid_images.to(device)
    clock = time.perf_counter()
    if variant != "random":
        greedy_layerwise_pretraining(stack, train_x, epochs=recipe.pretraining_epochs,
                                     batch_size=recipe.pretraining_batch_size,
                                     learning_rate=recipe.pretraining_learning_rate, seed=seed + 1,
                                     noise=value if variant == "SdA-3" else 0.0,
                                     contraction=value if variant == "SCAE-3" else 0.0)
    pretraining_seconds = time.perf_counter() - clock
    pretrained_filters = stack.layers[0].filters().cpu().clone()
    classifier = classifier_from_stack(stack).to(device)
    clock = time.perf_counter()
    history = fine_tune(classifier, train_x, split.train_labels.to(device), valid_x, split.valid_labels.to(device),
                        max_epochs=recipe.finetuning_max_epochs, patience=recipe.finetuning_patience,
                        batch_size=recipe.finetuning_batch_size, learning_rate=recipe.finetuning_learning_rate,
                        seed=seed + 2)
    best = next(row for row in history if row["is_best"])
    return {"variant": variant, "value": value, "seed": seed, "history": history, "valid_error": best["valid_error"],
            "best_epoch": best["epoch"], "pretrained_filters": pretrained_filters,
            "classifier_state": {k: v.cpu() for k, v in classifier.state_dict().items()},
            "pretraining_seconds": pretraining_seconds, "finetuning_seconds": time.perf_counter() - clock}


def classifier_from_state(state: dict, recipe: Recipe, n_classes: int = 10) -> DeepClassifier:
    """The fine-tuned network that `pretrain_and_fine_tune` returned the state of."""
    classifier = classifier_from_stack(new_stack(784, [recipe.hidden_units] * recipe.n_layers), n_classes)
    classifier.load_state_dict(state)
    return classifier
