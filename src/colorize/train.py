"""Training: one entry point on top of Keras ``Model.fit`` and its callbacks.

:func:`train` builds a model by name, fits it on a dataset's train split (validating on ``val``)
and leaves a *run* in ``models/<run-name>/``:

* ``model.keras``: the weights of the best validation epoch (:class:`KeepBestWeights`);
* ``history.csv``: one row per epoch (CSVLogger), with seconds and images/s per epoch;
* ``run.json``: what was trained, on what, for how long and how fast; written last, so its
  presence means the run finished.

How a model trains depends on its family, and each family's differences live in one
:class:`Recipe` (regression on ab or RGB, Zhang et al.'s distribution, the pix2pix GAN): its
pipeline target, its compile (optimizers, Keras loss objects) and the weights it keeps.

The run's name is made from its settings, so calling :func:`train` again with the same
settings reuses the finished run instead of training again (``force=True`` retrains). A run that
was killed resumes at its last backed-up epoch (:class:`PeriodicBackup`, Keras' BackupAndRestore
written at most every :data:`BACKUP_EVERY_SECONDS`).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import math
import shutil
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from colorize import config, models, precision
from colorize.config import ColorizeError
from colorize.data.pipeline import make_pipeline
from colorize.data.sources import Dataset
# A finished run on disk and its files (re-exported here; reading them needs no TensorFlow).
from colorize.runs import (BACKUP_DIR, DISCRIMINATOR_FILE, HISTORY_FILE, MODEL_FILE, PRIOR_FILE,  # noqa: F401
                           RUN_FILE, Run, find_run)

LOSSES = {"mse": "mean_squared_error", "l2": "mean_squared_error", "mae": "mean_absolute_error",
          "l1": "mean_absolute_error"}
#: Losses of distribution models (Zhang et al.): lambda of the class rebalancing (1: none).
DISTRIBUTION_LOSSES = {"rebalanced_ce": 0.5, "ce": 1.0}
#: A run backs up (and writes its best weights so far) at the end of the first epoch this long
#: after its last backup, so a kill loses at most about this much training. Writing the backup
#: and the best model after every epoch cost ~0.7 s of a U-Net's 4-5 s epoch on a 2-core CPU.
BACKUP_EVERY_SECONDS = 60.0


@dataclass(frozen=True)
class TrainSettings:
    """Everything that changes what a run learns (and so its name)."""

    model: str
    model_params: dict = field(default_factory=dict)
    loss: str = "mse"
    learning_rate: float = 1e-3
    #: "constant", or "cosine": decay from ``learning_rate`` to 0 over the planned epochs
    schedule: str = "constant"
    epochs: int = 10
    #: batches per epoch (None: one pass over the training photos, one crop each)
    steps_per_epoch: int | None = None
    batch_size: int = 16
    crop_size: int = 128
    #: photos are shrunk so their longer side is this many pixels before cropping (and before
    #: prediction): colour needs context more than detail, and L comes back sharp anyway
    work_side: int = 192
    augment: str = "flip"
    #: early stopping on val_loss after this many epochs without improvement (None: off)
    patience: int | None = None
    #: a finished run whose model's weights initialise this one (a GAN's generator: pre-trained
    #: with L1 first, the idea DeOldify calls NoGAN)
    init_from: str | None = None
    seed: int = config.SEED
    #: the Keras dtype policy training computes in (:mod:`colorize.precision`; the lessons ask
    #: for "auto": bfloat16 on CPUs with AMX); the model always predicts in float32
    precision: str = "float32"

    def to_dict(self) -> dict:
        return asdict(self)

    def describe(self) -> str:
        """What a reader needs to know about the run, without its folder's hash."""
        return f"{self.model}, {self.loss} loss, learning rate {self.learning_rate:g}, {self.epochs} epochs"

    def run_name(self, dataset: Dataset, profile: str) -> str:
        """Readable and unique: model, loss, learning rate, epochs, data; then a hash of the settings
        and of which photos are in each split (by file name, so a moved data folder still matches)."""
        photos = {split: sorted(path.name for path in paths) for split, paths in dataset.splits.items()}
        settings = self.to_dict()
        if settings["precision"] == "float32":  # runs from before the precision knob keep their names
            del settings["precision"]
        identity = json.dumps({**settings, "dataset": dataset.name, "photos": photos, "profile": profile},
                              sort_keys=True)
        digest = hashlib.sha1(identity.encode()).hexdigest()[:8]
        return f"{self.model}-{self.loss}-lr{self.learning_rate:g}-e{self.epochs}-{dataset.name}-{profile}-{digest}"


