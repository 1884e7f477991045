import pytest
import torch

from aelib.models.autoencoders import Autoencoder
from aelib.models.losses import reconstruction_cross_entropy
from aelib.penalties.corruption import masking_noise
from aelib.training.loop import (
    NonFiniteLossError,
    evaluate,
    log_spaced_counts,
    stop_when_levelled_off,
    train,
    training_order,
)


def setup(seed=0):
    torch.manual_seed(seed)
    model = Autoencoder(12, 5, generator=torch.Generator().manual_seed(seed))
    generator = torch.Generator().manual_seed(seed + 1)

    def loss(x):
        return reconstruction_cross_entropy(model, x, masking_noise(x, 0.3, generator))

    return model, torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9), loss, generator


DATA = torch.rand(53, 12, generator=torch.Generator().manual_seed(9))


def test_training_lowers_the_loss_and_records_each_epoch():
    model, optimizer, loss, generator = setup()
    history = train(loss, optimizer, DATA, epochs=5, batch_size=8, test_data=DATA[:10],
                    generator=generator, progress=False)
    assert [row["epoch"] for row in history] == [1, 2, 3, 4, 5]
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    assert {"train_loss", "test_loss", "seconds"} <= history[0].keys()


def test_a_resumed_run_repeats_an_uninterrupted_one_exactly(tmp_path):
    model, optimizer, loss, generator = setup()
    straight = train(loss, optimizer, DATA, epochs=4, batch_size=8, generator=generator, progress=False)
    straight_weights = model.weight.detach().clone()

    checkpoint = tmp_path / "run.pt"
    model, optimizer, loss, generator = setup()
    train(loss, optimizer, DATA, epochs=2, batch_size=8, generator=generator, progress=False,
          checkpoint_path=checkpoint)  # "interrupted" after two epochs
    torch.manual_seed(12345)  # the new process has other global RNG state
    model, optimizer, loss, generator = setup(seed=0)
    torch.manual_seed(999)
    resumed = train(loss, optimizer, DATA, epochs=4, batch_size=8, generator=generator, progress=False,
                    checkpoint_path=checkpoint)
    assert torch.equal(model.weight, straight_weights)
    assert [r["train_loss"] for r in resumed] == [r["train_loss"] for r in straight]


def test_a_checkpoint_from_another_run_is_refused(tmp_path):
    model, optimizer, loss, generator = setup()
    train(loss, optimizer, DATA, epochs=1, batch_size=8, generator=generator, progress=False,
          checkpoint_path=tmp_path / "run.pt")
    model, optimizer, loss, generator = setup()
    with pytest.raises(ValueError, match="different run"):
        train(loss, optimizer, DATA, epochs=2, batch_size=16, generator=generator, progress=False,
              checkpoint_path=tmp_path / "run.pt")


def test_a_nan_loss_stops_training_at_the_end_of_its_epoch_naming_epoch_and_batch():
    weight = torch.nn.Parameter(torch.ones(1))
    calls = []

    def loss(x):
        calls.append(1)
        value = (weight * x).sum()
        return value * float("nan") if len(calls) == 7 else value

    with pytest.raises(NonFiniteLossError, match="epoch 2, batch 2 "):
        train(loss, torch.optim.SGD([weight], lr=0.0), torch.ones(10, 1), epochs=3, batch_size=2,
              progress=False)
    assert len(calls) == 10  # checked once per epoch: epoch 2 ran to its end, epoch 3 never started


def test_an_infinite_loss_of_one_model_in_a_sweep_is_caught():
    weight = torch.nn.Parameter(torch.ones(2))
    calls = []

    def losses(x):
        calls.append(1)
        value = weight * x.sum()
        return value * torch.tensor([1.0, float("inf")]) if len(calls) == 3 else value

    with pytest.raises(NonFiniteLossError, match=r"\[.*inf\] at epoch 1, batch 3 \(of 5\)"):
        train(losses, torch.optim.SGD([weight], lr=0.0), torch.ones(10, 1), epochs=2, batch_size=2,
              progress=False)


