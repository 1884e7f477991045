"""K autoencoders of one shape trained as one model: a sweep in a single training loop.

A sweep (noise levels, penalty weights, seeds) trains K models that differ only in a
setting. Stacking their weights as [K, ...] tensors and using batched matrix products
runs one Python step for all K instead of K steps. Each model's loss depends only on
its own slice of the weights, so the gradient of the summed loss gives every slice the
gradient it would get alone, and elementwise optimizers (SGD, Adam) then update each
slice exactly as a separate run would, up to floating-point rounding.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from aelib.models import Autoencoder

PARAMETER_NAMES = ("weight", "hidden_bias", "visible_bias", "decoder_weight")


class BatchedAutoencoder(nn.Module):
    """K one-hidden-layer autoencoders of one shape, weights stacked along a first axis.

    Inputs are [B, n_visible] (the same minibatch for every model) or
    [K, B, n_visible] (e.g. each model's own corruption of it); outputs are [K, B, ...].
    """

    def __init__(self, models: list[Autoencoder]):
        super().__init__()
        self.settings = _settings(models[0])
        if any(_settings(model) != self.settings for model in models):
            raise ValueError("a batched sweep needs models of one shape, tying and activations")
        self.n_models = len(models)
        self.tied = self.settings["tied"]
        # the first model's own units (e.g. a shrink with its threshold); a tuple keeps the
        # template out of this module's parameters
        self._template = (copy.deepcopy(models[0]).requires_grad_(False),)
        self.encoder_activation = models[0].encoder_activation
        self.decoder_activation = models[0].decoder_activation
        for name in PARAMETER_NAMES:  # weight [K, H, V], biases [K, H] and [K, V], decoder [K, V, H]
            values = [getattr(model, name) for model in models]
            setattr(self, name, None if values[0] is None else nn.Parameter(torch.stack([v.detach() for v in values])))

    def pre_activation(self, x: torch.Tensor) -> torch.Tensor:
        """W_k x + b_k for every model k: [K, B, H]."""
        if x.ndim == 2:
            return torch.einsum("bv,khv->kbh", x, self.weight) + self.hidden_bias[:, None, :]
        return torch.baddbmm(self.hidden_bias[:, None, :], x, self.weight.transpose(1, 2))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder_activation(self.pre_activation(x))

    def decoder_pre_activation(self, h: torch.Tensor) -> torch.Tensor:
        weight = self.weight if self.tied else self.decoder_weight.transpose(1, 2)  # [K, H, V]
        return torch.baddbmm(self.visible_bias[:, None, :], h, weight)

    def decode(self, h: torch.Tensor) -> torch.Tensor:
        return self.decoder_activation(self.decoder_pre_activation(h))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))

    def filters(self) -> torch.Tensor:
        """Every model's encoder weights: [K, n_hidden, n_visible]."""
        return self.weight.detach()

    def unstack(self) -> list[Autoencoder]:
        """The K models as separate Autoencoders holding copies of their trained weights."""
        models = []
        for k in range(self.n_models):
            model = copy.deepcopy(self._template[0]).requires_grad_(True).to(self.weight.device)
            with torch.no_grad():
                for name in PARAMETER_NAMES:
                    if getattr(self, name) is not None:
                        getattr(model, name).copy_(getattr(self, name)[k])
            models.append(model)
        return models


def _settings(model: Autoencoder) -> dict:
    return dict(n_visible=model.n_visible, n_hidden=model.n_hidden, tied=model.tied,
                encoder_activation=model.encoder_activation_name,
                decoder_activation=model.decoder_activation_name, shrink_threshold=model.shrink_threshold)


def split_history(history: list[dict], n_models: int) -> list[list[dict]]:
    """Per-model histories from the rows of a batched run (whose losses are lists)."""
    return [[{key: value[k] if isinstance(value, list) else value for key, value in row.items()}
             for row in history] for k in range(n_models)]