# --- data ------------------------------------------------------------------------------------

_photo_cache: dict[tuple, list[np.ndarray]] = {}


def load_split(dataset: Dataset, split: str, work_side: int) -> list[np.ndarray]:
    """A split's photos shrunk to ``work_side``, decoded once per session (runs share them)."""
    key = (tuple(dataset.paths(split)), work_side)
    if key not in _photo_cache:
        _photo_cache[key] = dataset.load(split, max_side=work_side, progress=False)
    return _photo_cache[key]


def _pipelines(dataset: Dataset, settings: TrainSettings, crop_size: int, target: str):
    train_photos = load_split(dataset, "train", settings.work_side)
    val_photos = load_split(dataset, "val", settings.work_side)
    common = dict(crop_size=crop_size, batch_size=settings.batch_size, seed=settings.seed, target=target)
    train = make_pipeline(train_photos, training=True, augment=settings.augment, repeat=True, **common)
    val = make_pipeline(val_photos, training=False, **common)
    steps = settings.steps_per_epoch or max(1, len(train_photos) // settings.batch_size)
    return train, val, steps


# --- callbacks -------------------------------------------------------------------------------

class EpochTimer(keras.callbacks.Callback):
    """Adds ``seconds`` and ``images_per_second`` to each epoch's logs (so CSVLogger records them)."""

    def __init__(self, images_per_epoch: int):
        super().__init__()
        self.images_per_epoch = images_per_epoch

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.perf_counter() - self._start
        if logs is not None:
            logs["seconds"] = seconds
            logs["images_per_second"] = self.images_per_epoch / seconds


class StopOnDivergence(keras.callbacks.Callback):
    """Stop with a clear message instead of saving a model whose loss became NaN or infinite."""

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self.model.stop_training = True
            raise ColorizeError(f"Training diverged (loss {loss}) at batch {batch}: lower the learning rate.")


class KeepBestWeights(keras.callbacks.Callback):
    """ModelCheckpoint(save_best_only) without a file written at every better epoch: the weights
    of the lowest validation loss are held in memory and written to ``path`` when the run backs up
    (:class:`PeriodicBackup` calls :meth:`flush`) and when training ends, so the file on disk
    always belongs to the epochs the backup holds. ``best``: the value to beat on resuming."""

    def __init__(self, path: Path, best: float | None = None):
        super().__init__()
        self.path, self.best, self._weights = path, math.inf if best is None else best, None

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get("val_loss")
        if value is not None and math.isfinite(float(value)) and float(value) < self.best:
            self.best, self._weights = float(value), self.model.get_weights()

    def flush(self) -> None:
        if self._weights is None:
            return
        current = self.model.get_weights()
        self.model.set_weights(self._weights)
        self.model.save(self.path)
        self.model.set_weights(current)
        self._weights = None

    def on_train_end(self, logs=None):
        self.flush()


class GeneratorCheckpoint(keras.callbacks.Callback):
    """Save a GAN's generator (what predicts) and discriminator when the run backs up and when it
    ends: the last epoch's generator is the one kept, as in pix2pix. Picking the epoch of lowest
    validation L1 would pick the *least* adversarial generator, since the adversary pulls colours
    away from the L1 average on purpose. (ModelCheckpoint would also save the whole GAN, a
    subclassed model that needs its code to be loaded again.)"""

    def __init__(self, path: Path):
        super().__init__()
        self.path = path

    def flush(self) -> None:
        self.model.generator.save(self.path)
        self.model.discriminator.save(self.path.with_name(DISCRIMINATOR_FILE))

    def on_train_end(self, logs=None):
        self.flush()


class PeriodicBackup(keras.callbacks.BackupAndRestore):
    """Keras' BackupAndRestore, saved at the end of an epoch only when ``every_seconds`` have
    passed since the last save; ``before_saving`` (the best-weights writers) run first, so what
    they write matches the backup's epoch. Keras deletes the backup when training finishes."""

    def __init__(self, backup_dir: Path, every_seconds: float, before_saving=()):
        super().__init__(str(backup_dir), double_checkpoint=True)
        self.every_seconds, self.before_saving = every_seconds, list(before_saving)
        self._saved_at = time.monotonic()

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self._saved_at = time.monotonic()

    def on_epoch_end(self, epoch, logs=None):
        if time.monotonic() - self._saved_at < self.every_seconds:
            return
        for flush in self.before_saving:
            flush()
        super().on_epoch_end(epoch, logs)
        self._saved_at = time.monotonic()


class StopOnCollapse(keras.callbacks.Callback):
    """A GAN whose discriminator wins outright (its loss near 0) no longer teaches the generator."""

    def __init__(self, min_d_loss: float = 1e-3):
        super().__init__()
        self.min_d_loss = min_d_loss

    def on_epoch_end(self, epoch, logs=None):
        d_loss = (logs or {}).get("d_loss")
        if d_loss is not None and d_loss < self.min_d_loss:
            self.model.stop_training = True
            raise ColorizeError(f"The discriminator won (d_loss {d_loss:.2g} at epoch {epoch + 1}): the GAN collapsed; "
                                "lower its learning rate or raise the L1 weight.")


def _trim_history_to_backup(run_dir: Path) -> None:
    """A run killed between logging an epoch and backing it up would log that epoch twice when it
    resumes: keep only the epochs the backup holds."""
    metadata = run_dir / BACKUP_DIR / "training_metadata.json"
    history = run_dir / HISTORY_FILE
    if not (metadata.is_file() and history.is_file()):
        return
    completed = json.loads(metadata.read_text())["epoch"]
    rows = pd.read_csv(history)
    rows[rows["epoch"] < completed].to_csv(history, index=False)


def _best_val_so_far(history_path: Path) -> float | None:
    if not history_path.is_file():
        return None
    history = pd.read_csv(history_path)
    return float(history["val_loss"].min()) if "val_loss" in history and len(history) else None


def _callbacks(recipe: Recipe, model: keras.Model, run_dir: Path, images_per_epoch: int, patience: int | None,
               resuming: bool) -> list:
    history_path = run_dir / HISTORY_FILE
    keepers = recipe.callbacks(model, run_dir / MODEL_FILE, _best_val_so_far(history_path) if resuming else None)
    callbacks = [
        EpochTimer(images_per_epoch),  # first, so the loggers below see its numbers
        StopOnDivergence(),
        *keepers,
        keras.callbacks.CSVLogger(str(history_path), append=resuming),
        PeriodicBackup(run_dir / BACKUP_DIR, BACKUP_EVERY_SECONDS,
                       before_saving=[keeper.flush for keeper in keepers if hasattr(keeper, "flush")]),
    ]
    if patience is not None:
        callbacks.insert(2, keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience))
    return callbacks


