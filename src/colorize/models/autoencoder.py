"""Lesson 04's autoencoders: everything squeezed through a bottleneck, then rebuilt.

* :func:`seed000_autoencoder`: encoder 3 conv + flatten, decoder dense + reshape + 3 conv-transpose.
* :func:`polychromify`: seed 004's family: ``vanilla`` (v0: dense layers only), ``conv`` (v1),
  ``conv_dense`` (v2: conv encoder, dense bottleneck, conv decoder) and ``deep_conv`` (v3: two
  convs per level), with the deck's knobs - dense widths low/medium/high, filters low/high,
  strides + upsampling against pooling + transposed convs, batch norm.

Dense layers fix the input size, so these models take ``size`` x ``size`` crops; at prediction
time :mod:`colorize.predict` resizes a photo's L to that size.
"""

from __future__ import annotations

import keras
from keras import layers

from colorize.models.blocks import OUTPUT_DTYPE, ab_head, conv_block, lightness_input, up_block

#: seed 004's hyper-parameter table: dense widths (encoder half; the decoder mirrors them)
NEURONS = {"low": (64, 32, 16), "medium": (128, 64, 32), "high": (256, 128, 64)}
#: ... and encoder filters (the decoder mirrors them)
FILTERS = {"low": (16, 32, 64), "high": (32, 64, 128)}
VARIANTS = ("vanilla", "conv", "conv_dense", "deep_conv")


def seed000_autoencoder(size: int = 64, filters: int = 32, code: int = 256) -> keras.Model:
    inputs = lightness_input(size)
    x = inputs
    for index, multiple in enumerate((1, 2, 2)):
        x = conv_block(x, multiple * filters, strides=2, name=f"enc{index + 1}")
    grid = size // 8
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(code, activation="relu", name="code")(x)
    x = layers.Dense(grid * grid * 2 * filters, activation="relu", name="expand")(x)
    x = layers.Reshape((grid, grid, 2 * filters), name="reshape")(x)
    for index, multiple in enumerate((2, 1)):
        x = layers.Conv2DTranspose(multiple * filters, 3, strides=2, padding="same", activation="relu",
                                   name=f"dec{index + 1}")(x)
    outputs = layers.Conv2DTranspose(2, 3, strides=2, padding="same", activation="tanh",
                                     dtype=OUTPUT_DTYPE, name="ab")(x)
    return keras.Model(inputs, outputs, name="seed000_autoencoder")


def _dense_bottleneck(x, widths: tuple[int, ...], grid: int, channels: int):
    x = layers.Flatten(name="flatten")(x)
    for index, width in enumerate(widths + widths[-2::-1]):
        x = layers.Dense(width, activation="relu", name=f"dense{index + 1}")(x)
    x = layers.Dense(grid * grid * channels, activation="relu", name="expand")(x)
    return layers.Reshape((grid, grid, channels), name="reshape")(x)


def polychromify(variant: str = "conv_dense", size: int = 64, neurons: str = "low", filters: str = "low",
                 strided: bool = False, batch_norm: bool = False) -> keras.Model:
    """One model of seed 004's family (``strided``: strided convs down, upsampling + conv up;
    otherwise conv + max-pool down and transposed convs up)."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown autoencoder variant {variant!r}: use one of {', '.join(VARIANTS)}")
    inputs = lightness_input(size)
    widths, channels = NEURONS[neurons], FILTERS[filters]
    if variant == "vanilla":
        x = _dense_bottleneck(inputs, widths, size, 2)
        return keras.Model(inputs, ab_head(x), name=f"polychromify_{variant}")
    convs = 2 if variant == "deep_conv" else 1
    x = inputs
    for index, width in enumerate(channels):
        if strided:
            x = conv_block(x, width, strides=2, batch_norm=batch_norm, convs=convs, name=f"enc{index + 1}")
        else:
            x = conv_block(x, width, batch_norm=batch_norm, convs=convs, name=f"enc{index + 1}")
            x = layers.MaxPooling2D(2, name=f"pool{index + 1}")(x)
    if variant == "conv_dense":
        x = _dense_bottleneck(x, widths, size // 2 ** len(channels), channels[-1])
    for index, width in enumerate(reversed(channels)):
        x = up_block(x, width, mode="upsample" if strided else "transpose", batch_norm=batch_norm,
                     name=f"dec{index + 1}")
    return keras.Model(inputs, ab_head(x, kernel=3), name=f"polychromify_{variant}")
