import pytest
import torch

from aelib.penalties.corruption import gaussian_noise, masking_noise, salt_and_pepper


def ones(n=200_000):
    return torch.ones(n)


@pytest.mark.parametrize("fraction", [0.1, 0.25, 0.5])
def test_masking_noise_zeroes_the_given_fraction(fraction):
    corrupted = masking_noise(ones(), fraction, torch.Generator().manual_seed(0))
    assert set(corrupted.unique().tolist()) <= {0.0, 1.0}
    assert (corrupted == 0).float().mean().item() == pytest.approx(fraction, abs=0.005)


def test_masking_noise_leaves_its_input_alone_and_keeps_kept_values():
    x = torch.rand(1000)
    before = x.clone()
    corrupted = masking_noise(x, 0.3, torch.Generator().manual_seed(1))
    assert torch.equal(x, before)
    kept = corrupted != 0
    assert torch.equal(corrupted[kept], x[kept])


def test_masking_noise_is_reproducible_from_a_generator():
    x = torch.rand(100)
    first = masking_noise(x, 0.5, torch.Generator().manual_seed(7))
    again = masking_noise(x, 0.5, torch.Generator().manual_seed(7))
    assert torch.equal(first, again)


def test_zero_noise_is_the_identity():
    x = torch.rand(50)
    assert torch.equal(masking_noise(x, 0.0), x)
    assert torch.equal(salt_and_pepper(x, 0.0), x)


def test_gaussian_noise_has_the_given_spread():
    noise = gaussian_noise(torch.zeros(200_000), 0.3, torch.Generator().manual_seed(0))
    assert noise.mean().item() == pytest.approx(0.0, abs=0.005)
    assert noise.std().item() == pytest.approx(0.3, rel=0.01)


def test_salt_and_pepper_sets_half_of_the_hit_inputs_high_and_half_low():
    x = torch.full((200_000,), 0.5)
    corrupted = salt_and_pepper(x, 0.2, torch.Generator().manual_seed(0))
    assert (corrupted != 0.5).float().mean().item() == pytest.approx(0.2, abs=0.005)
    assert (corrupted == 1.0).float().mean().item() == pytest.approx(0.1, abs=0.005)
    assert (corrupted == 0.0).float().mean().item() == pytest.approx(0.1, abs=0.005)


@pytest.mark.parametrize("corrupt", [masking_noise, salt_and_pepper])
@pytest.mark.parametrize("fraction", [-0.1, 1.5])
def test_fractions_outside_zero_one_are_refused(corrupt, fraction):
    with pytest.raises(ValueError, match="fraction"):
        corrupt(torch.rand(3), fraction)


def test_a_vector_of_fractions_gives_one_copy_per_fraction_from_common_random_numbers():
    x = torch.rand(30, 8)
    fractions = [0.0, 0.2, 0.6]
    copies = masking_noise(x, torch.tensor(fractions), torch.Generator().manual_seed(4))
    assert copies.shape == (3, 30, 8)
    for copy, fraction in zip(copies, fractions):
        assert torch.equal(copy, masking_noise(x, fraction, torch.Generator().manual_seed(4)))
    assert torch.equal(copies[0], x)
    # common random numbers: what a higher fraction keeps, a lower one keeps too
    assert not ((copies[2] != 0) & (copies[1] == 0)).any()
