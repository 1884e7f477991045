import pytest
import torch

import aelib.training.pretraining as pretraining
from aelib.data.mnist_basic import mnist_basic_split
from aelib.models.losses import cross_entropy
from aelib.training.pretraining import (
    Recipe,
    Setting,
    classification_error,
    classifier_from_stack,
    classifier_from_state,
    epoch_kept_by_early_stopping,
    fine_tune,
    fine_tuning_shortfall,
    greedy_layerwise_pretraining,
    layer_loss,
    new_stack,
    patience_check,
    pretrain_and_fine_tune,
    setting_grid,
    train_candidates,
)


def _toy_digits(n=300, d=16, seed=0):
    """Two-class data a small network can learn: the class sets which half of the inputs is bright."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, 2, (n,), generator=g)
    images = torch.rand(n, d, generator=g) * 0.3
    images[labels == 0, : d // 2] += 0.6
    images[labels == 1, d // 2:] += 0.6
    return images.clamp(0, 1), labels


def test_split_is_disjoint_sized_and_seeded():
    images = torch.arange(100, dtype=torch.float32).unsqueeze(1)  # each image is its own index
    labels = torch.arange(100) % 10
    split = mnist_basic_split(images, labels, (50, 10, 30), seed=3)
    parts = [split.train_images, split.valid_images, split.test_images]
    assert [len(p) for p in parts] == [50, 10, 30]
    indices = torch.cat(parts).squeeze(1).long()
    assert len(set(indices.tolist())) == 90  # disjoint
    assert torch.equal(labels[split.train_images.squeeze(1).long()], split.train_labels)
    again = mnist_basic_split(images, labels, (50, 10, 30), seed=3)
    other = mnist_basic_split(images, labels, (50, 10, 30), seed=4)
    assert torch.equal(again.test_images, split.test_images)
    assert not torch.equal(other.test_images, split.test_images)
    with pytest.raises(ValueError):
        mnist_basic_split(images, labels, (50, 30, 30))


def test_each_layer_is_trained_on_the_trained_codes_of_the_layer_below(monkeypatch):
    seen = []
    real = pretraining.pretrain_layer

    def spy(layer, inputs, **kwargs):
        seen.append(inputs.clone())
        return real(layer, inputs, **kwargs)

    monkeypatch.setattr(pretraining, "pretrain_layer", spy)
    x, _ = _toy_digits()
    stack = new_stack(16, [12, 8, 6], torch.Generator().manual_seed(0))
    untrained_first_codes = stack.encode(x, 1).detach()
    greedy_layerwise_pretraining(stack, x, epochs=2, batch_size=20, learning_rate=0.1)
    assert len(seen) == 3
    assert torch.equal(seen[0], x)
    with torch.no_grad():
        for depth in (1, 2):
            assert torch.allclose(seen[depth], stack.encode(x, depth))
    # layer 2 saw the codes of the *trained* layer 1, not those of its initial weights
    assert not torch.allclose(seen[1], untrained_first_codes, atol=1e-3)


def test_pretraining_lowers_each_layers_reconstruction_loss():
    x, _ = _toy_digits()
    stack = new_stack(16, [12, 8], torch.Generator().manual_seed(0))
    histories = greedy_layerwise_pretraining(stack, x, epochs=5, batch_size=20, learning_rate=0.1, noise=0.25)
    for history in histories:
        assert history[-1]["train_loss"] < history[0]["train_loss"]


def test_masking_noise_enters_the_layer_loss():
    layer = new_stack(16, [8], torch.Generator().manual_seed(0)).layers[0]
    x, _ = _toy_digits(20)
    clean = cross_entropy(layer.decoder_pre_activation(layer.encode(x)), x)
    assert torch.allclose(layer_loss(layer)(x), clean)
    assert not torch.allclose(layer_loss(layer, noise=0.5, generator=torch.Generator().manual_seed(1))(x), clean)


def test_contractive_penalty_is_added_with_its_weight():
    layer = new_stack(16, [8], torch.Generator().manual_seed(0)).layers[0]
    x, _ = _toy_digits(20)
    h = layer.encode(x)
    frobenius = ((h * (1 - h)) ** 2 @ (layer.weight ** 2).sum(dim=1)).mean()  # ||J_f(x)||_F^2, sigmoid
    expected = cross_entropy(layer.decoder_pre_activation(h), x) + 0.3 * frobenius
    assert torch.allclose(layer_loss(layer, contraction=0.3)(x), expected, rtol=1e-5)


def test_classifier_starts_from_the_pretrained_encoders_and_fine_tuning_changes_them():
    x, y = _toy_digits()
    stack = new_stack(16, [12, 8], torch.Generator().manual_seed(0))
    greedy_layerwise_pretraining(stack, x, epochs=2, batch_size=20, learning_rate=0.1)
    classifier = classifier_from_stack(stack, n_classes=2)
    for linear, layer in zip(classifier.hidden, stack.layers):
        assert torch.equal(linear.weight, layer.weight)
        assert torch.equal(linear.bias, layer.hidden_bias)
    assert linear.weight.data_ptr() != layer.weight.data_ptr()  # a copy: fine-tuning leaves the stack alone
    fine_tune(classifier, x[:200], y[:200], x[200:], y[200:], max_epochs=3, patience=3,
              batch_size=20, learning_rate=0.5)
    for linear, layer in zip(classifier.hidden, stack.layers):
        assert not torch.allclose(linear.weight, layer.weight)


def test_fine_tuning_learns_and_keeps_the_best_validation_epoch():
    x, y = _toy_digits(400)
    classifier = classifier_from_stack(new_stack(16, [12, 8], torch.Generator().manual_seed(0)), n_classes=2)
    before = classification_error(classifier, x[300:], y[300:])
    history = fine_tune(classifier, x[:300], y[:300], x[300:], y[300:], max_epochs=15, patience=4,
                        batch_size=20, learning_rate=0.5)
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    best = min(history, key=lambda row: row["valid_error"])
    assert [row["is_best"] for row in history].count(True) == 1 and best["is_best"]
    assert classification_error(classifier, x[300:], y[300:]) == pytest.approx(best["valid_error"])
    assert best["valid_error"] < before and best["valid_error"] < 0.1


def test_early_stopping_stops_after_patience_epochs_without_improvement():
    x, y = _toy_digits(200)
    classifier = classifier_from_stack(new_stack(16, [8], torch.Generator().manual_seed(0)), n_classes=2)
    history = fine_tune(classifier, x[:100], y[:100], x[100:], y[100:], max_epochs=50, patience=2,
                        batch_size=20, learning_rate=0.0)  # no learning: never improves after epoch 1
    assert len(history) == 3


TINY = Recipe(hidden_units=8, n_layers=3, pretraining_batch_size=50, finetuning_max_epochs=2, finetuning_patience=1,
              finetuning_batch_size=50)
SDA = Setting(0.25, 1, 0.1, 0.2)
RANDOM = Setting(None, 0, None, 0.2)


def test_a_candidate_runs_from_its_own_data_and_repeats_itself_at_its_seed():
    first, = pretrain_and_fine_tune(TINY, "SdA-3", [SDA], seed=4, dataset="mnist-5k")
    again, = pretrain_and_fine_tune(TINY, "SdA-3", [SDA], seed=4, dataset="mnist-5k")
    other, = pretrain_and_fine_tune(TINY, "SdA-3", [SDA], seed=5, dataset="mnist-5k")
    assert first["valid_error"] == again["valid_error"] and first["setting"] == SDA
    assert all(torch.equal(first["classifier_state"][k], again["classifier_state"][k]) for k in first["classifier_state"])
    assert not torch.equal(first["classifier_state"]["hidden.0.weight"], other["classifier_state"]["hidden.0.weight"])
    assert first["pretrained_filters"].shape == (8, 784) and first["pretraining_seconds"] > 0
    classifier = classifier_from_state(first["classifier_state"], TINY)
    assert torch.equal(classifier.hidden[0].weight, first["classifier_state"]["hidden.0.weight"])


def test_random_init_skips_pretraining_and_starts_from_the_same_weights():
    random, = pretrain_and_fine_tune(TINY, "random", [RANDOM], seed=4, dataset="mnist-5k")
    initial = new_stack(784, [8, 8, 8], torch.Generator().manual_seed(4))
    assert torch.equal(random["pretrained_filters"], initial.layers[0].filters())
    assert random["pretraining_seconds"] < 0.01


def test_settings_that_share_a_pretraining_are_fine_tuned_from_one_stack_as_if_alone():
    slow = Setting(0.25, 1, 0.1, 0.05)
    both = pretrain_and_fine_tune(TINY, "SdA-3", [SDA, slow], seed=4, dataset="mnist-5k")
    alone, = pretrain_and_fine_tune(TINY, "SdA-3", [slow], seed=4, dataset="mnist-5k")
    assert torch.equal(both[0]["pretrained_filters"], both[1]["pretrained_filters"])
    assert [r["pretraining_shared_by"] for r in both] == [2, 2] and both[1]["setting"] == slow
    assert all(torch.equal(both[1]["classifier_state"][k], alone["classifier_state"][k]) for k in alone["classifier_state"])
    with pytest.raises(ValueError, match="share their pretraining"):
        pretrain_and_fine_tune(TINY, "SdA-3", [SDA, Setting(0.4, 1, 0.1, 0.2)], seed=4, dataset="mnist-5k")


def test_candidates_come_back_in_order_with_shared_pretrainings_run_once(monkeypatch):
    calls = []
    real = pretraining.pretrain_and_fine_tune

    def counted(**call):
        calls.append(call["settings"])
        return real(**call)

    monkeypatch.setattr(pretraining, "pretrain_and_fine_tune", counted)
    slow = Setting(0.25, 1, 0.1, 0.05)
    results = train_candidates(TINY, [("SdA-3", SDA, 4), ("random", RANDOM, 4), ("SdA-3", slow, 4)], dataset="mnist-5k")
    assert [(r["variant"], r["setting"]) for r in results] == [("SdA-3", SDA), ("random", RANDOM), ("SdA-3", slow)]
    assert calls == [[SDA, slow], [RANDOM]]
    calls.clear()
    longer = Setting(0.25, 2, 0.1, 0.2)
    train_candidates(TINY, [("random", RANDOM, 4), ("SdA-3", SDA, 4), ("SdA-3", longer, 4)], dataset="mnist-5k")
    assert calls == [[longer], [SDA], [RANDOM]]  # the longest pretraining starts first


def test_the_grid_of_settings_per_variant():
    assert setting_grid("random", [0.1], [10], [0.1], [0.1, 0.3]) == [Setting(None, 0, None, 0.1),
                                                                       Setting(None, 0, None, 0.3)]
    assert setting_grid("SAA-3", [0.1], [10, 20], [0.1], [0.3]) == [Setting(None, 10, 0.1, 0.3),
                                                                     Setting(None, 20, 0.1, 0.3)]
    grid = setting_grid("SdA-3", [0.1, 0.4], [10], [0.1], [0.1, 0.3])
    assert [(s.value, s.finetuning_learning_rate) for s in grid] == [(0.1, 0.1), (0.1, 0.3), (0.4, 0.1), (0.4, 0.3)]
    assert Setting(0.1, 10, 0.1, 0.3).describe("masking") == "masking 0.1, 10 epochs at 0.1, fine-tuning step 0.3"
    with pytest.raises(ValueError, match="at least one value"):
        setting_grid("SdA-3", [], [10], [0.1], [0.1])


def test_early_stopping_replayed_at_a_shorter_patience():
    errors = [0.5, 0.4, 0.45, 0.41, 0.3, 0.3, 0.35, 0.36, 0.37]
    assert epoch_kept_by_early_stopping(errors, 2) == 1   # two epochs without a new best after 0.4
    assert epoch_kept_by_early_stopping(errors, 3) == 4   # the first of the tied 0.3s
    assert epoch_kept_by_early_stopping(errors, 20) == 4
    x, y = _toy_digits(200)
    classifier = classifier_from_stack(new_stack(16, [8], torch.Generator().manual_seed(0)), n_classes=2)
    history = fine_tune(classifier, x[:100], y[:100], x[100:], y[100:], max_epochs=30, patience=4,
                        batch_size=20, learning_rate=0.5)
    kept = next(i for i, row in enumerate(history) if row["is_best"])
    assert epoch_kept_by_early_stopping([row["valid_error"] for row in history], 4) == kept
    with pytest.raises(ValueError, match="patience"):
        epoch_kept_by_early_stopping(errors, 0)


def test_an_unknown_variant_or_a_depth_other_than_the_recipe_s_is_refused():
    with pytest.raises(ValueError, match="variant must be one of"):
        pretrain_and_fine_tune(TINY, "DBN-3", [RANDOM], seed=0, dataset="mnist-5k")
    with pytest.raises(ValueError, match="a stack of 1 layers; the recipe has 3"):
        pretrain_and_fine_tune(TINY, "CAE-1", [SDA], seed=0, dataset="mnist-5k")


def test_weight_decay_in_the_layer_loss_is_half_lambda_times_the_squared_weights():
    layer = new_stack(16, [8], torch.Generator().manual_seed(0)).layers[0]
    x, _ = _toy_digits(20)
    plain, decayed = layer_loss(layer)(x), layer_loss(layer, decay=0.3)(x)
    assert (decayed - plain).item() == pytest.approx(0.15 * layer.weight.pow(2).sum().item(), rel=1e-5)
    one_layer = Recipe(hidden_units=8, n_layers=1, pretraining_batch_size=50, finetuning_max_epochs=1,
                       finetuning_patience=1, finetuning_batch_size=50)
    weak, strong = (pretrain_and_fine_tune(one_layer, "AE+wd-1", [Setting(w, 2, 0.1, 0.2)], seed=1, dataset="mnist-5k")[0]
                    for w in (1e-4, 1.0))
    assert strong["pretrained_filters"].norm() < weak["pretrained_filters"].norm()


def test_the_fine_tuning_shortfall_measures_the_validation_gap_and_the_unlevelled_runs():
    history = [{"epoch": e + 1, "valid_error": v} for e, v in enumerate([0.5, 0.4, 0.45, 0.45, 0.3, 0.5, 0.5, 0.5, 0.5])]
    levelled = [{"epoch": e + 1, "valid_error": v} for e, v in enumerate([0.5, 0.3, 0.4, 0.4, 0.4, 0.4])]
    kept = [{"valid_error": 0.3, "test_error": 0.34, "best_epoch": 5, "history": history},
            {"valid_error": 0.3, "test_error": 0.32, "best_epoch": 2, "history": levelled}]
    shortfall = fine_tuning_shortfall(kept, n_valid=100, patience=4)
    assert shortfall["gap_points"] == pytest.approx(3.0)
    assert shortfall["valid_sd_points"] == pytest.approx(100 * (0.3 * 0.7 / 100) ** 0.5)
    assert shortfall["not_levelled"] == 1 and shortfall["half_patience"] == 2  # the first stops at epoch 2 at patience 2
    assert "1 of 2" in shortfall["text"] and "+3.00 points" in shortfall["text"]
    with pytest.raises(ValueError, match="kept networks"):
        fine_tuning_shortfall([], n_valid=100, patience=4)


def test_every_run_is_replayed_at_half_its_patience():
    def run(errors, best):
        return {"variant": "SdA-3", "seed": 0, "best_epoch": best + 1, "valid_error": errors[best],
                "history": [{"epoch": i + 1, "valid_error": e} for i, e in enumerate(errors)]}
    steady, late = run([0.5, 0.4, 0.45, 0.46, 0.47], 1), run([0.5, 0.4, 0.45, 0.46, 0.3, 0.31, 0.32, 0.33, 0.34], 4)
    rows = patience_check([steady, late], 4, lambda r: "a setting")
    assert [(r["kept_epoch"], r["kept_epoch_at_patience_2"]) for r in rows] == [(2, 2), (5, 2)]
    assert rows[1]["valid_error_percent_at_patience_2"] == pytest.approx(40.0) and rows[0]["setting"] == "a setting"
