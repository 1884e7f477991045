"""The variational autoencoder (Kingma & Welling, "Auto-Encoding Variational Bayes", 2014).

A Gaussian encoder q_phi(z|x) = N(z; mu(x), diag sigma^2(x)) and a decoder p_theta(x|z),
Bernoulli (its log-likelihood is minus the cross-entropy) or Gaussian (minus a scaled
squared error), trained by maximising the per-example lower bound (sec. 2.3, eq. 10):

    L(theta, phi; x) = -D_KL(q_phi(z|x) || p(z)) + E_q[log p_theta(x|z)],   p(z) = N(0, I),

with the KL term in closed form (appendix B) and the expectation estimated with one
reparameterized sample z = mu + sigma * eps, eps ~ N(0, I) (sec. 2.4). Everything here is in
nats per example, summed over pixels and latent dimensions, never averaged over them.

The marginal likelihood log p(x) is estimated by importance sampling with q as proposal
(Burda, Grosse & Salakhutdinov 2016, eq. 8): log (1/k) sum_i p(x, z_i) / q(z_i|x), a lower
bound in expectation that equals the ELBO at k = 1 and rises towards log p(x) with k.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from aelib.models.activations import activation

DECODERS = ("bernoulli", "gaussian")
LOG_2PI = math.log(2 * math.pi)


def bounded_log_variance(raw: torch.Tensor, limit: float) -> torch.Tensor:
    """limit * tanh(raw / limit): the identity near 0, smoothly kept inside (-limit, limit),
    so exp(log_variance) can neither overflow nor reach 0, and the gradient never vanishes
    abruptly as it would under a hard clamp."""
    return limit * torch.tanh(raw / limit)


def gaussian_kl_to_standard_normal(mean: torch.Tensor, log_variance: torch.Tensor) -> torch.Tensor:
    """D_KL(N(mu, diag sigma^2) || N(0, I)) per example, summed over the J latent dimensions:

        -D_KL = 1/2 sum_j (1 + log sigma_j^2 - mu_j^2 - sigma_j^2)   (Kingma & Welling, appendix B)
    """
    return -0.5 * (1 + log_variance - mean.pow(2) - log_variance.exp()).sum(-1)


def gaussian_log_density(x: torch.Tensor, mean: torch.Tensor, log_variance: torch.Tensor) -> torch.Tensor:
    """log N(x; mean, diag exp(log_variance)), summed over the last dimension:
    -1/2 sum_i [log 2 pi + log sigma_i^2 + (x_i - mean_i)^2 / sigma_i^2].
    With a fixed sigma^2 this is -||x - mean||^2 / (2 sigma^2) - D/2 log(2 pi sigma^2):
    squared error is a Gaussian negative log-likelihood up to scale and constant."""
    return -0.5 * (LOG_2PI + log_variance + (x - mean).pow(2) * torch.exp(-log_variance)).sum(-1)


def bernoulli_log_likelihood(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """log p(x|z) = sum_i [x_i log y_i + (1 - x_i) log(1 - y_i)],  y = sigmoid(logits)
    (Kingma & Welling, appendix C.1), per example: minus the cross-entropy, from the
    logits so that no log ever sees an exact 0 or 1. A normalised log-probability only for
    binary x; for grey values in (0, 1) it is the cross-entropy that the PyTorch example uses."""
    return -F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(-1)


def binarize(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Stochastic binarization: each pixel is 1 with probability equal to its intensity.
    Drawn afresh for every minibatch, it is the *dynamic* binarization of Burda et al. (2016);
    drawn once with a fixed generator, it gives a fixed binary test set."""
    return torch.bernoulli(x, generator=generator)


class Elbo(NamedTuple):
    """Per-example terms of the bound, each a tensor [batch] in nats."""
    bound: torch.Tensor                      # reconstruction_log_likelihood - kl
    reconstruction_log_likelihood: torch.Tensor  # log p(x|z), z one sample from q(z|x)
    kl: torch.Tensor                         # D_KL(q(z|x) || p(z)), analytic


