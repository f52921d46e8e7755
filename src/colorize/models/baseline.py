"""Lesson 03's convolutional baselines, as the seed decks built them (widths are parameters).

* :func:`seed000_baseline`: seed 000's first CNN, 2 Conv2D + 2 Conv2DTranspose, L in, ab out.
* :func:`seed001_rgb_baseline`: seed 001's 1 conv + max-pool + conv-transpose, predicting RGB.
* :func:`updated_cnn`: seed 000/002's "updated CNN": 6 encoder convs (three strided), then
  3 x (upsample + conv), tanh ab output - 9 conv layers and 3 upsampling layers in all.
"""

from __future__ import annotations

import keras
from keras import layers

from colorize.models.blocks import OUTPUT_DTYPE, ab_head, conv_block, lightness_input, rgb_head


def seed000_baseline(filters: int = 32) -> keras.Model:
    inputs = lightness_input()
    x = conv_block(inputs, filters, strides=2, name="enc1")
    x = conv_block(x, 2 * filters, strides=2, name="enc2")
    x = layers.Conv2DTranspose(filters, 3, strides=2, padding="same", activation="relu", name="dec1")(x)
    outputs = layers.Conv2DTranspose(2, 3, strides=2, padding="same", activation="tanh",
                                     dtype=OUTPUT_DTYPE, name="ab")(x)
    return keras.Model(inputs, outputs, name="seed000_baseline")


def seed001_rgb_baseline(filters: int = 64) -> keras.Model:
    inputs = lightness_input()
    x = conv_block(inputs, filters, name="enc1")
    x = layers.MaxPooling2D(2, name="pool1")(x)
    x = layers.Conv2DTranspose(filters, 3, strides=2, padding="same", activation="relu", name="dec1")(x)
    return keras.Model(inputs, rgb_head(x), name="seed001_rgb_baseline")


def updated_cnn(width: int = 8) -> keras.Model:
    """Seed 002's listing with ``width=8`` (8-8-16-16-32-32 | 32-16 | 2 filters)."""
    inputs = lightness_input()
    x = inputs
    for index, (multiple, strides) in enumerate(((1, 2), (1, 1), (2, 1), (2, 2), (4, 1), (4, 2))):
        x = conv_block(x, multiple * width, strides=strides, name=f"enc{index + 1}")
    for index, multiple in enumerate((4, 2, 1)):
        x = layers.UpSampling2D(2, name=f"up{index + 1}")(x)
        if index < 2:
            x = conv_block(x, multiple * width, name=f"dec{index + 1}")
    return keras.Model(inputs, ab_head(x, kernel=3), name="updated_cnn")