# --- recipes: how each family of models trains ------------------------------------------------

class Recipe:
    """How a family of models trains, in one place: what the pipeline pairs with L (``target``),
    how the model compiles (optimizer, Keras loss objects) and which weights the run keeps. A new
    family, a precision or a strategy touches its recipe, not :func:`train`."""

    name = "regression"
    #: a run keeps its last epoch's network, not its lowest-validation-loss one
    keeps_last_epoch = False

    def __init__(self, target: str = "ab"):
        self.target = target

    def compile(self, model: keras.Model, settings: TrainSettings, steps_per_epoch: int, dataset: Dataset,
                run_dir: Path) -> None:
        model.compile(optimizer=keras.optimizers.Adam(_learning_rate(settings, steps_per_epoch)),
                      loss=self.loss(settings, dataset, run_dir))
        # Created here, eagerly, Adam's slot variables are not created inside fit's first traced
        # step, which TensorFlow then traces a second time: a U-Net's first epoch took 15.7 s
        # instead of 9.0 (2-core Xeon); the slots start at zero either way.
        model.optimizer.build(model.trainable_variables)

    def loss(self, settings: TrainSettings, dataset: Dataset, run_dir: Path):
        if settings.loss not in LOSSES:
            raise ColorizeError(f"Unknown loss {settings.loss!r}: choose one of {', '.join(LOSSES)}.")
        return LOSSES[settings.loss]  # Keras' own losses (scaled correctly under a strategy)

    def callbacks(self, model: keras.Model, path: Path, best: float | None) -> list:
        return [KeepBestWeights(path, best)]


