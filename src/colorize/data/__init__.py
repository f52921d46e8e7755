"""Photos in, (L, ab) batches out: dataset sources, file decoding, downloads and tf.data.

Names are imported when first used (PEP 562), so reading one photo file (the command line, the
web server) does not pull in TensorFlow through the tf.data pipeline.
"""

from __future__ import annotations

import importlib

_NAMES = {
    "IMAGE_SUFFIXES": "images", "UnreadableImage": "images", "fit_within": "images", "read_image": "images",
    "read_rgb": "images",
    "AUGMENTATIONS": "pipeline", "SEED_AUGMENTATION": "pipeline", "make_pipeline": "pipeline",
    "SPLITS": "sources", "Dataset": "sources", "load_dataset": "sources", "sample_dataset": "sources",
}
_SUBMODULES = ("download", "hints", "images", "pipeline", "sources")
__all__ = sorted(_NAMES)


def __getattr__(name: str):
    if name in _NAMES:
        value = getattr(importlib.import_module(f"colorize.data.{_NAMES[name]}"), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f"colorize.data.{name}")
    raise AttributeError(f"module 'colorize.data' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_NAMES))
