"""A peer: the widely used PyTorch VAE example's training loop, against aelib's VAE, same data.

The peer is re-implemented here as that example runs it on a CPU: a 784-400-20 VAE
(fc1 784->400 ReLU; fc21, fc22 400->20 mean and log-variance; fc3 20->400 ReLU; fc4
400->784 sigmoid), Adam lr 1e-3, minibatches of 128, loss = binary cross-entropy of the
sigmoid outputs summed over pixels and images + the analytic KL; a Dataset whose
`__getitem__` turns one uint8 28x28 image into a float tensor in [0, 1] (what ToTensor
does, without the PIL round trip the example also makes, so this peer is if anything
faster than the original) behind a shuffling DataLoader with num_workers=0 (the
example's setting without CUDA); `loss.item()` every batch, as the example accumulates
its train loss. The example also saves image grids each epoch; that is left out.

aelib's side, as notebook 05 trains it: `aelib.models.vae.VAE(784, 400, 20)` with a Bernoulli
decoder (logits, so the cross-entropy never takes log 0) and ReLU, PyTorch's default
initialisation, Adam lr 1e-3 with its fused update (and, for reference, the default one),
batch 128, the grey-level digits resident as one tensor, trained by aelib.training.loop.train on
the mean negative ELBO (the same objective divided by the batch size; Adam is invariant to
that scale up to its epsilon). Both see the same grey-level images as targets, not binarized
ones. aelib's encoder bounds its log-variance by 10 tanh(./10), which is the identity in the
range training visits.

Test loss of each: summed BCE + KL over the 10,000 test digits / 10,000 (nats per digit),
with one z sample per digit, after the same number of epochs.
"""

from __future__ import annotations

import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset

from aelib.models.vae import VAE, elbo
from aelib.training.loop import evaluate, train


class RawMNIST(Dataset):
    """uint8 images [N, 28, 28] and labels; one image becomes a float [1, 28, 28] tensor in [0, 1]."""

    def __init__(self, images: np.ndarray, labels: np.ndarray):
        self.images, self.labels = images, labels

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int):
        image = torch.from_numpy(self.images[index]).unsqueeze(0).contiguous()
        return image.to(torch.float32).div(255), int(self.labels[index])


class ExampleVAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 400)
        self.fc21 = nn.Linear(400, 20)
        self.fc22 = nn.Linear(400, 20)
        self.fc3 = nn.Linear(20, 400)
        self.fc4 = nn.Linear(400, 784)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        return mu + torch.randn_like(std) * std

    def decode(self, z):
        return torch.sigmoid(self.fc4(F.relu(self.fc3(z))))

    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, 784))
        return self.decode(self.reparameterize(mu, logvar)), mu, logvar


def example_loss(recon_x, x, mu, logvar):
    bce = F.binary_cross_entropy(recon_x, x.view(-1, 784), reduction="sum")
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return bce + kld


class PeerLoop:
    """The example's train() and test(), one epoch per call."""

    def __init__(self, train_set: RawMNIST, test_set: RawMNIST, seed: int):
        torch.manual_seed(seed)
        self.model = ExampleVAE()
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=1e-3)
        self.train_loader = DataLoader(train_set, batch_size=128, shuffle=True, num_workers=0)
        self.test_loader = DataLoader(test_set, batch_size=128, shuffle=False, num_workers=0)

    def epoch(self) -> float:
        started = time.perf_counter()
        self.model.train()
        train_loss = 0.0
        for data, _ in self.train_loader:
            self.optimizer.zero_grad()
            recon_batch, mu, logvar = self.model(data)
            loss = example_loss(recon_batch, data, mu, logvar)
            loss.backward()
            train_loss += loss.item()
            self.optimizer.step()
        return time.perf_counter() - started

    def test_loss(self) -> float:
        self.model.eval()
        test_loss = 0.0
        with torch.no_grad():
            for data, _ in self.test_loader:
                recon_batch, mu, logvar = self.model(data)
                test_loss += example_loss(recon_batch, data, mu, logvar).item()
        return test_loss / len(self.test_loader.dataset)


class AelibLoop:
    """aelib's VAE as notebook 05 trains it, one epoch of aelib.training.loop.train per call.
    `fused_adam` (notebook 05's choice) uses Adam(fused=True): one pass per parameter and
    step instead of a dozen, the same algorithm up to rounding; False is PyTorch's default."""

    def __init__(self, train_images: torch.Tensor, test_images: torch.Tensor, seed: int, fused_adam: bool = True):
        torch.manual_seed(seed)
        self.model = VAE(784, 400, 20, decoder="bernoulli", hidden_activation="relu", init_std=None)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=1e-3, **({"fused": True} if fused_adam else {}))
        self.train_images, self.test_images = train_images, test_images
        self.generator = torch.Generator().manual_seed(seed)  # the minibatch order, continued across calls

    def loss(self, x: torch.Tensor) -> torch.Tensor:
        return -elbo(self.model, x).bound.mean()

    def epoch(self) -> float:
        history = train(self.loss, self.optimizer, self.train_images, epochs=1, batch_size=128,
                        generator=self.generator, progress=False)
        return history[0]["seconds"]

    def test_loss(self) -> float:
        return evaluate(self.loss, self.test_images, batch_size=128)


def compare(data, epochs: int, seed: int = 0) -> dict:
    """Both loops on `data` (an aelib Dataset of MNIST) for `epochs` epochs, in one run, their
    epochs interleaved so that a change in the machine's load falls on both alike."""
    def raw(images):  # the uint8 pixels the example's dataset holds (exact: the floats are k / 255)
        return (images * 255).round().to(torch.uint8).reshape(-1, 28, 28).numpy()
    loops = {"peer": PeerLoop(RawMNIST(raw(data.train_images), data.train_labels.numpy()),
                              RawMNIST(raw(data.test_images), data.test_labels.numpy()), seed),
             "aelib": AelibLoop(data.train_images, data.test_images, seed),
             "aelib_unfused_adam": AelibLoop(data.train_images, data.test_images, seed, fused_adam=False)}
    seconds = {name: [] for name in loops}
    for _ in range(epochs):
        for name, loop in loops.items():
            seconds[name].append(loop.epoch())
    sides = {name: {"epoch_seconds": seconds[name], "test_loss_nats": loop.test_loss()}
             for name, loop in loops.items()}
    # each side's fastest epoch: the first may pay for warm-up, and the machine may be shared
    fastest = {name: min(s) for name, s in seconds.items()}
    return {"epochs": epochs, "train_examples": len(data.train_images), "test_examples": len(data.test_images),
            "dataloader_num_workers": 0, "inputs": "grey levels in [0, 1] (not binarized), both", **sides,
            "peer_epoch_seconds": fastest["peer"], "aelib_epoch_seconds": fastest["aelib"],
            "speedup": fastest["peer"] / fastest["aelib"],
            "speedup_unfused_adam": fastest["peer"] / fastest["aelib_unfused_adam"],
            "test_loss_difference_nats": sides["aelib"]["test_loss_nats"] - sides["peer"]["test_loss_nats"]}