class DistributionRecipe(Recipe):
    """Zhang et al.: a distribution over ab bins, trained with the class-rebalanced cross-entropy
    on soft-encoded ab (the pipeline yields ab; the loss encodes it)."""

    name = "distribution"

    def loss(self, settings: TrainSettings, dataset: Dataset, run_dir: Path):
        """Cross-entropy on soft-encoded ab, each pixel weighted by how rare the bin of its true
        colour is under the training photos' smoothed prior (kept in the run as prior.npz)."""
        from colorize import classification

        if settings.loss not in DISTRIBUTION_LOSSES:
            raise ColorizeError(f"A distribution model needs loss {' or '.join(DISTRIBUTION_LOSSES)}, "
                                f"not {settings.loss!r}.")
        bins = classification.ab_bins()
        prior = colour_prior(dataset, settings.work_side)
        smoothed = classification.smooth_prior(prior, bins)
        weights = classification.rebalancing_weights(smoothed, lam=DISTRIBUTION_LOSSES[settings.loss])
        np.savez(run_dir / PRIOR_FILE, prior=prior, smoothed=smoothed, weights=weights)
        return classification.RebalancedCrossEntropy(bins, weights)


class GanRecipe(Recipe):
    """pix2pix: Adam with beta_1 = 0.5 for both networks (the model holds its own Keras loss
    objects); the last generator is kept, and a discriminator that wins outright stops the run."""

    name = "gan"
    keeps_last_epoch = True

    def compile(self, model, settings, steps_per_epoch, dataset, run_dir) -> None:
        model.compile(g_optimizer=keras.optimizers.Adam(_learning_rate(settings, steps_per_epoch), beta_1=0.5),
                      d_optimizer=keras.optimizers.Adam(_learning_rate(settings, steps_per_epoch), beta_1=0.5))

    def callbacks(self, model, path, best) -> list:
        return [StopOnCollapse(), GeneratorCheckpoint(path)]


def recipe_for(model: keras.Model) -> Recipe:
    """The recipe of a built model's family."""
    if isinstance(model, models.gan.ConditionalGAN):
        return GanRecipe()
    kind = models.output_kind(model)
    if kind == "distribution":
        return DistributionRecipe()
    return Recipe(target="ab+hints" if models.takes_hints(model) else kind)


# --- the entry point --------------------------------------------------------------------------

def settings_for(profile: config.Profile, model: str, **knobs) -> TrainSettings:
    """Settings for ``model`` sized by a profile (crop, working side, batch) and capped by it
    (``smoke`` trains every model for a couple of steps); ``knobs`` set the rest."""
    sized = {"crop_size": profile.crop_size, "work_side": profile.work_side, "batch_size": profile.batch_size,
             **knobs, "precision": precision.resolve(knobs.get("precision", precision.AUTO), model)}
    settings = TrainSettings(model=model, **sized)
    if profile.max_epochs is not None:
        settings = replace(settings, epochs=min(settings.epochs, profile.max_epochs))
    if profile.max_steps_per_epoch is not None:
        settings = replace(settings, steps_per_epoch=min(settings.steps_per_epoch or profile.max_steps_per_epoch,
                                                         profile.max_steps_per_epoch))
    return settings


