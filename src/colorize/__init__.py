"""colorize: the package behind the open course on automatic image colorization.

The method throughout is CIELAB: a network sees the lightness L of a photo, predicts the two
colour channels ab, and L is kept from the input. Modules, one job each:

``config`` profiles, paths, seeds · ``lab`` sRGB <-> Lab in TensorFlow · ``data`` datasets and
tf.data · ``models`` model builders · ``train`` fitting and run records · ``predict`` colorizing
photos of any size · ``metrics`` scores · ``plots`` figure style and ``save_fig`` · ``reporting``
lesson set-up and the reports index.
"""

from __future__ import annotations

__version__ = "0.1.0"

import os as _os

# TensorFlow's C++ start-up chatter would bury the one-line messages the course prints.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _import_tensorflow_quietly() -> None:
    """Import TensorFlow with its C++ start-up lines hidden (TF 2.21's oneDNN notice is printed
    before TF_CPP_MIN_LOG_LEVEL is read); if the import fails, what it printed is shown."""
    import sys
    import tempfile

    if "tensorflow" in sys.modules:
        return
    sys.stderr.flush()
    saved = _os.dup(2)
    with tempfile.TemporaryFile() as captured:
        _os.dup2(captured.fileno(), 2)
        try:
            import tensorflow  # noqa: F401
        except BaseException:
            _os.dup2(saved, 2)
            captured.seek(0)
            sys.stderr.write(captured.read().decode(errors="replace"))
            raise
        finally:
            _os.dup2(saved, 2)
            _os.close(saved)


_import_tensorflow_quietly()


def _quiet_library_loggers() -> None:
    """Reports must not show library chatter: TensorFlow's Python logger warns about retracing when
    several colorizers each compile their own forward pass (expected here), and tqdm.auto warns
    about missing notebook widgets inside papermill's kernel."""
    import logging
    import warnings

    import tensorflow

    tensorflow.get_logger().setLevel(logging.ERROR)
    try:
        import absl.logging

        absl.logging.set_verbosity(absl.logging.ERROR)
    except ImportError:
        pass
    warnings.filterwarnings("ignore", message="IProgress not found")


_quiet_library_loggers()

from colorize import config, data, explore, lab, metrics, models, plots, predict, reporting, resolution, train  # noqa: E402
from colorize.config import SEED, ColorizeError, get_profile, set_seed  # noqa: E402
from colorize.plots import save_fig  # noqa: E402
from colorize.reporting import record_summary, start_lesson  # noqa: E402


def versions() -> dict[str, str]:
    """Versions of what a lesson's numbers depend on (printed in every Setup)."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": platform.python_version(), "colorize": __version__}
    for package in ("tensorflow", "tensorflow-cpu", "keras", "numpy", "scikit-image", "pandas", "matplotlib"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            continue
    return found


def show_versions() -> None:
    print("  ".join(f"{name} {number}" for name, number in versions().items()))


__all__ = [
    "SEED", "ColorizeError", "config", "data", "explore", "get_profile", "lab", "metrics", "models", "plots",
    "predict", "record_summary", "reporting", "resolution", "train", "save_fig", "set_seed", "show_versions", "start_lesson", "versions",
]
