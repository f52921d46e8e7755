"""colorize.train on the embedded sample photos with tiny models: the run folder and its record,
reuse and force, resume after a kill, determinism, divergence, the RGB target, MirroredStrategy."""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import shutil
import subprocess
import sys
import textwrap
from dataclasses import replace

import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from colorize import config, lab, models
from colorize import train as training
from colorize.config import ColorizeError
from colorize.data import download, sources
from colorize.data.pipeline import make_pipeline
from colorize.train import TrainSettings, find_run

# Keras 3.15 converts variables with np.array(x) (NumPy 2.4 warns about __array__'s copy keyword).
# Every test trains into its own empty checkout (conftest.home), never the repo's models/.
pytestmark = [pytest.mark.usefixtures("home"),
              pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")]

#: A ~700-parameter CNN on 32x32 crops of photos shrunk to 64 px: about a second per run.
SETTINGS = TrainSettings(model="seed000_baseline", model_params={"filters": 4}, crop_size=32, work_side=64,
                         batch_size=2, epochs=3, steps_per_epoch=2)
HISTORY_COLUMNS = {"epoch", "loss", "val_loss", "seconds", "images_per_second"}


class _KeepBest(keras.callbacks.Callback):
    """Copies the weights of the best validation epoch, as ModelCheckpoint would decide it."""

    def __init__(self):
        super().__init__()
        self.best, self.weights = math.inf, None

    def on_epoch_end(self, epoch, logs=None):
        if logs["val_loss"] < self.best:
            self.best, self.weights = logs["val_loss"], [w.copy() for w in self.model.get_weights()]


class _KillAfterEpoch(keras.callbacks.Callback):
    """Stands for a kill (Ctrl-C, a lost machine) just after ``epoch`` (0-based) was backed up."""

    def __init__(self, epoch: int):
        super().__init__()
        self.epoch, self.weights = epoch, None

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            self.weights = [w.copy() for w in self.model.get_weights()]
            raise KeyboardInterrupt


class _StartState(keras.callbacks.Callback):
    """What fit() starts from, seen after BackupAndRestore.on_train_begin (this one comes later)."""

    def on_train_begin(self, logs=None):
        self.weights = [w.copy() for w in self.model.get_weights()]
        self.optimizer_steps = int(self.model.optimizer.iterations.numpy())


def _with_extra_callback(monkeypatch, callback: keras.callbacks.Callback, before_backup: bool = False) -> None:
    """train() takes no callbacks; add one to the list it builds: last (after the backup is saved),
    or just before BackupAndRestore (after CSVLogger has written the epoch's row)."""
    original = training._callbacks

    def callbacks(*args, **kwargs):
        built = original(*args, **kwargs)
        backup = next(i for i, c in enumerate(built) if isinstance(c, keras.callbacks.BackupAndRestore))
        return built[:backup] + [callback] + built[backup:] if before_backup else built + [callback]

    monkeypatch.setattr(training, "_callbacks", callbacks)


@pytest.fixture(scope="module")
def finished(tmp_path_factory, dataset):
    """One finished 3-epoch run, the best weights it held in memory, and what train() printed."""
    home = tmp_path_factory.mktemp("home")
    keeper = _KeepBest()
    printed = io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(printed):
        patch.setenv(config.HOME_ENV, str(home))
        _with_extra_callback(patch, keeper)
        run = training.train(dataset, SETTINGS, verbose=0)
    return home, run, keeper.weights, printed.getvalue()


def _l_batch(size: int = 32) -> np.ndarray:
    return np.random.default_rng(1).uniform(-1.0, 1.0, (2, size, size, 1)).astype(np.float32)


# --- the run on disk -----------------------------------------------------------------------------


def test_a_run_writes_model_history_and_record(finished, dataset):
    home, run, _, printed = finished
    name = SETTINGS.run_name(dataset, "full")
    assert run.name == name and run.directory == home / "models" / name
    assert f"Training {SETTINGS.describe()}: 702 parameters, 3 epochs x 2 steps of 2 crops 32x32" in printed
    assert name not in printed  # messages name runs by their settings, never by the folder's hash
    assert sorted(p.name for p in run.directory.iterdir()) == ["history.csv", "model.keras", "run.json"]

    history = pd.read_csv(run.directory / "history.csv")
    assert HISTORY_COLUMNS <= set(history.columns)
    assert list(history["epoch"]) == [0, 1, 2]
    assert np.isfinite(history[["loss", "val_loss"]].to_numpy()).all()
    assert (history["seconds"] > 0).all()
    np.testing.assert_allclose(history["images_per_second"], 2 * 2 / history["seconds"], rtol=1e-6)

    record = json.loads((run.directory / "run.json").read_text())
    assert record == run.record
    assert record["name"] == name and record["model"] == "seed000_baseline"
    assert record["model_params"] == {"filters": 4}
    assert record["parameters"] == run.load_model().count_params() == 702
    assert record["stride"] == 4 and record["output"] == "ab" and record["profile"] == "full"
    assert record["epochs_planned"] == record["epochs_run"] == len(history) == 3
    assert record["stopped_early"] is False
    best = int(np.argmin(history["val_loss"].to_numpy()))
    assert record["best_epoch"] == best + 1  # 1-based, like the loss-curve axis
    assert record["best_val_loss"] == pytest.approx(history["val_loss"].min())
    assert record["images_per_epoch"] == 4
    assert record["train_seconds"] == pytest.approx(history["seconds"].sum())
    assert record["images_per_second"] == pytest.approx(history["images_per_second"].iloc[1:].median())
    assert record["dataset"] == dataset.describe() and "sample" in record["dataset"]
    assert record["split_sizes"] == {"train": 6, "val": 2, "test": 3}
    assert record["seed"] == SETTINGS.seed == config.SEED
    assert TrainSettings(**record["settings"]) == SETTINGS
    assert {"python", "colorize", "keras", "numpy"} <= set(record["versions"])
    assert any(key.startswith("tensorflow") for key in record["versions"])


def test_find_run_reads_the_finished_run(finished, monkeypatch):
    home, run, _, _ = finished
    monkeypatch.setenv(config.HOME_ENV, str(home))
    found = find_run(run.name)
    assert found is not None and found.record == run.record and found.directory == run.directory
    pd.testing.assert_frame_equal(found.history, run.history)
    assert find_run("no-such-run") is None


def test_loaded_model_predicts_like_the_in_memory_best(finished):
    _, run, best_weights, _ = finished
    loaded = run.load_model()  # compile=False: no optimizer or loss needed to predict
    assert not loaded.compiled
    in_memory = models.build(SETTINGS.model, **SETTINGS.model_params)
    in_memory.set_weights(best_weights)
    batch = _l_batch()
    np.testing.assert_allclose(loaded.predict(batch, verbose=0), in_memory.predict(batch, verbose=0),
                               rtol=0, atol=1e-7)


def test_run_colorizer_returns_ab_at_the_photo_size(finished):
    _, run, _, _ = finished
    colorizer = run.colorizer()
    assert colorizer.work_side == SETTINGS.work_side and colorizer.stride == 4
    lightness = np.random.default_rng(2).uniform(20.0, 80.0, (50, 73)).astype(np.float32)
    ab = colorizer(lightness)
    assert ab.shape == (50, 73, 2) and ab.dtype == np.float32
    assert np.isfinite(ab).all() and np.abs(ab).max() < lab.AB_SCALE


# --- reuse, force, names -----------------------------------------------------------------------


def test_same_settings_reuse_the_run_and_force_retrains(finished, home, dataset, capsys):
    _, original, _, _ = finished
    shutil.copytree(original.directory, home / "models" / original.name)
    history_file = home / "models" / original.name / "history.csv"
    before = history_file.stat().st_mtime_ns

    reused = training.train(dataset, SETTINGS, verbose=0)
    assert f"Reusing the finished run of {SETTINGS.describe()}" in capsys.readouterr().out
    assert history_file.stat().st_mtime_ns == before
    assert reused.directory == home / "models" / original.name and reused.record == original.record

    retrained = training.train(dataset, SETTINGS, force=True, verbose=0)
    out = capsys.readouterr().out
    assert "Reusing" not in out and f"Training {SETTINGS.describe()}" in out
    assert history_file.stat().st_mtime_ns != before
    assert retrained.record["epochs_run"] == 3
    # same seed, same settings: the retrained run learns exactly what the first one did
    pd.testing.assert_series_equal(retrained.history["loss"], original.history["loss"])


def test_different_settings_give_different_run_names(dataset):
    variants = [SETTINGS, replace(SETTINGS, learning_rate=3e-3), replace(SETTINGS, epochs=4),
                replace(SETTINGS, model_params={"filters": 8}), replace(SETTINGS, seed=1),
                replace(SETTINGS, batch_size=4), replace(SETTINGS, loss="mae"), replace(SETTINGS, work_side=96),
                replace(SETTINGS, model="unet", model_params={"base_filters": 4, "depth": 2})]
    names = [settings.run_name(dataset, "full") for settings in variants]
    assert len(set(names)) == len(names)
    assert SETTINGS.run_name(dataset, "smoke") not in names
    assert SETTINGS.run_name(dataset.limited(1), "full") not in names
    assert replace(SETTINGS).run_name(dataset, "full") == names[0]  # equal settings, equal name
    assert names[1].startswith("seed000_baseline-mse-lr0.003-e3-")


def test_run_name_says_which_dataset(dataset):
    assert "-e3-sample-full-" in SETTINGS.run_name(dataset, "full")


def _fake_bsds500_download(dest, **kwargs):
    """What download_bsds500 leaves behind, offline: train/ val/ test/ folders of .jpg photos."""
    from PIL import Image

    for split in download.SPLITS:
        (dest / split).mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (8, 6), (200, 120, 40)).save(dest / split / f"{split}1.jpg")
    return dest