def train_all(dataset: Dataset, settings: dict[str, TrainSettings], *, profile: config.Profile | str = "full",
              verbose: int | str = 0) -> dict[str, Run]:
    """Train (or reuse) several runs, one line each; returns them by label."""
    runs = {}
    for label, one in settings.items():
        runs[label] = train(dataset, one, profile=profile, verbose=verbose, label=label)
        record = runs[label].record
        print(f"  {label}: best val loss {record['best_val_loss']:.4f} at epoch {record['best_epoch']}"
              f"/{record['epochs_run']}, {record['train_seconds']:.0f} s, {record['images_per_second']:.0f} images/s")
    return runs


def train_seeds(dataset: Dataset, settings: dict[str, TrainSettings], seeds, *, profile: config.Profile | str = "full",
                verbose: int | str = 0) -> dict[str, dict[int, Run]]:
    """The same recipes trained once per seed (the course's own seed reuses its finished run):
    ``{label: {seed: run}}``, for the run-to-run spread of :mod:`colorize.intervals`."""
    found = {}
    for label, one in settings.items():
        found[label] = {}
        for seed in seeds:
            quiet = io.StringIO()
            with contextlib.redirect_stdout(quiet):  # one line per recipe, not one per seed
                found[label][seed] = train(dataset, replace(one, seed=seed), profile=profile, verbose=verbose,
                                           label=f"{label}, seed {seed}")
        losses = [run.record["best_val_loss"] for run in found[label].values()]
        print(f"  {label}: {len(seeds)} seeds, best val loss {min(losses):.4f} to {max(losses):.4f}")
    return found


def train(dataset: Dataset, settings: TrainSettings, *, profile: config.Profile | str = "full", force: bool = False,
          strategy: tf.distribute.Strategy | None = None, verbose: int | str = "auto", label: str | None = None) -> Run:
    """Fit ``settings.model`` on ``dataset`` (or reuse the finished run with the same settings).

    ``label``: how messages name the run (default: its settings, never its folder's hash).
    ``strategy``: a ``tf.distribute`` strategy to build and fit under (default: the one in scope,
    i.e. plain single-device training unless the caller opened e.g. a MirroredStrategy).
    """
    profile = profile if isinstance(profile, str) else profile.name
    name = settings.run_name(dataset, profile)
    run_dir = config.models_dir() / name
    finished = find_run(name)
    label = label or settings.describe()
    if finished is not None and not force:
        print(f"Reusing the finished run of {label} ({finished.record['epochs_run']} epochs, "
              f"{finished.record['train_seconds']:.0f} s).")
        return finished
    if force and run_dir.exists():
        shutil.rmtree(run_dir)
    resuming = (run_dir / BACKUP_DIR).is_dir()
    run_dir.mkdir(parents=True, exist_ok=True)
    if resuming:
        _trim_history_to_backup(run_dir)
    else:
        (run_dir / HISTORY_FILE).unlink(missing_ok=True)

    config.set_seed(settings.seed)
    strategy = strategy or tf.distribute.get_strategy()
    with precision.policy(settings.precision), strategy.scope():
        model = models.build(settings.model, **settings.model_params)
        predictor = models.predictor(model)
        if settings.init_from:
            _initialise_from(predictor, settings.init_from)
        crop_size = models.fixed_input_size(predictor) or settings.crop_size
        recipe = recipe_for(model)
        train_data, val_data, steps = _pipelines(dataset, settings, crop_size, recipe.target)
        recipe.compile(model, settings, steps, dataset, run_dir)
    images_per_epoch = steps * settings.batch_size
    print(f"Training {label}: {predictor.count_params():,} parameters, {settings.epochs} epochs x {steps} steps"
          f" of {settings.batch_size} crops {crop_size}x{crop_size}"
          + ("" if settings.precision == "float32" else f", in {settings.precision}")
          + (" (resuming)" if resuming else ""))
    start = time.perf_counter()
    with precision.policy(settings.precision):
        model.fit(train_data, validation_data=val_data, epochs=settings.epochs, steps_per_epoch=steps,
                  shuffle=False, verbose=verbose,
                  callbacks=_callbacks(recipe, model, run_dir, images_per_epoch, settings.patience, resuming))
    seconds = time.perf_counter() - start
    return _finish(run_dir, model, recipe, settings, dataset, profile, seconds, images_per_epoch)


