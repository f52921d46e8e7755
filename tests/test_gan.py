"""Lesson 06's conditional GAN: the train step, what the discriminator sees, saving the generator
for prediction, pre-training, reproducibility, a collapse that stops with a clear message, and
the same step on two replicas as on one device."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from dataclasses import replace

import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from colorize import config, models, predict
from colorize import train as training
from colorize.config import ColorizeError
from colorize.models.gan import ConditionalGAN, patchgan_discriminator, pix2pix, realness, receptive_field
from colorize.train import TrainSettings

# Every test trains into its own empty checkout (conftest.home), never the repo's models/.
pytestmark = [pytest.mark.usefixtures("home"),
              pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")]

TINY = {"base_filters": 4, "depth": 2, "disc_filters": 4, "disc_downsamplings": 2}
GAN_SETTINGS = TrainSettings(model="pix2pix", model_params={**TINY, "l1_weight": 100.0}, loss="gan",
                             learning_rate=2e-4, crop_size=32, work_side=64, batch_size=2, epochs=2, steps_per_epoch=2)


def _batch(seed: int = 0, size: int = 16):
    rng = np.random.default_rng(seed)
    lightness = rng.uniform(-1, 1, (2, size, size, 1)).astype("float32")
    ab = rng.uniform(-0.5, 0.5, (2, size, size, 2)).astype("float32")
    return tf.constant(lightness), tf.constant(ab)


def _compiled(gan: ConditionalGAN) -> ConditionalGAN:
    gan.compile(g_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5), d_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5))
    return gan


class RecordingDiscriminator(keras.Model):
    """Wraps a discriminator and keeps the ab it was shown, call by call."""

    def __init__(self, inner):
        super().__init__()
        self.inner, self.seen = inner, []

    def call(self, inputs, training=False):
        self.seen.append(np.asarray(inputs[1]))
        return self.inner(inputs, training=training)


def test_train_step_losses_are_finite_and_both_networks_learn():
    keras.utils.set_random_seed(0)
    gan = _compiled(pix2pix(**TINY))
    g_before = [w.copy() for w in gan.generator.get_weights()]
    d_before = [w.copy() for w in gan.discriminator.get_weights()]
    logs = gan.train_step(_batch())
    assert set(logs) == {"loss", "d_loss", "g_adversarial", "g_l1", "d_real_accuracy", "d_fake_accuracy"}
    assert all(np.isfinite(float(value)) for value in logs.values())
    # generator loss = adversarial + lambda * L1, exactly
    assert float(logs["loss"]) == pytest.approx(float(logs["g_adversarial"]) + 100.0 * float(logs["g_l1"]), rel=1e-5)
    assert 0.0 <= float(logs["d_real_accuracy"]) <= 1.0 and 0.0 <= float(logs["d_fake_accuracy"]) <= 1.0
    assert any(not np.array_equal(a, b) for a, b in zip(g_before, gan.generator.get_weights()))
    assert any(not np.array_equal(a, b) for a, b in zip(d_before, gan.discriminator.get_weights()))


def test_the_discriminator_is_shown_the_real_and_the_generated_colours():
    keras.utils.set_random_seed(0)
    generator = models.unet_model(base_filters=4, depth=2)
    spy = RecordingDiscriminator(patchgan_discriminator(4, 2))
    gan = _compiled(ConditionalGAN(generator, spy))
    lightness, ab = _batch()
    expected_fake = np.asarray(generator(lightness, training=True))
    gan.train_step((lightness, ab))
    real_seen, fake_seen = spy.seen[-2:]
    np.testing.assert_array_equal(real_seen, ab)
    # the fake is the generator's output on this batch (batch norm in training mode both times)
    np.testing.assert_allclose(fake_seen, expected_fake, atol=1e-5)


def test_lsgan_and_unknown_adversarial_losses():
    gan = _compiled(pix2pix(**TINY, adversarial="lsgan"))
    logs = gan.train_step(_batch())
    assert np.isfinite(float(logs["g_adversarial"])) and float(logs["g_adversarial"]) >= 0.0
    # LSGAN (Mao et al. 2017) squares the raw output's distance to the target, with no sigmoid:
    # a patch answering 2.5 costs (2.5 - 1)^2 as "real" and 2.5^2 as "fake"
    logits = tf.fill((2, 4, 4, 1), 2.5)
    assert float(gan._adversarial_loss(logits, True)) == pytest.approx(2.25)
    assert float(gan._adversarial_loss(logits, False)) == pytest.approx(6.25)
    bce = _compiled(pix2pix(**TINY))
    assert float(bce._adversarial_loss(logits, True)) == pytest.approx(np.log1p(np.exp(-2.5)), rel=1e-5)
    with pytest.raises(ValueError, match="hinge"):
        pix2pix(**TINY, adversarial="hinge")


def test_patchgan_receptive_field_and_patch_grid():
    disc = patchgan_discriminator(8, 3)
    assert receptive_field(disc) == 70  # pix2pix's 70x70 PatchGAN
    assert receptive_field(patchgan_discriminator(8, 2)) == 34
    lightness, ab = _batch(size=64)
    assert disc([lightness, ab]).shape == (2, 8, 8, 1)  # one verdict per 8x8 block
    verdict = realness(disc, lightness[0], ab[0])
    assert verdict.shape == (8, 8) and ((verdict > 0) & (verdict < 1)).all()


def test_a_gan_run_saves_a_generator_that_colorizes_any_size(dataset):
    run = training.train(dataset, GAN_SETTINGS, verbose=0)
    history = run.history
    assert {"d_loss", "g_adversarial", "g_l1", "d_real_accuracy", "d_fake_accuracy", "val_loss"} <= set(history)
    generator = run.load_model()
    assert generator.name == "unet" and generator.output_shape[-1] == 2
    # the last generator is kept (pix2pix), not the epoch of lowest validation L1
    assert run.record["saved_epoch"] == run.record["epochs_run"] == 2
    assert run.record["parameters"] == generator.count_params()
    assert run.record["trained_parameters"] > run.record["parameters"]  # the discriminator too
    discriminator = run.load_discriminator()
    assert discriminator.name == "patchgan"
    rgb = np.random.default_rng(1).integers(0, 256, (45, 70, 3), dtype=np.uint8)
    assert predict.colorize_photo(run.colorizer(), rgb).shape == (45, 70, 3)


def test_a_plain_run_has_no_discriminator(dataset):
    run = training.train(dataset, replace(GAN_SETTINGS, model="unet", loss="l1",
                                          model_params={"base_filters": 4, "depth": 2}), verbose=0)
    with pytest.raises(ColorizeError, match="only GAN runs"):
        run.load_discriminator()


def test_generator_starts_from_the_pretrained_run(dataset, monkeypatch):
    pretrained = training.train(dataset, replace(GAN_SETTINGS, model="unet", loss="l1",
                                                 model_params={"base_filters": 4, "depth": 2}), verbose=0)
    seen = {}
    original = training.GanRecipe.compile

    def spy(self, model, *args):
        seen["weights"] = [w.copy() for w in model.generator.get_weights()]
        original(self, model, *args)

    monkeypatch.setattr(training.GanRecipe, "compile", spy)
    training.train(dataset, replace(GAN_SETTINGS, init_from=pretrained.name), verbose=0)
    for started, trained in zip(seen["weights"], pretrained.load_model().get_weights(), strict=True):
        np.testing.assert_array_equal(started, trained)
    with pytest.raises(ColorizeError, match="has not finished"):
        training.train(dataset, replace(GAN_SETTINGS, init_from="no-such-run"), verbose=0)


def test_same_seed_same_gan_numbers(dataset, tmp_path, monkeypatch):
    first = training.train(dataset, GAN_SETTINGS, verbose=0).history
    monkeypatch.setenv(config.HOME_ENV, str(tmp_path / "again"))
    second = training.train(dataset, GAN_SETTINGS, verbose=0).history
    for column in ("loss", "d_loss", "g_l1", "val_loss"):
        np.testing.assert_array_equal(first[column].to_numpy(), second[column].to_numpy())


def test_a_discriminator_that_wins_stops_training_with_a_clear_message(dataset, home):
    callback = training.StopOnCollapse()
    callback.set_model(keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)]))
    callback.on_epoch_end(0, {"d_loss": 0.4})
    with pytest.raises(ColorizeError, match="discriminator won"):
        callback.on_epoch_end(3, {"d_loss": 1e-5})
    # and inside a real run: a GAN whose D loss is forced to 0 leaves no model behind
    def perfect_discriminator(self, logits, real):
        return tf.reduce_mean(logits) * 0.0  # every verdict right: no loss left

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ConditionalGAN, "_adversarial_loss", perfect_discriminator)
        with pytest.raises(ColorizeError, match="collapsed"):
            training.train(dataset, replace(GAN_SETTINGS, seed=3), verbose=0)
    run_dir = home / "models" / replace(GAN_SETTINGS, seed=3).run_name(dataset, "full")
    assert not (run_dir / "run.json").exists()


def test_a_killed_gan_run_resumes(dataset, home, monkeypatch):
    class Kill(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 0:
                raise KeyboardInterrupt

    monkeypatch.setattr(training, "BACKUP_EVERY_SECONDS", 0.0)  # back up after every epoch
    settings = replace(GAN_SETTINGS, epochs=3)
    original = training._callbacks
    with monkeypatch.context() as patch:
        patch.setattr(training, "_callbacks", lambda *a, **k: original(*a, **k) + [Kill()])
        with pytest.raises(KeyboardInterrupt):
            training.train(dataset, settings, verbose=0)
    run = training.train(dataset, settings, verbose=0)
    assert list(pd.read_csv(run.directory / "history.csv")["epoch"]) == [0, 1, 2]
    assert run.record["epochs_run"] == 3


# One step of the GAN on the same global batch, on one device and on a 2-replica MirroredStrategy
# over two logical CPUs. Each replica's half of the batch is the same two photos, so batch norm sees
# the same statistics either way; SGD (not Adam, which hides a gradient's scale) makes a step
# N-times too large visible. Prints how far the weights moved under each.
MIRRORED_STEP_SCRIPT = textwrap.dedent("""
    import json
    import numpy as np
    import tensorflow as tf

    (cpu,) = tf.config.list_physical_devices("CPU")
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

    import keras
    from colorize.models.gan import pix2pix

    rng = np.random.default_rng(0)
    pair_l = rng.uniform(-1, 1, (2, 16, 16, 1)).astype("float32")
    pair_ab = rng.uniform(-0.5, 0.5, (2, 16, 16, 2)).astype("float32")
    data = tf.data.Dataset.from_tensors((np.concatenate([pair_l] * 2), np.concatenate([pair_ab] * 2)))

    def one_step(strategy):
        keras.utils.set_random_seed(1)
        with strategy.scope():
            gan = pix2pix(base_filters=4, depth=2, disc_filters=4, disc_downsamplings=2)
            gan.compile(g_optimizer=keras.optimizers.SGD(0.5), d_optimizer=keras.optimizers.SGD(0.5))
        before = [np.array(w) for w in gan.generator.weights + gan.discriminator.weights]
        logs = gan.fit(data, epochs=1, verbose=0).history
        after = [np.array(w) for w in gan.generator.weights + gan.discriminator.weights]
        return [(b - a).ravel() for b, a in zip(before, after)], {k: float(v[-1]) for k, v in logs.items()}

    single, single_logs = one_step(tf.distribute.OneDeviceStrategy("/cpu:0"))
    mirrored, mirrored_logs = one_step(tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]))
    single, mirrored = np.concatenate(single), np.concatenate(mirrored)
    print(json.dumps({"single_norm": float(np.linalg.norm(single)),
                      "ratio": float(np.linalg.norm(mirrored) / np.linalg.norm(single)),
                      "max_difference": float(np.abs(mirrored - single).max()),
                      "single_logs": single_logs, "mirrored_logs": mirrored_logs}))
""")


def test_a_two_replica_mirrored_strategy_takes_the_same_gan_step_as_one_device(tmp_path):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "COLORIZE_HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", MIRRORED_STEP_SCRIPT], capture_output=True, text=True, env=env,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["single_norm"] > 1e-3  # the step moved the weights at all
    # the same step, not twice it (a plain per-replica mean would give a ratio of 2)
    assert result["ratio"] == pytest.approx(1.0, abs=1e-3)
    assert result["max_difference"] < 1e-4
    for name in ("loss", "d_loss", "g_l1", "g_adversarial"):  # and the logs report the global batch
        assert result["mirrored_logs"][name] == pytest.approx(result["single_logs"][name], rel=1e-4)
