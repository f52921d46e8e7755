"""colorize: the package behind the open course on automatic image colorization.

The method throughout is CIELAB: a network sees the lightness L of a photo, predicts the two
colour channels ab, and L is kept from the input. Modules, one job each:

``config`` profiles, paths, seeds · ``lab`` sRGB <-> Lab in TensorFlow · ``data`` datasets and
tf.data · ``models`` model builders · ``train`` fitting · ``runs`` finished runs on disk ·
``predict`` colorizing photos of any size · ``metrics`` scores · ``plots`` figure style ·
``reporting`` lesson set-up, ``save_fig`` and the reports index.

``import colorize`` imports none of them: each module (``colorize.train``, ``cz.save_fig``, ...)
is imported on first use, so the command line starts without TensorFlow when it needs none.
"""

from __future__ import annotations

__version__ = "0.1.0"

import os as _os
import sys as _sys
import warnings as _warnings
from importlib.machinery import PathFinder as _PathFinder

# TensorFlow's C++ start-up chatter would bury the one-line messages the course prints.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


class _QuietLoader:
    """Runs TensorFlow's own loader with file descriptor 2 sent to a temporary file (TF 2.21
    prints its oneDNN notice before it reads TF_CPP_MIN_LOG_LEVEL); if the import fails, what it
    printed is shown. Then the library loggers are quieted (:func:`_quiet_library_loggers`)."""

    def __init__(self, loader):
        self.loader = loader

    def __getattr__(self, name):  # everything else (resource readers, ...) is the real loader's
        return getattr(self.loader, name)

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        import tempfile

        _sys.stderr.flush()
        saved = _os.dup(2)
        with tempfile.TemporaryFile() as captured:
            _os.dup2(captured.fileno(), 2)
            try:
                self.loader.exec_module(module)
            except BaseException:
                _os.dup2(saved, 2)
                captured.seek(0)
                _sys.stderr.write(captured.read().decode(errors="replace"))
                raise
            finally:
                _os.dup2(saved, 2)
                _os.close(saved)
        _quiet_library_loggers(module)


class _QuietTensorFlowFinder:
    """Finds ``tensorflow`` the normal way, once, and gives it :class:`_QuietLoader`: whichever
    module of the package imports TensorFlow first, it arrives quietly, and the commands that need
    no TensorFlow (``colorize --help``, ``--list-models``) never import it."""

    def find_spec(self, name, path=None, target=None):
        # No import may happen in here before the name test: it would come back to this finder.
        if name != "tensorflow":
            return None
        _sys.meta_path.remove(self)
        spec = _PathFinder.find_spec(name, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


def _quiet_library_loggers(tensorflow) -> None:
    """Reports must not show library chatter: TensorFlow's Python logger warns about retracing when
    several colorizers each compile their own forward pass (expected here)."""
    import logging

    tensorflow.get_logger().setLevel(logging.ERROR)
    try:
        import absl.logging

        absl.logging.set_verbosity(absl.logging.ERROR)
    except ImportError:
        pass


def _install_quiet_tensorflow_import() -> None:
    if "tensorflow" in _sys.modules:  # imported before the course: quiet its loggers at least
        _quiet_library_loggers(_sys.modules["tensorflow"])
    elif not any(isinstance(finder, _QuietTensorFlowFinder) for finder in _sys.meta_path):
        _sys.meta_path.insert(0, _QuietTensorFlowFinder())


_install_quiet_tensorflow_import()

# tqdm.auto warns about missing notebook widgets inside papermill's kernel; no report shows it.
_warnings.filterwarnings("ignore", message="IProgress not found")

#: The package's modules and names, imported when first used (``import colorize`` alone
#: imports neither TensorFlow nor matplotlib, so the command line starts in a fraction of a second).
_SUBMODULES = ("config", "data", "explore", "lab", "metrics", "models", "plots", "predict", "reporting",
               "resolution", "train")
_NAMES = {"SEED": "config", "ColorizeError": "config", "get_profile": "config", "set_seed": "config",
          "save_fig": "reporting", "record_summary": "reporting", "start_lesson": "reporting"}


def __getattr__(name: str):
    import importlib

    if name in _NAMES:
        return getattr(importlib.import_module(f"{__name__}.{_NAMES[name]}"), name)
    if not name.startswith("_"):  # any module of the package: ``cz.evaluation`` as ``cz.train``
        try:
            return importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as missing:
            if missing.name != f"{__name__}.{name}":
                raise
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_SUBMODULES) | set(_NAMES))


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