def _initialise_from(model: keras.Model, run_name: str) -> None:
    source = find_run(run_name)
    if source is None:
        raise ColorizeError(f"Cannot start from run {run_name!r}: it has not finished (train it first).")
    # A hint network starting from an automatic U-Net: its extra input channels start at zero.
    models.widen_input_from(model, source.load_model())


def colour_prior(dataset: Dataset, work_side: int) -> np.ndarray:
    """The empirical distribution of the training photos' colours over the ab bins."""
    from colorize import classification, lab

    photos = load_split(dataset, "train", work_side)
    ab = np.concatenate([np.asarray(lab.rgb_to_lab(np.float32(photo) / 255.0))[..., 1:].reshape(-1, 2)
                         for photo in photos])  # floats: as the training pipeline converts them
    return classification.empirical_prior(ab, classification.ab_bins())


def _learning_rate(settings: TrainSettings, steps_per_epoch: int):
    if settings.schedule == "constant":
        return settings.learning_rate
    if settings.schedule == "cosine":
        return keras.optimizers.schedules.CosineDecay(settings.learning_rate, settings.epochs * steps_per_epoch)
    raise ColorizeError(f"Unknown schedule {settings.schedule!r}: use 'constant' or 'cosine'.")


def _finish(run_dir: Path, model: keras.Model, recipe: Recipe, settings: TrainSettings, dataset: Dataset,
            profile: str, seconds: float, images_per_epoch: int) -> Run:
    from colorize import versions

    history = pd.read_csv(run_dir / HISTORY_FILE)
    predictor = models.predictor(model)
    if not (run_dir / MODEL_FILE).is_file():  # no finite val_loss ever: keep the last weights
        predictor.save(run_dir / MODEL_FILE)
    best = int(history["val_loss"].idxmin()) if "val_loss" in history else len(history) - 1
    # The first epoch includes tracing the graph; the speed of the others is the model's.
    steady = history["images_per_second"].iloc[1:] if len(history) > 1 else history["images_per_second"]
    record = {
        "name": run_dir.name,
        "model": settings.model,
        "model_params": settings.model_params,
        "parameters": int(predictor.count_params()),
        "trained_parameters": int(sum(np.prod(w.shape) for w in model.weights)),
        "stride": models.stride(predictor),
        "output": models.output_kind(predictor),
        "profile": profile,
        "dataset": dataset.describe(),
        "split_sizes": dataset.counts(),
        "epochs_planned": settings.epochs,
        "epochs_run": int(len(history)),
        "stopped_early": bool(len(history) < settings.epochs),
        "best_epoch": best + 1,
        # the epoch whose weights model.keras holds: a GAN keeps its last generator
        "saved_epoch": int(len(history)) if recipe.keeps_last_epoch else best + 1,
        "recipe": recipe.name,
        "best_val_loss": float(history["val_loss"].iloc[best]) if "val_loss" in history else None,
        "images_per_epoch": images_per_epoch,
        "train_seconds": float(history["seconds"].sum()) if "seconds" in history else seconds,
        "images_per_second": float(steady.median()),
        "seed": settings.seed,
        "precision": settings.precision,
        "settings": settings.to_dict(),
        "versions": versions(),
    }
    (run_dir / RUN_FILE).write_text(json.dumps(record, indent=2))
    return Run(run_dir, record)


def runs_table(runs: dict[str, Run]) -> pd.DataFrame:
    """One row per run: parameters, epochs, best validation loss, seconds, images/s."""
    rows = [{"model": label, "parameters": run.record["parameters"], "epochs": run.record["epochs_run"],
             "best epoch": run.record["best_epoch"], "best val loss": run.record["best_val_loss"],
             "train s": run.record["train_seconds"], "images/s": run.record["images_per_second"]}
            for label, run in runs.items()]
    return pd.DataFrame(rows).set_index("model")


def _split_crops(dataset: Dataset, settings: "TrainSettings", crop_size: int) -> dict:
    """The three crop sets that tell why validation loss differs from training loss: training
    photos as training sees them, training photos cut as validation is, and the validation photos."""
    common = dict(crop_size=crop_size, batch_size=settings.batch_size, seed=settings.seed)
    train_photos = load_split(dataset, "train", settings.work_side)
    return {
        "training photos, random crops (as trained)": make_pipeline(train_photos, training=True,
                                                                    augment=settings.augment, **common),
        "training photos, centre crops": make_pipeline(train_photos, training=False, **common),
        "validation photos, centre crops (the val loss)": make_pipeline(
            load_split(dataset, "val", settings.work_side), training=False, **common),
    }