class VAE(nn.Module):
    """An MLP VAE with one hidden layer in the encoder and one in the decoder (appendix C):

        encoder   h = act(W1 x + b1),   mu = W2 h + b2,   log sigma^2 = W3 h + b3
        decoder   h' = act(W4 z + b4),  y = W5 h' + b5    (Bernoulli: logits; Gaussian: mean = sigmoid(y))

    The encoder's log-variance passes through `bounded_log_variance(., log_variance_limit)`.
    The Gaussian decoder has one variance sigma^2 shared by all pixels: `decoder_variance`,
    fixed, or its starting value when `learn_decoder_variance` (then bounded the same way). `init_std` draws every weight from
    N(0, init_std^2) with zero biases (the paper: N(0, 0.01)); None keeps PyTorch's default.
    """

    def __init__(self, n_visible: int = 784, n_hidden: int = 500, n_latent: int = 20, *,
                 decoder: str = "bernoulli", hidden_activation: str = "tanh",
                 decoder_variance: float = 1.0, learn_decoder_variance: bool = True,
                 log_variance_limit: float = 10.0,
                 init_std: float | None = 0.01, generator: torch.Generator | None = None):
        super().__init__()
        if min(n_visible, n_hidden, n_latent) < 1:
            raise ValueError(f"layer sizes must be positive, got {n_visible}, {n_hidden}, {n_latent}")
        if decoder not in DECODERS:
            raise ValueError(f"decoder must be one of {DECODERS}, got {decoder!r}")
        if not log_variance_limit > 0:
            raise ValueError(f"log_variance_limit must be positive, got {log_variance_limit!r}")
        if not math.exp(-log_variance_limit) < decoder_variance < math.exp(log_variance_limit):
            raise ValueError(f"decoder_variance must lie in (exp(-{log_variance_limit}), exp({log_variance_limit})), "
                             f"got {decoder_variance!r}")
        self.n_visible, self.n_hidden, self.n_latent = n_visible, n_hidden, n_latent
        self.decoder, self.hidden_activation_name = decoder, hidden_activation
        self.activation = activation(hidden_activation)
        self.log_variance_limit = log_variance_limit
        self.encoder_hidden = nn.Linear(n_visible, n_hidden)
        self.encoder_mean = nn.Linear(n_hidden, n_latent)
        self.encoder_log_variance = nn.Linear(n_hidden, n_latent)
        self.decoder_hidden = nn.Linear(n_latent, n_hidden)
        self.decoder_output = nn.Linear(n_hidden, n_visible)
        self.learn_decoder_variance = decoder == "gaussian" and learn_decoder_variance
        # the raw value whose bounded image is log(decoder_variance): the inverse of limit * tanh(. / limit)
        raw = log_variance_limit * math.atanh(math.log(decoder_variance) / log_variance_limit)
        if self.learn_decoder_variance:
            self.decoder_raw_log_variance = nn.Parameter(torch.tensor(raw))
        else:
            self.register_buffer("decoder_raw_log_variance", torch.tensor(raw))
        if init_std is not None:
            with torch.no_grad():
                for layer in (self.encoder_hidden, self.encoder_mean, self.encoder_log_variance,
                              self.decoder_hidden, self.decoder_output):
                    layer.weight.copy_(torch.randn(layer.weight.shape, generator=generator) * init_std)
                    layer.bias.zero_()

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The mean and (bounded) log-variance of q(z|x)."""
        h = self.activation(self.encoder_hidden(x))
        return self.encoder_mean(h), bounded_log_variance(self.encoder_log_variance(h), self.log_variance_limit)

    @staticmethod
    def reparameterize(mean: torch.Tensor, log_variance: torch.Tensor,
                       generator: torch.Generator | None = None) -> torch.Tensor:
        """z = mu + sigma * eps, eps ~ N(0, I) (sec. 2.4): a sample of q(z|x) that is a
        differentiable function of (mu, sigma)."""
        eps = torch.randn(mean.shape, generator=generator, device=mean.device, dtype=mean.dtype)
        return mean + (0.5 * log_variance).exp() * eps

    def decoder_output_layer(self, z: torch.Tensor) -> torch.Tensor:
        """y = W5 act(W4 z + b4) + b5: the Bernoulli logits, or the Gaussian mean before its sigmoid."""
        return self.decoder_output(self.activation(self.decoder_hidden(z)))

    def decoder_log_variance(self) -> torch.Tensor:
        """log sigma^2 of the Gaussian decoder (a scalar: shared by all pixels)."""
        return bounded_log_variance(self.decoder_raw_log_variance, self.log_variance_limit)

    def log_likelihood(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """log p(x|z) per example (summed over pixels); z may carry extra leading dimensions."""
        y = self.decoder_output_layer(z)
        if self.decoder == "bernoulli":
            return bernoulli_log_likelihood(y, x.expand_as(y))
        return gaussian_log_density(x, torch.sigmoid(y), self.decoder_log_variance())

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """The mean of p(x|z), an image with values in (0, 1)."""
        return torch.sigmoid(self.decoder_output_layer(z))

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """The decoder's mean at the posterior mean: the usual picture of a reconstruction."""
        return self.decode(self.encode(x)[0])

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Means of p(x|z) for n draws z ~ p(z) = N(0, I)."""
        device = self.decoder_output.bias.device
        return self.decode(torch.randn((n, self.n_latent), generator=generator).to(device))

    def extra_repr(self) -> str:
        variance = ("" if self.decoder == "bernoulli" else
                    f", {'learned' if self.learn_decoder_variance else 'fixed'} variance")
        return (f"{self.n_visible} -> {self.n_hidden} -> {self.n_latent} -> {self.n_hidden} -> {self.n_visible}, "
                f"{self.hidden_activation_name}, {self.decoder} decoder{variance}")


def elbo(model: VAE, x: torch.Tensor, generator: torch.Generator | None = None) -> Elbo:
    """The per-example bound L(x) = log p(x|z) - D_KL(q(z|x) || p(z)) with one
    reparameterized z ~ q(z|x) and the analytic KL (Kingma & Welling, eq. 10 and appendix B).
    Maximise its mean over a minibatch (or minimise -bound.mean(), nats per example)."""
    mean, log_variance = model.encode(x)
    z = model.reparameterize(mean, log_variance, generator)
    reconstruction = model.log_likelihood(x, z)
    kl = gaussian_kl_to_standard_normal(mean, log_variance)
    return Elbo(reconstruction - kl, reconstruction, kl)


@torch.no_grad()
def importance_weighted_log_likelihood(model: VAE, x: torch.Tensor, k: int,
                                       generator: torch.Generator | None = None,
                                       samples_per_chunk: int = 100) -> torch.Tensor:
    """log p(x) estimated per example with k samples of q(z|x) as proposal:

        log (1/k) sum_{i=1..k} p(x|z_i) p(z_i) / q(z_i|x),   z_i ~ q(z|x)   (Burda et al. 2016, eq. 8)

    computed as a log-mean-exp. Its expectation is a lower bound on log p(x), equal to the
    ELBO's at k = 1 and non-decreasing in k. The k samples are drawn in chunks of
    `samples_per_chunk` to bound memory."""
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    mean, log_variance = model.encode(x)
    log_weights = []
    for start in range(0, k, samples_per_chunk):
        shape = (min(samples_per_chunk, k - start), *mean.shape)
        eps = torch.randn(shape, generator=generator, device=mean.device, dtype=mean.dtype)
        z = mean + (0.5 * log_variance).exp() * eps
        log_prior = gaussian_log_density(z, torch.zeros_like(z), torch.zeros_like(z))
        log_proposal = gaussian_log_density(z, mean, log_variance)
        log_weights.append(model.log_likelihood(x, z) + log_prior - log_proposal)
    return torch.logsumexp(torch.cat(log_weights), dim=0) - math.log(k)
