"""Which floating-point precision training computes in, chosen for the machine it runs on.

``"auto"`` (what every lesson asks for) means Keras' ``mixed_bfloat16`` on a CPU with Intel AMX
(its tile units multiply bfloat16 several times faster than float32), ``mixed_float16`` on a GPU,
and plain ``float32`` everywhere else: a CPU without AMX has no faster bfloat16 kernels, so there
it gains nothing or loses. Under a mixed policy the weights stay float32 and only the layers'
arithmetic is in 16 bits; the output layers are float32 (``dtype="float32"`` in the builders)
so losses and predictions keep full precision. ``COLORIZE_PRECISION`` overrides ``"auto"``
(e.g. ``COLORIZE_PRECISION=float32`` to train as a machine without AMX would).

A trained model always *predicts* in float32 (:func:`colorize.train.Run.load_model` rebuilds
it so), so its results do not depend on the machine that colorizes with it.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from colorize.config import ColorizeError

AUTO = "auto"
FLOAT32 = "float32"
BFLOAT16 = "mixed_bfloat16"
FLOAT16 = "mixed_float16"
CHOICES = (AUTO, FLOAT32, BFLOAT16, FLOAT16)
PRECISION_ENV = "COLORIZE_PRECISION"
_CPUINFO = Path("/proc/cpuinfo")
#: Families that train *slower* in mixed bfloat16 on an AMX CPU, so "auto" keeps them in float32.
#: Measured in one run on the 2-core AMX Xeon (full profile, epoch seconds, float32 -> bfloat16):
#: U-Net 3.43 -> 2.57, GAN 3.69 -> 3.27, updated CNN 0.87 -> 0.70, autoencoder 0.96 -> 0.82, but
#: the colourful classifier 6.88 -> 7.99: its float32 261-bin softmax head and loss dominate the
#: step, and the casts into them cost more than the bfloat16 body saves.
FLOAT32_ON_AMX = frozenset({"colorful_classifier"})


def cpu_flags(cpuinfo: Path = _CPUINFO) -> set[str]:
    """The first CPU's feature flags (Linux); empty where they cannot be read."""
    try:
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def has_amx_bf16(cpuinfo: Path = _CPUINFO) -> bool:
    """Whether the CPU has AMX tiles for bfloat16 (Sapphire Rapids Xeons and later)."""
    return "amx_bf16" in cpu_flags(cpuinfo)


def _has_gpu() -> bool:
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


def resolve(choice: str = AUTO, model: str | None = None, *, cpuinfo: Path = _CPUINFO,
            gpu: bool | None = None) -> str:
    """The Keras dtype policy ``choice`` means here for the family ``model``: ``"auto"`` (or
    ``$COLORIZE_PRECISION``) becomes one of ``float32``, ``mixed_bfloat16``, ``mixed_float16``."""
    if choice == AUTO:
        choice = os.environ.get(PRECISION_ENV, "").strip() or AUTO
    if choice not in CHOICES:
        raise ColorizeError(f"Unknown precision {choice!r}: use one of {', '.join(CHOICES)}.")
    if choice != AUTO:
        return choice
    if _has_gpu() if gpu is None else gpu:
        return FLOAT16
    return BFLOAT16 if has_amx_bf16(cpuinfo) and model not in FLOAT32_ON_AMX else FLOAT32


@contextlib.contextmanager
def policy(name: str):
    """Build (and compile) models under Keras dtype policy ``name``; the old one comes back after."""
    import keras

    if name not in CHOICES[1:]:
        raise ColorizeError(f"Unknown precision {name!r}: use one of {', '.join(CHOICES[1:])}.")
    previous = keras.mixed_precision.dtype_policy()
    keras.mixed_precision.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.mixed_precision.set_dtype_policy(previous)


def as_float32(model):
    """``model`` computing in float32: a network saved under a mixed policy is cloned layer by
    layer in float32 and given its weights (which mixed precision keeps in float32 anyway), so a
    prediction does not depend on the machine the model was trained on."""
    import keras

    if all(layer.dtype_policy.name == FLOAT32 for layer in model.layers):
        return model

    def in_float32(layer):
        return layer.__class__.from_config({**layer.get_config(), "dtype": FLOAT32})

    with policy(FLOAT32):
        twin = keras.models.clone_model(model, clone_function=in_float32)
    twin.set_weights(model.get_weights())
    return twin
