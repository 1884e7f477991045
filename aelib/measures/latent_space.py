"""The 2-D latent space of a VAE (Kingma & Welling 2014, fig. 4): the decoded manifold over a grid of
latent points, the posterior means of digits, and how well their classes separate (k-NN accuracy).

The grid: n linearly spaced quantiles (i + 0.5) / n on the unit square, mapped through the inverse
Gaussian CDF, so that each cell holds the same prior mass."""

from __future__ import annotations

import torch
from sklearn.neighbors import KNeighborsClassifier


def latent_grid(n: int) -> torch.Tensor:
    """[n * n, 2] latent points: z1 increasing along a row, z2 decreasing down the rows (image order)."""
    quantiles = (torch.arange(n, dtype=torch.float64) + 0.5) / n
    coordinates = torch.special.ndtri(quantiles).float()
    return torch.stack(torch.meshgrid(coordinates, coordinates.flip(0), indexing="xy"), -1).reshape(-1, 2)


@torch.no_grad()
def decoded_manifold(model: torch.nn.Module, n: int, device: torch.device | str = "cpu",
                     image_side: int = 28) -> torch.Tensor:
    """The decoder's means over `latent_grid(n)`, tiled as one [n * side, n * side] image (on the CPU)."""
    manifold = model.decode(latent_grid(n).to(device)).cpu().reshape(n, n, image_side, image_side)
    return manifold.permute(0, 2, 1, 3).reshape(n * image_side, n * image_side)


@torch.no_grad()
def posterior_means(model: torch.nn.Module, x: torch.Tensor, batch_size: int | None = None) -> torch.Tensor:
    """The means of q(z|x) for every row of x (in batches of `batch_size`; None: all at once), on the CPU."""
    if batch_size is None:
        return model.encode(x)[0].cpu()
    return torch.cat([model.encode(x[i:i + batch_size])[0] for i in range(0, len(x), batch_size)]).cpu()


def nearest_neighbour_accuracy(train_points: torch.Tensor, train_labels: torch.Tensor, test_points: torch.Tensor,
                               test_labels: torch.Tensor, neighbours: int) -> float:
    """Test accuracy of a `neighbours`-nearest-neighbour classifier fitted on the training points."""
    knn = KNeighborsClassifier(n_neighbors=neighbours).fit(train_points.numpy(), train_labels.numpy())
    return float(knn.score(test_points.numpy(), test_labels.numpy()))
