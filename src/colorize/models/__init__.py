"""Model builders, one module per family, all behind one name -> builder table.

Every builder returns an *uncompiled* ``keras.Model`` that maps normalised L ``[B, H, W, 1]`` to
normalised ab ``[B, H, W, 2]`` (or, for the seeds' RGB baseline, sRGB ``[B, H, W, 3]``); the hint
network (:mod:`colorize.models.hint_unet`) takes L and three hint channels ``[B, H, W, 4]``.
"""

from __future__ import annotations

import keras

from colorize.config import ColorizeError
from colorize.models import autoencoder, baseline, classifier, gan, hint_unet, unet
from colorize.models.autoencoder import polychromify, seed000_autoencoder
from colorize.models.baseline import seed000_baseline, seed001_rgb_baseline, updated_cnn
from colorize.models.hint_unet import HINT_CHANNELS, takes_hints, widen_input_from
from colorize.models.unet import unet as unet_model, unet_body

BUILDERS = {
    "seed000_baseline": seed000_baseline,
    "seed001_rgb_baseline": seed001_rgb_baseline,
    "updated_cnn": updated_cnn,
    "seed000_autoencoder": seed000_autoencoder,
    "polychromify": polychromify,
    "unet": unet_model,
    "pix2pix": gan.pix2pix,
    "colorful_classifier": classifier.colorful_classifier,
    "hint_unet": hint_unet.hint_unet,
}


def build(name: str, **params) -> keras.Model:
    """The model called ``name`` with its builder's ``params`` (e.g. ``build("unet", base_filters=16)``)."""
    if name not in BUILDERS:
        raise ColorizeError(f"Unknown model {name!r}: choose one of {', '.join(BUILDERS)}.")
    return BUILDERS[name](**params)


def predictor(model: keras.Model) -> keras.Model:
    """The network that colorizes: a GAN's generator, otherwise the model itself."""
    return getattr(model, "generator", model)


def fixed_input_size(model: keras.Model) -> int | None:
    """The square size a model with dense layers needs, or None if it takes any size."""
    return model.input_shape[1]


def stride(model: keras.Model) -> int:
    """How many times the model halves its input: photos are resized to a multiple of 2**that."""
    halvings = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.MaxPooling2D):
            halvings += 1
        elif isinstance(layer, keras.layers.Conv2D) and not isinstance(layer, keras.layers.Conv2DTranspose):
            halvings += int(layer.strides[0] == 2)
    return 2 ** halvings


def measured_receptive_field(model: keras.Model, size: int = 96, seed: int = 0) -> int:
    """How many input pixels (along a side) one output pixel depends on, measured rather than
    worked out: the extent of the nonzero gradient of an output pixel with respect to a random L,
    the widest over an 8 x 8 block of output pixels near the centre (strided and transposed layers
    make it vary), each pixel on two random inputs, of ``size`` x ``size`` pixels (a field cannot
    be measured wider than that; fixed-size models use their own size). Works for any
    architecture; a dense bottleneck gives the whole input."""
    import numpy as np
    import tensorflow as tf

    side = fixed_input_size(model) or size
    rng = np.random.default_rng(seed)
    inputs = rng.uniform(-1, 1, (2, side, side, 1)).astype(np.float32)
    centre = np.asarray(model(inputs[:1], training=False)).shape[1:3]
    pixels = [(centre[0] // 2 - 4 + dy, centre[1] // 2 - 4 + dx) for dy in range(8) for dx in range(8)]
    batch = tf.constant(np.repeat(inputs, len(pixels), axis=0))  # one copy of each input per pixel
    picks = np.zeros((len(batch),) + centre + (1,), np.float32)
    for index, (row, col) in enumerate(pixels * 2):
        picks[index, row, col] = 1.0
    with _quiet_cpp_notices(), tf.GradientTape() as tape:  # the backward pass may log a oneDNN notice
        tape.watch(batch)
        picked = tf.reduce_sum(model(batch, training=False) * picks)
        reach = np.abs(tape.gradient(picked, batch).numpy())[..., 0]
    widest = 0
    for field in reach.reshape(2, len(pixels), side, side).sum(axis=0):
        rows, cols = np.nonzero(field.any(axis=1)), np.nonzero(field.any(axis=0))
        if rows[0].size:
            widest = max(widest, int(np.ptp(rows[0]) + 1), int(np.ptp(cols[0]) + 1))
    return widest


class _quiet_cpp_notices:
    """Hide what TensorFlow's C++ side writes to the process's stderr inside the block, except
    lines that are not its one-time oneDNN fallback notice (those are written back)."""

    def __enter__(self):
        import os
        import sys
        import tempfile

        sys.stderr.flush()
        self._saved, self._captured = os.dup(2), tempfile.TemporaryFile()
        os.dup2(self._captured.fileno(), 2)
        return self

    def __exit__(self, *exc):
        import os
        import sys

        os.dup2(self._saved, 2)
        os.close(self._saved)
        self._captured.seek(0)
        kept = [line for line in self._captured.read().decode(errors="replace").splitlines(keepends=True)
                if "oneDNN supports DT_INT32" not in line]
        self._captured.close()
        sys.stderr.write("".join(kept))
        return False


def output_kind(model: keras.Model) -> str:
    """``"ab"``, ``"rgb"``, or ``"distribution"`` (probabilities over quantised ab bins), from the
    number of output channels."""
    return {2: "ab", 3: "rgb"}.get(model.output_shape[-1], "distribution")


__all__ = ["BUILDERS", "HINT_CHANNELS", "autoencoder", "baseline", "build", "classifier", "fixed_input_size", "gan",
           "measured_receptive_field", "output_kind", "polychromify", "predictor",
           "seed000_autoencoder", "seed000_baseline", "seed001_rgb_baseline", "stride", "takes_hints", "unet",
           "unet_body", "unet_model", "updated_cnn", "widen_input_from"]
