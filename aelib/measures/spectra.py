"""The singular value spectrum of the encoder's Jacobian: in how many directions a code responds."""

from __future__ import annotations

import torch

from aelib.penalties.contractive import Encoder, encoder_jacobian


def jacobian_singular_values(encode: Encoder, x: torch.Tensor) -> torch.Tensor:
    """The singular values of J_f(x) per example, descending: [B, min(H, V)]
    (Rifai et al. 2011, sec. 5.3, figure 4: a CAE has few large ones)."""
    with torch.no_grad():
        jacobian = encoder_jacobian(encode, x)
    return torch.linalg.svdvals(jacobian)