def test_a_downloaded_dataset_keeps_its_run_names_in_the_next_session(home, monkeypatch):
    monkeypatch.delenv(config.DATA_DIR_ENV, raising=False)
    monkeypatch.setattr(download, "download_bsds500", _fake_bsds500_download)
    downloading = sources.bsds500_dataset()
    later = sources.bsds500_dataset(allow_download=False)
    assert downloading.splits == later.splits and downloading.counts() == {"train": 1, "val": 1, "test": 1}
    assert SETTINGS.run_name(downloading, "full") == SETTINGS.run_name(later, "full")


# --- resume, determinism, divergence ----------------------------------------------------------


def test_a_killed_run_resumes_at_its_last_finished_epoch(home, dataset, monkeypatch, capsys):
    monkeypatch.setattr(training, "BACKUP_EVERY_SECONDS", 0.0)  # back up after every epoch
    settings = replace(SETTINGS, epochs=4)
    run_dir = home / "models" / settings.run_name(dataset, "full")
    kill = _KillAfterEpoch(1)  # killed after epoch 2 of 4
    with monkeypatch.context() as patch:
        _with_extra_callback(patch, kill)
        with pytest.raises(KeyboardInterrupt):
            training.train(dataset, settings, verbose=0)
    assert "(resuming)" not in capsys.readouterr().out
    assert (run_dir / "backup").is_dir() and not (run_dir / "run.json").exists()
    assert list(pd.read_csv(run_dir / "history.csv")["epoch"]) == [0, 1]
    assert json.loads((run_dir / "backup" / "training_metadata.json").read_text())["epoch"] == 2

    start = _StartState()
    with monkeypatch.context() as patch:
        _with_extra_callback(patch, start)
        run = training.train(dataset, settings, verbose=0)
    out = capsys.readouterr().out
    assert "Reusing" not in out and "(resuming)" in out
    # it went on from the killed run's weights and optimizer state (2 epochs x 2 steps done)
    assert start.optimizer_steps == 4
    for resumed, killed in zip(start.weights, kill.weights, strict=True):
        np.testing.assert_array_equal(resumed, killed)
    history = pd.read_csv(run_dir / "history.csv")
    assert list(history["epoch"]) == [0, 1, 2, 3] and list(history.columns) == list(run.history.columns)
    assert run.record["epochs_run"] == 4 and run.record["stopped_early"] is False
    assert run.record["best_epoch"] == int(np.argmin(history["val_loss"].to_numpy())) + 1
    assert not (run_dir / "backup").exists()
    assert sorted(p.name for p in run_dir.iterdir()) == ["history.csv", "model.keras", "run.json"]


