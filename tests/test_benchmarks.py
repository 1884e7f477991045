"""The benchmark's bookkeeping and its peer: FLOP counts, and the peer's loss being aelib's."""

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from machine_limit import DAE, VAE_EXAMPLE  # noqa: E402
from vae_peer import ExampleVAE, RawMNIST, example_loss  # noqa: E402

from aelib.models.vae import VAE, elbo  # noqa: E402


def test_step_flops_count_forward_and_backward_products():
    # tied DAE: encode and decode forward, the code's gradient, the weight gradient from each side
    assert DAE.step_flops() == 5 * 2 * 20 * 784 * 500
    # VAE: 3 products per layer (forward, weight gradient, input gradient), none for the data's gradient
    macs = 784 * 400 * 2 + 3 * (400 * 20 * 2 + 20 * 400 + 400 * 784)
    assert VAE_EXAMPLE.step_flops() == 2 * 128 * macs


def test_the_peer_minimises_the_same_objective_as_aelib():
    peer = ExampleVAE()
    ours = VAE(784, 400, 20, decoder="bernoulli", hidden_activation="relu", init_std=None)
    pairs = [("fc1", "encoder_hidden"), ("fc21", "encoder_mean"), ("fc22", "encoder_log_variance"),
             ("fc3", "decoder_hidden"), ("fc4", "decoder_output")]
    with torch.no_grad():
        for theirs, mine in pairs:
            getattr(ours, mine).weight.copy_(getattr(peer, theirs).weight)
            getattr(ours, mine).bias.copy_(getattr(peer, theirs).bias)
    x = torch.rand(16, 784, generator=torch.Generator().manual_seed(0))
    torch.manual_seed(1)  # the same reparameterization noise for both
    recon, mu, logvar = peer(x)
    theirs = example_loss(recon, x, mu, logvar)
    torch.manual_seed(1)
    mine = -elbo(ours, x).bound.sum()
    # aelib bounds the log-variance by 10 tanh(./10): the identity up to ~|u|^3/300 near 0
    assert mine.item() == pytest.approx(theirs.item(), rel=1e-4)


def test_the_peer_dataset_gives_float_images_in_the_unit_interval():
    images = torch.tensor([[0, 255], [51, 102]], dtype=torch.uint8).expand(3, 2, 2).numpy()
    image, label = RawMNIST(images, [7, 8, 9])[1]
    assert image.dtype == torch.float32 and image.shape == (1, 2, 2) and label == 8
    assert torch.equal(image, torch.tensor([[[0.0, 1.0], [0.2, 0.4]]]))


def test_the_rule_benchmark_projects_the_full_profile_from_its_speed():
    from rank_ordered_rule import FULL_PROFILE_PATCHES, rule_speed
    speed = rule_speed(torch.rand(400, 147, generator=torch.Generator().manual_seed(0)) * 0.9, epochs=1)
    assert speed["patches_per_second"] > 0
    assert speed["projected_full_profile_seconds"] == pytest.approx(FULL_PROFILE_PATCHES / speed["patches_per_second"])


@pytest.mark.slow
def test_the_vae_scale_benchmark_times_every_variant_and_projects_the_full_profile():
    from vae_scale import FULL_PROFILE_SAMPLES, measure

    threads = torch.get_num_threads()
    try:
        rows = measure(torch.rand(600, 784, generator=torch.Generator().manual_seed(0)), threads=2, samples=200,
                       latent_sizes=(2, 3))
    finally:
        torch.set_num_threads(threads)
    assert [row["variant"] for row in rows] == ["one VAE per N_z (notebook 05 before)", "one VAE per N_z, fused Adagrad",
                                                "batched, one process", "batched, two processes"]
    for row in rows:
        assert row["samples_per_second"] > 0 and row["wall_seconds"] >= row["training_seconds"] > 0
        minutes = FULL_PROFILE_SAMPLES * 2 / row["samples_per_second"] / 60
        assert row["projected_full_profile_training_minutes"] == pytest.approx(minutes)
