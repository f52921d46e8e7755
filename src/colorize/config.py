"""Profiles, paths and seeds: the one place a run's settings come from.

A *profile* is data, not a branch in a notebook: ``smoke`` runs every lesson in seconds on the
embedded sample photos (the tests use it), ``full`` is the reference course run on BSDS500.

nbval cannot pass papermill parameters, so the tests select a profile with the environment
variable ``COLORIZE_FORCE_PROFILE``; it wins over the notebook's ``PROFILE`` parameter.
"""

from __future__ import annotations

import os
import random
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

#: The seed of every random thing in the course (data splits, crops, weights, shuffles).
SEED = 42
#: Training seeds of the run-to-run spread: the course's own seed first, then others.
SPREAD_SEEDS = (SEED, SEED + 1, SEED + 2)

FORCE_PROFILE_ENV = "COLORIZE_FORCE_PROFILE"
DATA_DIR_ENV = "COLORIZE_DATA_DIR"
HOME_ENV = "COLORIZE_HOME"
REPORTS_DIR_ENV = "COLORIZE_REPORTS_DIR"


@dataclass(frozen=True)
class Profile:
    """How big a run is. Lessons read the knobs they need; unknown knobs are never invented."""

    name: str
    description: str
    #: what DATASET="auto" means: try BSDS500 first ("bsds500") or go straight to "sample"
    auto_dataset: str
    #: cap on photos per split (None: all), applied after the split so splits stay disjoint
    max_images_per_split: int | None
    #: side of the square training crops, in pixels
    crop_size: int
    #: photos are shrunk to this longer side before cropping and before a model sees them
    work_side: int
    batch_size: int
    #: longest side evaluation photos are scored at (None: full resolution)
    eval_max_side: int | None
    #: how many photos the figures show
    gallery_size: int
    #: caps on every training run (None: the lesson's own numbers), so smoke trains in seconds
    max_epochs: int | None = None
    max_steps_per_epoch: int | None = None
    #: training seeds behind each run-to-run spread (the first is the course's own run)
    spread_seeds: tuple[int, ...] = SPREAD_SEEDS

    def to_dict(self) -> dict:
        return asdict(self)


PROFILES: dict[str, Profile] = {
    "smoke": Profile(
        name="smoke",
        description="every notebook in seconds on the embedded sample photos (used by the tests)",
        auto_dataset="sample",
        max_images_per_split=4,
        crop_size=32,
        work_side=64,
        batch_size=4,
        eval_max_side=256,
        gallery_size=3,
        max_epochs=2,
        max_steps_per_epoch=2,
        spread_seeds=SPREAD_SEEDS[:2],
    ),
    "full": Profile(
        name="full",
        description="the reference course run on BSDS500 (falls back to the sample photos offline)",
        auto_dataset="bsds500",
        max_images_per_split=None,
        crop_size=64,
        work_side=96,
        batch_size=16,
        eval_max_side=None,
        gallery_size=8,
    ),
}


class ColorizeError(Exception):
    """A user mistake or a missing resource, explained in one line that says what to do."""


def get_profile(name: str | None = None, **overrides) -> Profile:
    """The profile called ``name`` (``$COLORIZE_FORCE_PROFILE`` wins), with knobs overridden."""
    forced = os.environ.get(FORCE_PROFILE_ENV, "").strip()
    chosen = forced or (name or "full")
    if chosen not in PROFILES:
        raise ColorizeError(
            f"Unknown profile {chosen!r}: choose one of {', '.join(PROFILES)} (e.g. PROFILE=smoke)."
        )
    profile = PROFILES[chosen]
    unknown = set(overrides) - set(profile.to_dict())
    if unknown:
        raise ColorizeError(f"Profile has no knob(s) {sorted(unknown)}; known: {sorted(profile.to_dict())}.")
    return replace(profile, **overrides) if overrides else profile


def project_root() -> Path:
    """The course checkout: ``$COLORIZE_HOME``, else the folder holding pyproject.toml above us."""
    if os.environ.get(HOME_ENV):
        return Path(os.environ[HOME_ENV]).expanduser().resolve()
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "pyproject.toml").is_file() and (parent / "src" / "colorize").is_dir():
            return parent
    return Path.cwd()


def display_path(path: Path | str) -> str:
    """A path as a report may show it: relative to the course checkout (reports must not show
    the machine's absolute paths); a path far outside it is shown by its last two parts."""
    path = Path(path).expanduser()
    if not path.is_absolute():
        return path.as_posix()
    root = project_root()
    try:
        return path.resolve().relative_to(root).as_posix() or "."
    except ValueError:
        pass
    relative = Path(os.path.relpath(path.resolve(), root))
    if relative.parts[:3] != ("..", "..", ".."):
        return relative.as_posix()
    return "…/" + "/".join(path.parts[-2:])


def data_dir() -> Path:
    """Where downloads and caches go (``data/`` of the checkout)."""
    return project_root() / "data"


def reports_dir() -> Path:
    """Where reports and figures go: ``$COLORIZE_REPORTS_DIR`` (tests), else ``reports/``."""
    if os.environ.get(REPORTS_DIR_ENV):
        return Path(os.environ[REPORTS_DIR_ENV]).expanduser().resolve()
    return project_root() / "reports"


def models_dir() -> Path:
    return project_root() / "models"


def set_seed(seed: int = SEED) -> int:
    """Seed Python, NumPy, TensorFlow and Keras at once, and ask TensorFlow for determinism."""
    random.seed(seed)
    np.random.seed(seed)
    os.environ.setdefault("PYTHONHASHSEED", str(seed))
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    try:
        tf.config.experimental.enable_op_determinism()
    except Exception:  # older TensorFlow builds lack it; results are then only nearly equal
        pass
    return seed


def progress(iterable=None, **kwargs):
    """A tqdm progress bar that stays readable in executed reports.

    In a terminal or a notebook with widgets it is the usual live bar; in a kernel without
    widgets (papermill, nbval) every redraw would become a line of the saved report, so it
    redraws at most every 20 s there.
    """
    from tqdm.std import tqdm as plain_tqdm

    try:
        from IPython import get_ipython

        in_kernel = get_ipython() is not None and "IPKernelApp" in get_ipython().config
    except ImportError:
        in_kernel = False
    if in_kernel:
        try:
            import ipywidgets  # noqa: F401
        except ImportError:
            kwargs.setdefault("mininterval", 20.0)
        else:
            from tqdm.notebook import tqdm as widget_tqdm

            return widget_tqdm(iterable, **kwargs)
    return plain_tqdm(iterable, **kwargs)