def test_a_run_killed_between_its_log_and_its_backup_resumes_without_repeated_rows(home, dataset, monkeypatch):
    monkeypatch.setattr(training, "BACKUP_EVERY_SECONDS", 0.0)
    settings = replace(SETTINGS, epochs=3)
    run_dir = home / "models" / settings.run_name(dataset, "full")
    with monkeypatch.context() as patch:
        _with_extra_callback(patch, _KillAfterEpoch(1), before_backup=True)
        with pytest.raises(KeyboardInterrupt):
            training.train(dataset, settings, verbose=0)
    assert list(pd.read_csv(run_dir / "history.csv")["epoch"]) == [0, 1]  # logged ...
    assert json.loads((run_dir / "backup" / "training_metadata.json").read_text())["epoch"] == 1  # ... not saved
    run = training.train(dataset, settings, verbose=0)
    assert list(run.history["epoch"]) == [0, 1, 2]
    assert run.record["epochs_run"] == 3


def test_a_run_killed_before_its_first_backup_starts_again_and_writes_the_best_epoch(home, dataset, monkeypatch,
                                                                                     capsys):
    # Backups are written at most every BACKUP_EVERY_SECONDS (an hour here): a kill before the
    # first leaves neither a backup nor a model, and the next call trains from the start.
    monkeypatch.setattr(training, "BACKUP_EVERY_SECONDS", 3600.0)
    settings = replace(SETTINGS, epochs=3)
    run_dir = home / "models" / settings.run_name(dataset, "full")
    with monkeypatch.context() as patch:
        _with_extra_callback(patch, _KillAfterEpoch(1))
        with pytest.raises(KeyboardInterrupt):
            training.train(dataset, settings, verbose=0)
    assert not (run_dir / "backup").exists() and not (run_dir / "model.keras").exists()
    keeper = _KeepBest()
    with monkeypatch.context() as patch:
        _with_extra_callback(patch, keeper)
        run = training.train(dataset, settings, verbose=0)
    assert "(resuming)" not in capsys.readouterr().out and list(run.history["epoch"]) == [0, 1, 2]
    # the best epoch's weights, held in memory, were written when training ended
    for saved, best in zip(run.load_model().get_weights(), keeper.weights, strict=True):
        np.testing.assert_array_equal(saved, best)


