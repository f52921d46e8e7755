"""Layers every model family shares: the L input, a conv block, and the ab / RGB heads.

Conventions (see :mod:`colorize.lab`): a network's input is L scaled to [-1, 1] with shape
``[B, H, W, 1]``; an ab head predicts ab / ``lab.AB_SCALE`` through ``tanh``; the one RGB head
(seed 001's baseline, kept to show why RGB output is blurry) predicts sRGB in [0, 1].
"""

from __future__ import annotations

import keras
from keras import layers

#: Batch-norm running statistics follow the last ~10 batches, not Keras' default ~100: the
#: course's runs are a few hundred steps long, and stale statistics made validation erratic.
BN_MOMENTUM = 0.9
#: Output layers compute in float32 even under a mixed precision policy (colorize.precision), so
#: losses and predictions keep full precision; under float32 this changes nothing.
OUTPUT_DTYPE = "float32"


def lightness_input(size: int | None = None) -> keras.KerasTensor:
    """The L channel, any size unless the model has dense layers (then ``size`` x ``size``)."""
    return keras.Input(shape=(size, size, 1), name="L")


def conv_block(x, filters: int, *, strides: int = 1, batch_norm: bool = False, convs: int = 1,
               name: str | None = None):
    """``convs`` x (3x3 conv -> [batch norm] -> ReLU); the first conv carries the stride."""
    for index in range(convs):
        suffix = f"{name}_{index}" if name else None
        x = layers.Conv2D(filters, 3, strides=strides if index == 0 else 1, padding="same",
                          use_bias=not batch_norm, name=suffix and f"{suffix}_conv")(x)
        if batch_norm:
            x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=suffix and f"{suffix}_bn")(x)
        x = layers.ReLU(name=suffix and f"{suffix}_relu")(x)
    return x


#: How a decoder can double the resolution (see :func:`up_block`).
UPSAMPLE_MODES = ("transpose", "upsample", "bilinear")


def up_block(x, filters: int, *, mode: str = "transpose", batch_norm: bool = False, name: str | None = None):
    """Double the resolution: ``"transpose"``, a learned 3x3 stride-2 transposed conv (uneven
    overlap: checkerboards); ``"upsample"``, nearest-neighbour upsampling then a 3x3 conv (Odena
    et al.'s fix, ~2.2x the transposed conv's arithmetic); ``"bilinear"``, bilinear upsampling then
    a 1x1 conv (half the transposed conv's arithmetic: the decoder's 3x3 convs that follow do the
    spatial mixing). Neither of the last two puts energy at the period-2 frequencies: bilinear
    interpolation's response is zero there, nearest's blocks cancel there."""
    if mode == "transpose":
        x = layers.Conv2DTranspose(filters, 3, strides=2, padding="same", use_bias=not batch_norm,
                                   name=name and f"{name}_tconv")(x)
        if batch_norm:
            x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=name and f"{name}_bn")(x)
        return layers.ReLU(name=name and f"{name}_relu")(x)
    if mode == "upsample":
        x = layers.UpSampling2D(2, name=name and f"{name}_up")(x)
        return conv_block(x, filters, batch_norm=batch_norm, name=name)
    if mode == "bilinear":
        x = layers.UpSampling2D(2, interpolation="bilinear", name=name and f"{name}_up")(x)
        x = layers.Conv2D(filters, 1, use_bias=not batch_norm, name=name and f"{name}_0_conv")(x)
        if batch_norm:
            x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=name and f"{name}_0_bn")(x)
        return layers.ReLU(name=name and f"{name}_0_relu")(x)
    raise ValueError(f"unknown up-sampling mode {mode!r}: use one of {', '.join(UPSAMPLE_MODES)}")


def ab_head(x, kernel: int = 1):
    """ab / AB_SCALE in (-1, 1): tanh, so the network cannot leave the normalised range."""
    return layers.Conv2D(2, kernel, padding="same", activation="tanh", dtype=OUTPUT_DTYPE, name="ab")(x)


def rgb_head(x):
    """sRGB in (0, 1) (only for the seeds' RGB-output baselines)."""
    return layers.Conv2D(3, 1, padding="same", activation="sigmoid", dtype=OUTPUT_DTYPE,
                         name="rgb")(x)
