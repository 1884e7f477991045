"""K models trained as one: a sweep in a single training loop.

A sweep (noise levels, penalty weights, seeds, latent sizes) trains K models that differ
only in a setting. Stacking their weights as [K, ...] tensors and using batched matrix
products runs one Python step for all K instead of K steps. Each model's loss depends only
on its own slice of the weights, so the gradient of the summed loss gives every slice the
gradient it would get alone, and elementwise optimizers (SGD, Adam, Adagrad) then update
each slice exactly as a separate run would, up to floating-point rounding.

`BatchedAutoencoder` stacks K one-hidden-layer autoencoders of one shape; `BatchedVAE`
stacks K VAEs that share their hidden size but may differ in their latent size (Kingma &
Welling's figure 2 sweeps N_z), so that their two large layers run as one product each.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from aelib.models.autoencoders import Autoencoder
from aelib.models.vae import VAE, Elbo, bernoulli_log_likelihood, bounded_log_variance, gaussian_kl_to_standard_normal

PARAMETER_NAMES = ("weight", "hidden_bias", "visible_bias", "decoder_weight")
Generators = torch.Generator | list[torch.Generator] | None  # one for all models, or one per model


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


class BatchedVAE(nn.Module):
    """K Bernoulli VAEs (aelib.models.vae.VAE) of one input and hidden size, whose latent sizes J_k may differ.

    The two large layers are stacked: the encoders' first layers W1_k [H, V] as one [K, H, V]
    tensor, so that h_k = act(W1_k x + b1_k) of all K models is ONE product x [B, V] times
    [V, K * H], and the decoders' output layers W5_k [V, H], transposed, as one [K, H, V] tensor
    (the layout the batched product reads without a copy), applied by one batched product. The small layers that depend on J_k stay one per model: the encoder's
    heads mu and log sigma^2 (kept as one [2 J_k, H] layer: mean rows first) and the decoder's
    first layer W4_k [H, J_k]. All K models see the same minibatch x [B, V] (with a dynamic
    binarization: the same draw, common random numbers); everything is returned per model,
    as [K, B, ...] tensors or lists of K tensors [B, J_k].
    """

    def __init__(self, models: list[VAE]):
        super().__init__()
        first = models[0]
        settings = [(m.n_visible, m.n_hidden, m.hidden_activation_name, m.decoder, m.log_variance_limit)
                    for m in models]
        if any(s != settings[0] for s in settings) or first.decoder != "bernoulli":
            raise ValueError("a batched VAE needs Bernoulli VAEs of one input size, hidden size, activation "
                             f"and log-variance bound, got {settings}")
        self.n_visible, self.n_hidden, self.n_models = first.n_visible, first.n_hidden, len(models)
        self.latent_sizes = [m.n_latent for m in models]
        self.hidden_activation_name, self.activation = first.hidden_activation_name, first.activation
        self.log_variance_limit = first.log_variance_limit

        def stacked(tensors):
            return nn.Parameter(torch.stack([t.detach() for t in tensors]).clone())

        self.encoder_hidden_weight = stacked([m.encoder_hidden.weight for m in models])     # [K, H, V]
        self.encoder_hidden_bias = stacked([m.encoder_hidden.bias for m in models])         # [K, H]
        self.encoder_heads = nn.ModuleList()
        for m in models:
            head = nn.Linear(self.n_hidden, 2 * m.n_latent)
            with torch.no_grad():
                head.weight.copy_(torch.cat([m.encoder_mean.weight, m.encoder_log_variance.weight]))
                head.bias.copy_(torch.cat([m.encoder_mean.bias, m.encoder_log_variance.bias]))
            self.encoder_heads.append(head.to(m.encoder_mean.weight))
        self.decoder_hidden = nn.ModuleList(copy.deepcopy(m.decoder_hidden) for m in models)
        self.decoder_output_weight = stacked([m.decoder_output.weight.T for m in models])   # [K, H, V]: W5_k^T
        self.decoder_output_bias = stacked([m.decoder_output.bias for m in models])         # [K, V]

    def pre_activation(self, x: torch.Tensor) -> torch.Tensor:
        """W1_k x + b1_k of every model, one product: [B, K, H]."""
        weight = self.encoder_hidden_weight.reshape(self.n_models * self.n_hidden, self.n_visible)
        z = torch.addmm(self.encoder_hidden_bias.reshape(-1), x, weight.T)
        return z.view(len(x), self.n_models, self.n_hidden)

    def encode(self, x: torch.Tensor) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """Each model's mean and (bounded) log-variance of q(z|x): two lists of K tensors [B, J_k]."""
        hidden = self.activation(self.pre_activation(x)).unbind(1)  # one backward (a stack) for all K slices
        means, log_variances = [], []
        for head, h in zip(self.encoder_heads, hidden):
            mean, raw = head(h).chunk(2, dim=-1)
            means.append(mean)
            log_variances.append(bounded_log_variance(raw, self.log_variance_limit))
        return means, log_variances

    def decoder_output_layer(self, zs: list[torch.Tensor]) -> torch.Tensor:
        """y_k = W5_k act(W4_k z_k + b4_k) + b5_k of every model: the Bernoulli logits [K, B, V]."""
        hidden = torch.stack([self.activation(layer(z)) for layer, z in zip(self.decoder_hidden, zs)])
        return torch.baddbmm(self.decoder_output_bias[:, None, :], hidden, self.decoder_output_weight)

    def log_likelihood(self, x: torch.Tensor, zs: list[torch.Tensor]) -> torch.Tensor:
        """log p(x|z_k) of every model, per example: [K, B]."""
        logits = self.decoder_output_layer(zs)
        return bernoulli_log_likelihood(logits, x.expand_as(logits))

    def decode(self, zs: list[torch.Tensor]) -> torch.Tensor:
        """The mean of p(x|z_k) of every model, images with values in (0, 1): [K, B, V]."""
        return torch.sigmoid(self.decoder_output_layer(zs))

    def filters(self) -> torch.Tensor:
        """Every model's first encoder layer: [K, n_hidden, n_visible]."""
        return self.encoder_hidden_weight.detach()

    def decoder_weights(self) -> list[torch.Tensor]:
        """The weight matrices of the decoders (the generative parameters theta, without biases): every
        model's W4_k and the stacked W5^T. A sum of squares over them is the sum of each model's."""
        return [layer.weight for layer in self.decoder_hidden] + [self.decoder_output_weight]

    def unstack(self) -> list[VAE]:
        """The K models as separate VAEs holding copies of their trained weights."""
        models = []
        for k, n_latent in enumerate(self.latent_sizes):
            model = VAE(self.n_visible, self.n_hidden, n_latent, decoder="bernoulli",
                        hidden_activation=self.hidden_activation_name, log_variance_limit=self.log_variance_limit,
                        init_std=None).to(self.encoder_hidden_weight)
            head = self.encoder_heads[k]
            with torch.no_grad():
                model.encoder_hidden.weight.copy_(self.encoder_hidden_weight[k])
                model.encoder_hidden.bias.copy_(self.encoder_hidden_bias[k])
                model.encoder_mean.weight.copy_(head.weight[:n_latent])
                model.encoder_mean.bias.copy_(head.bias[:n_latent])
                model.encoder_log_variance.weight.copy_(head.weight[n_latent:])
                model.encoder_log_variance.bias.copy_(head.bias[n_latent:])
                model.decoder_hidden.load_state_dict(self.decoder_hidden[k].state_dict())
                model.decoder_output.weight.copy_(self.decoder_output_weight[k].T)
                model.decoder_output.bias.copy_(self.decoder_output_bias[k])
            models.append(model)
        return models

    def extra_repr(self) -> str:
        return (f"{self.n_models} VAEs {self.n_visible} -> {self.n_hidden} -> J -> {self.n_hidden} -> "
                f"{self.n_visible}, J = {self.latent_sizes}, {self.hidden_activation_name}, bernoulli decoder")