def test_same_seed_and_settings_in_fresh_homes_give_identical_losses(finished, home, dataset, monkeypatch):
    first_home, first, _, _ = finished
    assert home != first_home
    again = training.train(dataset, SETTINGS, verbose=0)
    assert again.directory.parent == home / "models"
    for column in ("loss", "val_loss"):
        np.testing.assert_array_equal(again.history[column].to_numpy(), first.history[column].to_numpy())
    other_seed = training.train(dataset, replace(SETTINGS, seed=7), verbose=0)
    assert not np.array_equal(other_seed.history["loss"].to_numpy(), first.history["loss"].to_numpy())


def test_a_nan_loss_stops_training_with_a_clear_error(home, dataset, monkeypatch):
    monkeypatch.setitem(training.LOSSES, "nan", lambda y_true, y_pred: tf.reduce_mean(y_pred) * float("nan"))
    settings = replace(SETTINGS, loss="nan", epochs=2)
    with pytest.raises(ColorizeError, match="diverged") as error:
        training.train(dataset, settings, verbose=0)
    assert "lower the learning rate" in str(error.value)
    run_dir = home / "models" / settings.run_name(dataset, "full")
    assert find_run(run_dir.name) is None and not (run_dir / "model.keras").exists()


@pytest.mark.parametrize("loss", [float("nan"), float("inf"), -float("inf")])
def test_stop_on_divergence_callback(loss):
    callback = training.StopOnDivergence()
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    callback.set_model(model)
    callback.on_train_batch_end(0, {"loss": 0.25})
    callback.on_train_batch_end(1, {})
    assert not getattr(model, "stop_training", False)
    with pytest.raises(ColorizeError, match=r"diverged \(loss .*\) at batch 3"):
        callback.on_train_batch_end(3, {"loss": np.float32(loss)})
    assert model.stop_training