def test_autocast_applies_to_training_losses_only():
    weight = torch.nn.Parameter(torch.ones(3, 3))
    seen = []

    def loss(x):
        seen.append(torch.is_autocast_enabled("cpu"))
        return (x @ weight).float().pow(2).mean()

    history = train(loss, torch.optim.SGD([weight], lr=0.01), torch.ones(4, 3), epochs=1, batch_size=2,
                    test_data=torch.ones(2, 3), progress=False, autocast_dtype=torch.bfloat16)
    assert seen == [True, True, False]  # two training batches under autocast, then float32 evaluation
    assert history[0]["test_loss"] < history[0]["train_loss"]  # the weights did change


def test_the_last_partial_batch_is_used_and_evaluate_weights_by_size():
    seen = []
    weight = torch.nn.Parameter(torch.zeros(1))

    def loss(x):
        seen.append(len(x))
        return (weight - x).pow(2).mean()

    train(loss, torch.optim.SGD([weight], lr=0.0), torch.arange(10.0)[:, None], epochs=1, batch_size=4,
          progress=False)
    assert seen == [4, 4, 2]
    assert evaluate(lambda x: x.mean(), torch.arange(10.0), batch_size=4) == pytest.approx(4.5)


def test_bad_arguments_are_refused():
    weight = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([weight], lr=0.1)
    with pytest.raises(ValueError, match="batch_size"):
        train(lambda x: x.sum(), optimizer, torch.ones(4, 1), epochs=1, batch_size=0)
    with pytest.raises(ValueError, match="same number of rows"):
        train(lambda x, y: x.sum(), optimizer, (torch.ones(4, 1), torch.ones(3)), epochs=1, batch_size=2)


def test_per_epoch_data_and_a_callback_equal_a_loop_of_one_epoch_calls():
    """The hook replaces a caller's own loop: fresh data each epoch, then a learning-rate step."""
    fresh = [torch.rand(20 + epoch, 12, generator=torch.Generator().manual_seed(epoch)) for epoch in range(4)]

    model, optimizer, loss, generator = setup()
    looped = []
    for epoch in range(4):
        looped.append(train(loss, optimizer, fresh[epoch], epochs=1, batch_size=8, generator=generator,
                            progress=False)[0])
        for group in optimizer.param_groups:
            group["lr"] *= 0.5
    looped_weights = model.weight.detach().clone()

    model, optimizer, loss, generator = setup()
    seen = []

    def halve_the_step(row):
        seen.append(row["epoch"])
        for group in optimizer.param_groups:
            group["lr"] *= 0.5
        row["learning_rate"] = optimizer.param_groups[0]["lr"]

    hooked = train(loss, optimizer, lambda epoch: fresh[epoch - 1], epochs=4, batch_size=8, generator=generator,
                   on_epoch_end=halve_the_step, progress=False)
    assert seen == [1, 2, 3, 4]
    assert torch.equal(model.weight, looped_weights)
    assert [row["train_loss"] for row in hooked] == [row["train_loss"] for row in looped]
    assert hooked[-1]["learning_rate"] == 0.1 * 0.5 ** 4


def test_a_callback_stops_training_and_a_resumed_stopped_run_stays_stopped(tmp_path):
    model, optimizer, loss, generator = setup()
    checkpoint = tmp_path / "run.pt"
    stop_after_two = lambda row: row["epoch"] == 2  # noqa: E731
    history = train(loss, optimizer, DATA, epochs=10, batch_size=8, generator=generator,
                    on_epoch_end=stop_after_two, checkpoint_path=checkpoint, progress=False)
    assert [row["epoch"] for row in history] == [1, 2]
    weights = model.weight.detach().clone()
    again = train(loss, optimizer, DATA, epochs=10, batch_size=8, generator=generator,
                  on_epoch_end=stop_after_two, checkpoint_path=checkpoint, progress=False)
    assert again == history and torch.equal(model.weight, weights)


def test_training_order_is_passes_of_permutations_however_it_is_cut():
    whole = training_order(7, 0, 30, seed=3)
    assert whole.shape == (30,)
    for start in range(0, 28, 7):  # every pass over the 7 rows is a permutation of them
        assert sorted(whole[start:start + 7].tolist()) == list(range(7))
    cut = torch.cat([training_order(7, a, b, seed=3) for a, b in ((0, 3), (3, 3), (3, 16), (16, 30))])
    assert torch.equal(cut, whole)
    assert not torch.equal(whole, training_order(7, 0, 30, seed=4))
    assert not torch.equal(whole[:7], whole[7:14])  # each pass its own permutation
    with pytest.raises(ValueError):
        training_order(7, 5, 4, seed=0)