def split_losses(run: Run, dataset: Dataset) -> pd.DataFrame:
    """Why a run's validation loss can sit below its training loss, measured: the run's best
    model, and the guess "no colour" (ab = 0), scored with the run's loss (mean squared error of
    normalised ab) on the training photos as training sees them (random crops, the run's
    augmentation: one epoch's worth), on the training photos cut as validation is (fixed centre
    crops), and on the validation photos.

    If the model's losses on the first two rows agree, cropping and augmentation do not explain
    the gap; if the gray guess's loss differs between the photo sets as much as the model's, the
    validation photos are simply less colourful. Only for ab-output runs trained with MSE."""
    settings = TrainSettings(**run.record["settings"])
    model = run.load_model()
    if models.output_kind(model) != "ab" or LOSSES.get(settings.loss) != "mean_squared_error":
        raise ColorizeError("split_losses is for ab-output runs trained with a squared-error loss.")
    crop_size = models.fixed_input_size(model) or settings.crop_size
    pipelines = _split_crops(dataset, settings, crop_size)
    rows = {}
    for name, pipeline in pipelines.items():
        model_error = gray_error = values = 0.0
        for lightness, ab in pipeline:
            prediction = model(lightness, training=False)
            model_error += float(tf.reduce_sum(tf.square(prediction - ab)))
            gray_error += float(tf.reduce_sum(tf.square(ab)))
            values += float(tf.size(ab))
        rows[name] = {"model loss": model_error / values, "gray (ab = 0) loss": gray_error / values}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table["model / gray"] = table["model loss"] / table["gray (ab = 0) loss"]
    table.index.name = "crops scored"
    return table


def distribution_split_losses(run: Run, dataset: Dataset) -> pd.DataFrame:
    """Why a distribution run's validation loss sits below its training loss, measured (lesson 07):
    the run's best model scored with its rebalanced cross-entropy and with the plain, unweighted
    one, on the training photos as training sees them (random crops, the run's augmentation), on
    the training photos cut as validation is (centre crops), and on the validation photos; plus
    the mean class weight of the true colours in each.

    The weights average 1 under the *training* photos' prior, so a photo set with fewer rare,
    saturated pixels has a lower mean weight and a lower rebalanced loss at the same fit: if the
    unweighted column agrees across rows, the gap is the weights, not over- or under-fitting."""
    from colorize import classification

    settings = TrainSettings(**run.record["settings"])
    if settings.loss not in DISTRIBUTION_LOSSES:
        raise ColorizeError("distribution_split_losses is for runs trained with a rebalanced cross-entropy.")
    model, bins = run.load_model(), classification.ab_bins()
    weights = tf.constant(run.prior()["weights"], dtype=tf.float32)
    pipelines = _split_crops(dataset, settings, settings.crop_size)

    @tf.function(reduce_retracing=True)  # one graph for the model and the encoding: several times faster
    def batch_sums(lightness, ab):
        cross_entropy, nearest = classification.soft_cross_entropy(ab, model(lightness, training=False), bins)
        pixel_weights = tf.gather(weights, nearest)
        return tf.stack([tf.reduce_sum(pixel_weights * cross_entropy), tf.reduce_sum(cross_entropy),
                         tf.reduce_sum(pixel_weights), tf.cast(tf.size(cross_entropy), tf.float32)])

    rows = {}
    for name, pipeline in pipelines.items():
        rebalanced, plain, weight_total, pixels = np.sum([batch_sums(l, ab).numpy() for l, ab in pipeline], axis=0,
                                                          dtype=np.float64)
        rows[name] = {"rebalanced loss (as trained)": rebalanced / pixels, "unweighted cross-entropy": plain / pixels,
                      "mean class weight": weight_total / pixels}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "crops scored"
    return table