def test_unknown_loss_and_schedule_are_colorize_errors(dataset):
    with pytest.raises(ColorizeError, match="Unknown loss 'hinge'"):
        training.train(dataset, replace(SETTINGS, loss="hinge"), verbose=0)
    with pytest.raises(ColorizeError, match="Unknown schedule 'step'"):
        training.train(dataset, replace(SETTINGS, schedule="step"), verbose=0)


# --- the RGB target -----------------------------------------------------------------------------


def test_rgb_target_pipeline_gives_srgb_in_0_1(dataset):
    photos = training.load_split(dataset, "val", 64)
    for is_training in (True, False):
        common = dict(crop_size=32, batch_size=2, training=is_training, seed=3)
        rgb_batches = list(make_pipeline(photos, target="rgb", **common))
        ab_batches = list(make_pipeline(photos, **common))
        assert len(rgb_batches) == len(ab_batches) == 1
        (l_rgb, rgb), (l_ab, _) = rgb_batches[0], ab_batches[0]
        rgb = np.asarray(rgb)
        assert rgb.shape == (2, 32, 32, 3) and rgb.dtype == np.float32
        assert rgb.min() >= 0.0 and rgb.max() <= 1.0 and rgb.std() > 0.01
        np.testing.assert_array_equal(np.asarray(l_rgb), np.asarray(l_ab))  # same crops, same L
        np.testing.assert_allclose(lab.normalize_l(np.asarray(lab.rgb_to_lab(rgb))[..., :1]), l_rgb, atol=1e-4)
        np.testing.assert_array_equal(np.round(rgb * 255), rgb * 255)  # the 8-bit crop itself
    with pytest.raises(ColorizeError, match="Unknown target 'hsv'"):
        make_pipeline(photos, crop_size=32, batch_size=2, training=False, target="hsv")


def test_training_the_rgb_baseline(dataset):
    settings = replace(SETTINGS, model="seed001_rgb_baseline", epochs=2)
    run = training.train(dataset, settings, verbose=0)
    assert run.record["output"] == "rgb" and run.record["stride"] == 2 and run.record["epochs_run"] == 2
    assert np.isfinite(run.history[["loss", "val_loss"]].to_numpy()).all()
    assert run.load_model().output_shape == (None, None, None, 3)
    ab = run.colorizer()(np.full((20, 30), 50.0, np.float32))
    assert ab.shape == (20, 30, 2) and np.isfinite(ab).all()


# --- MirroredStrategy ----------------------------------------------------------------------------

