"""A finished training run on disk (``models/<run>/``) and how to find one by name.

Reading a run's record needs no TensorFlow: the command line lists models, and the lessons'
registry resolves labels, without importing it. Loading the network does (:meth:`Run.load_model`).
:mod:`colorize.train` writes these folders.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from colorize import config
from colorize.config import ColorizeError

PRIOR_FILE = "prior.npz"  # distribution runs: the colour prior and class weights they trained with
RUN_FILE, HISTORY_FILE, MODEL_FILE, BACKUP_DIR = "run.json", "history.csv", "model.keras", "backup"
DISCRIMINATOR_FILE = "discriminator.keras"  # GAN runs only
#: Model families (``settings["model"]``) that take colour hints, or predict a colour distribution.
HINT_FAMILIES, DISTRIBUTION_FAMILIES = frozenset({"hint_unet"}), frozenset({"colorful_classifier"})


def _load_keras(path: Path):
    import keras

    from colorize import precision

    return precision.as_float32(keras.models.load_model(path, compile=False))


@dataclass
class Run:
    """A finished training run on disk."""

    directory: Path
    record: dict

    @classmethod
    def from_directory(cls, directory: Path) -> "Run | None":
        """The run kept in ``directory``, or None if it holds no finished run (no run record)."""
        record = Path(directory) / RUN_FILE
        return cls(Path(directory).resolve(), json.loads(record.read_text())) if record.is_file() else None

    @property
    def name(self) -> str:
        return self.directory.name

    @property
    def family(self) -> str:
        """The model builder's name (``unet``, ``pix2pix``, ``hint_unet``...)."""
        return self.record.get("settings", {}).get("model") or self.record.get("model", "")

    @property
    def takes_hints(self) -> bool:
        return self.family in HINT_FAMILIES

    @property
    def predicts_distribution(self) -> bool:
        return self.family in DISTRIBUTION_FAMILIES

    @property
    def history(self):
        """One row per epoch (a pandas DataFrame)."""
        import pandas as pd

        return pd.read_csv(self.directory / HISTORY_FILE)

    @property
    def precision(self) -> str:
        """The dtype policy the run trained in (runs from before the knob: float32)."""
        return self.record.get("precision") or self.record.get("settings", {}).get("precision") or "float32"

    def load_model(self):
        """The trained network (a GAN's generator, a ``keras.Model``), computing in float32 whatever
        it trained in."""
        return _load_keras(self.directory / MODEL_FILE)

    def load_discriminator(self):
        """A GAN run's discriminator at the generator's best epoch (in float32, as :meth:`load_model`)."""
        path = self.directory / DISCRIMINATOR_FILE
        if not path.is_file():
            raise ColorizeError(f"Run {self.name} has no discriminator: only GAN runs keep one.")
        return _load_keras(path)

    def colorizer(self, temperature: float | None = None):
        """This run's model as a colorizer (L -> ab at any photo size) for :mod:`colorize.metrics`;
        ``temperature``: the annealed mean's T for distribution models (default 0.38)."""
        from colorize.predict import ModelColorizer

        return ModelColorizer(self.load_model(), work_side=self.record["settings"]["work_side"], temperature=temperature)

    def prior(self) -> dict:
        """A distribution run's colour prior, smoothed prior and class weights (numpy arrays)."""
        import numpy as np

        path = self.directory / PRIOR_FILE
        if not path.is_file():
            raise ColorizeError(f"Run {self.name} has no colour prior: only distribution models keep one.")
        return dict(np.load(path))


def find_run(name: str) -> Run | None:
    """A finished run by name, or None."""
    return Run.from_directory(config.models_dir() / name)
