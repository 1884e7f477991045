"""run_latent_sweeps (aelib.training.vae_sweep): one sweep run in this process gives what
train_latent_sweep and batched_elbo_means give by hand."""

from pathlib import Path

import torch

from aelib.models.batched import batched_elbo_means
from aelib.training.vae_sweep import LatentSweep, run_latent_sweeps, sweep_checkpoint_path, train_latent_sweep


def test_run_latent_sweeps_matches_one_sweep_by_hand():
    sweep = LatentSweep(latent_sizes=(3, 2), samples=20, evaluation_samples=(10, 20), checkpoint_every=20,
                        weight_prior=1e-3, n_hidden=5, batch_size=10, seed=1)
    images = torch.rand(20, 784, generator=torch.Generator().manual_seed(0))
    binary = (images[:10] > 0.5).float()
    rows, models, final_terms = run_latent_sweeps([sweep], images, binary, binary)
    history, state = train_latent_sweep(sweep, images, binary, binary)
    assert [row["samples"] for row in rows] == [row["samples"] for row in history] == [10, 20]
    assert list(models) == [2, 3] and list(final_terms) == [2, 3]  # in increasing N_z
    trained = sweep.initial_models()
    trained.load_state_dict(state)
    noise = [torch.Generator().manual_seed(1 + 200 + j) for j in (3, 2)]
    terms = batched_elbo_means(trained, binary, noise)
    assert final_terms[3]["bound"] == terms.bound[0].item() == history[-1]["test_bound"][0]
    assert final_terms[2]["kl"] == terms.kl[1].item() and final_terms[2]["train_bound"] == history[-1]["train_bound"][1]
    for ours, theirs in zip(models[3].parameters(), trained.unstack()[0].parameters()):
        assert torch.equal(ours, theirs)


def test_sweep_checkpoint_path():
    sweep = LatentSweep(latent_sizes=(2, 20), samples=100, evaluation_samples=(100,), checkpoint_every=100,
                        weight_prior=1e-3)
    assert sweep_checkpoint_path(None, sweep) is None
    assert sweep_checkpoint_path("/tmp/c", sweep) == Path("/tmp/c/bernoulli_vaes_2_20.pt")