def batched_elbo(model: BatchedVAE, x: torch.Tensor, generator: Generators = None) -> Elbo:
    """Each model's per-example bound L(x) = log p(x|z) - D_KL(q(z|x) || p(z)), one reparameterized
    z ~ q(z|x) each and the analytic KL (Kingma & Welling, eq. 10 and appendix B), as aelib.models.vae.elbo
    computes it for one model; the terms are [K, B]. `generator` draws the latent noise: one
    generator (or None, the global one) makes one draw eps [B, sum_k J_k], split by columns in the
    models' order; a list of K generators, one per model, makes each model's own draw [B, J_k], so
    that a model's noise does not depend on which models are trained beside it."""
    means, log_variances = model.encode(x)
    if isinstance(generator, (list, tuple)):
        if len(generator) != model.n_models:
            raise ValueError(f"need one generator per model ({model.n_models}), got {len(generator)}")
        eps = [torch.randn(mean.shape, generator=g, device=x.device, dtype=x.dtype) for mean, g in zip(means, generator)]
    else:
        eps = torch.randn((len(x), sum(model.latent_sizes)), generator=generator, device=x.device,
                          dtype=x.dtype).split(model.latent_sizes, dim=1)
    zs = [mean + (0.5 * log_variance).exp() * noise for mean, log_variance, noise in zip(means, log_variances, eps)]
    reconstruction = model.log_likelihood(x, zs)
    kl = torch.stack([gaussian_kl_to_standard_normal(m, v) for m, v in zip(means, log_variances)])
    return Elbo(reconstruction - kl, reconstruction, kl)


def negative_elbos(model: BatchedVAE, x: torch.Tensor, generator: Generators = None) -> torch.Tensor:
    """Each model's training loss on minibatch x, a vector [K]: minus its mean bound.
    `aelib.training.loop.train` minimises their sum, which trains each model on its own loss."""
    return -batched_elbo(model, x, generator).bound.mean(-1)


@torch.no_grad()
def batched_elbo_means(model: BatchedVAE, x: torch.Tensor, generator: Generators = None,
                       batch_size: int = 1000) -> Elbo:
    """The mean over the rows of x of each model's bound and its two terms (nats per example),
    without gradients, in batches of `batch_size`: an Elbo of three [K] tensors."""
    totals = [torch.zeros(model.n_models, device=x.device) for _ in Elbo._fields]
    for start in range(0, len(x), batch_size):
        terms = batched_elbo(model, x[start:start + batch_size], generator)
        totals = [total + term.sum(-1) for total, term in zip(totals, terms)]
    return Elbo(*(total / len(x) for total in totals))
