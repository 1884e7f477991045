
import pytest
import torch

from aelib.measures.linear_probe import linear_probe_accuracy
from aelib.measures.locality import filter_locality
from aelib.models.losses import cross_entropy, squared_error


def test_cross_entropy_matches_the_papers_sum_over_pixels():
    logits, x = torch.randn(4, 5, dtype=torch.float64), torch.rand(4, 5, dtype=torch.float64)
    z = torch.sigmoid(logits)
    reference = -(x * z.log() + (1 - x) * (1 - z).log()).sum(dim=1).mean()
    assert cross_entropy(logits, x).item() == pytest.approx(reference.item(), rel=1e-12)


def test_squared_error_sums_over_inputs_and_averages_over_examples():
    assert squared_error(torch.ones(2, 3), torch.zeros(2, 3)).item() == 3.0


def test_locality_tells_a_point_from_a_spread_filter():
    point = torch.zeros(1, 28 * 28)
    point[0, 14 * 28 + 14] = 1.0
    spread = torch.randn(1, 28 * 28, generator=torch.Generator().manual_seed(0))
    assert filter_locality(point, (28, 28)).item() == pytest.approx(1.0, abs=0.01)
    assert filter_locality(spread, (28, 28)).item() < 0.15


def test_locality_of_a_uniform_noise_filter_is_near_the_window_share():
    noise = torch.rand(500, 28 * 28, generator=torch.Generator().manual_seed(1))
    assert filter_locality(noise, (28, 28)).median().item() == pytest.approx(49 / 784, rel=0.6)


def test_locality_refuses_a_wrong_image_shape():
    with pytest.raises(ValueError, match="28x28"):
        filter_locality(torch.zeros(2, 100), (28, 28))


def test_linear_probe_separates_separable_classes_and_not_noise():
    generator = torch.Generator().manual_seed(0)
    labels = torch.arange(400) % 2
    codes = torch.randn(400, 5, generator=generator) + 4 * labels[:, None]
    assert linear_probe_accuracy(codes[:300], labels[:300], codes[300:], labels[300:]) > 0.98
    noise = torch.randn(400, 5, generator=generator)
    assert linear_probe_accuracy(noise[:300], labels[:300], noise[300:], labels[300:]) < 0.7


def test_losses_of_stacked_models_are_one_per_model():
    logits, x = torch.randn(3, 4, 5), torch.rand(4, 5)
    stacked = cross_entropy(logits, x)
    assert stacked.shape == (3,)
    assert torch.allclose(stacked, torch.stack([cross_entropy(logits[k], x) for k in range(3)]))
    assert torch.allclose(squared_error(logits, x), torch.stack([squared_error(logits[k], x) for k in range(3)]))