MIRRORED_SCRIPT = textwrap.dedent("""
    import json
    import tensorflow as tf

    # Two logical CPUs, before anything initialises TensorFlow's devices.
    (cpu,) = tf.config.list_physical_devices("CPU")
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

    from colorize import models
    from colorize import train as training
    from colorize.data.sources import sample_dataset

    built = []
    original_build = models.build
    models.build = lambda *args, **kwargs: built.append(original_build(*args, **kwargs)) or built[-1]

    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    settings = training.TrainSettings(model="seed000_baseline", model_params={"filters": 4}, crop_size=32,
                                      work_side=64, batch_size=4, epochs=2, steps_per_epoch=2)
    run = training.train(sample_dataset(), settings, strategy=strategy, verbose=0)
    kernel = built[0].weights[0]
    print(json.dumps({
        "replicas": strategy.num_replicas_in_sync,
        "logical_cpus": len(tf.config.list_logical_devices("CPU")),
        "mirrored": isinstance(getattr(kernel, "value", kernel), tf.distribute.DistributedValues),
        "epochs_run": run.record["epochs_run"],
        "images_per_epoch": run.record["images_per_epoch"],
        "losses": run.history["loss"].tolist() + run.history["val_loss"].tolist(),
        "files": sorted(p.name for p in run.directory.iterdir()),
    }))
""")


def test_training_under_a_two_replica_mirrored_strategy(home):
    env = {**os.environ, config.HOME_ENV: str(home), "TF_CPP_MIN_LOG_LEVEL": "2"}
    done = subprocess.run([sys.executable, "-c", MIRRORED_SCRIPT], capture_output=True, text=True, env=env,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["replicas"] == 2 and result["logical_cpus"] == 2
    assert result["mirrored"], "the model's variables were not created under the strategy"
    assert result["epochs_run"] == 2 and result["images_per_epoch"] == 8
    assert np.isfinite(result["losses"]).all()
    assert result["files"] == ["history.csv", "model.keras", "run.json"]


def test_split_losses_separate_the_crops_from_the_photos(finished, dataset):
    _, run, _, _ = finished
    table = training.split_losses(run, dataset)
    assert list(table.index) == ["training photos, random crops (as trained)", "training photos, centre crops",
                                 "validation photos, centre crops (the val loss)"]
    assert (table.to_numpy() > 0).all()
    np.testing.assert_allclose(table["model / gray"], table["model loss"] / table["gray (ab = 0) loss"])
    # the gray guess's loss on validation crops is the mean of (ab / scale)^2 of those crops, by hand
    batches = make_pipeline(training.load_split(dataset, "val", SETTINGS.work_side), crop_size=SETTINGS.crop_size,
                            batch_size=SETTINGS.batch_size, training=False, seed=SETTINGS.seed)
    by_hand = np.mean(np.concatenate([np.asarray(ab).ravel() for _, ab in batches]) ** 2)
    assert table["gray (ab = 0) loss"].iloc[2] == pytest.approx(by_hand, rel=1e-5)
    # ... and the model's loss there is the run's own validation loss at its best epoch
    assert table["model loss"].iloc[2] == pytest.approx(run.record["best_val_loss"], rel=1e-3)


def test_split_losses_refuse_rgb_output_runs(dataset):
    run = training.train(dataset, replace(SETTINGS, model="seed001_rgb_baseline", epochs=1), verbose=0)
    with pytest.raises(ColorizeError, match="ab-output runs"):
        training.split_losses(run, dataset)


@pytest.mark.parametrize("name, params, recipe, target, keeps_last", [
    ("seed000_baseline", {"filters": 4}, "regression", "ab", False),
    ("seed001_rgb_baseline", {"filters": 4}, "regression", "rgb", False),
    ("colorful_classifier", {"base_filters": 4, "depth": 2}, "distribution", "ab", False),
    ("pix2pix", {"base_filters": 4, "depth": 2, "disc_filters": 4}, "gan", "ab", True),
])
def test_each_family_trains_through_its_own_recipe(name, params, recipe, target, keeps_last):
    chosen = training.recipe_for(models.build(name, **params))
    assert (chosen.name, chosen.target, chosen.keeps_last_epoch) == (recipe, target, keeps_last)
    kinds = {type(callback).__name__ for callback in chosen.callbacks(None, "model.keras", None)}
    assert kinds == ({"StopOnCollapse", "GeneratorCheckpoint"} if recipe == "gan" else {"KeepBestWeights"})


def test_a_finished_run_records_its_recipe(finished):
    _, run, _, _ = finished
    assert run.record["recipe"] == "regression"