def test_a_run_in_ordered_segments_does_not_depend_on_where_it_is_cut():
    """shuffle=False with training_order: the same steps whether a run has 2 epochs or 5."""
    def run(boundaries):
        model, optimizer, loss, generator = setup()
        history = train(loss, optimizer, lambda epoch: DATA[training_order(len(DATA), boundaries[epoch - 1],
                                                                           boundaries[epoch], seed=0)],
                        epochs=len(boundaries) - 1, batch_size=8, generator=generator, shuffle=False, progress=False)
        return model.weight.detach().clone(), history

    two, history = run([0, 64, 160])
    five, _ = run([0, 16, 64, 80, 120, 160])
    assert torch.equal(two, five)
    assert len(history) == 2
    shuffled = setup()
    train(shuffled[2], shuffled[1], DATA, epochs=3, batch_size=8, generator=shuffled[3], progress=False)
    assert not torch.equal(two, shuffled[0].weight)


def test_log_spaced_counts_cover_the_decades_in_whole_batches():
    counts = log_spaced_counts(1000, 100_000, per_decade=10, multiple=100)
    assert counts[0] == 1000 and counts[-1] == 100_000 and len(counts) == 21
    assert all(c % 100 == 0 for c in counts) and counts == sorted(set(counts))
    assert counts[10] == 10_000
    assert log_spaced_counts(150, 150, 10, 100) == [150]


def test_further_generators_are_checkpointed_and_a_resumed_run_repeats_an_uninterrupted_one(tmp_path):
    def setup_with_noise():
        model, optimizer, _, generator = setup()
        noise = torch.Generator().manual_seed(7)  # the loss's own randomness, apart from the trainer's generator

        def loss(x):
            return reconstruction_cross_entropy(model, x, masking_noise(x, 0.3, noise))

        return model, optimizer, loss, generator, noise

    model, optimizer, loss, generator, noise = setup_with_noise()
    train(loss, optimizer, DATA, epochs=4, batch_size=8, generator=generator, generators=[noise], progress=False)
    straight = model.weight.detach().clone()

    for saved, expected_equal in (([True], True), ([False], False)):
        checkpoint = tmp_path / f"run-{saved[0]}.pt"
        model, optimizer, loss, generator, noise = setup_with_noise()
        train(loss, optimizer, DATA, epochs=2, batch_size=8, generator=generator, generators=[noise] if saved[0] else [],
              progress=False, checkpoint_path=checkpoint)
        model, optimizer, loss, generator, noise = setup_with_noise()  # a new process: the noise starts afresh
        train(loss, optimizer, DATA, epochs=4, batch_size=8, generator=generator, generators=[noise] if saved[0] else [],
              progress=False, checkpoint_path=checkpoint)
        assert torch.equal(model.weight, straight) == expected_equal  # without it, the noise repeats itself

    model, optimizer, loss, generator, noise = setup_with_noise()
    with pytest.raises(ValueError, match="further generator"):
        train(loss, optimizer, DATA, epochs=4, batch_size=8, generator=generator, generators=[noise, noise],
              progress=False, checkpoint_path=tmp_path / "run-True.pt")


def test_levelled_off_stops_at_the_first_small_improvement():
    stop = stop_when_levelled_off(0.1)
    rows = [{"train_loss": loss} for loss in (10.0, 8.0, 7.5, 7.0)]
    decisions = [stop(row) for row in rows]
    assert decisions == [False, False, True, True]  # 10 -> 8: 20 %; 8 -> 7.5: 6.25 % < 10 %
    assert [row["relative_improvement"] for row in rows[1:3]] == pytest.approx([0.2, 0.0625])


def test_training_stops_once_levelled_off():
    model, optimizer, loss, generator = setup()
    history = train(loss, optimizer, DATA, epochs=200, batch_size=8, generator=generator, progress=False,
                    on_epoch_end=stop_when_levelled_off(0.05))
    assert 1 < len(history) < 200
    assert history[-1]["relative_improvement"] < 0.05
    assert all(row["relative_improvement"] >= 0.05 for row in history[1:-1])


def test_levelled_off_needs_a_fraction():
    with pytest.raises(ValueError, match=r"fraction must be in \(0, 1\)"):
        stop_when_levelled_off(0.0)
