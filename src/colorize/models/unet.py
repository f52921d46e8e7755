"""Seed 001's U-Net, predicting ab: conv + batch norm + ReLU, max-pool, conv-transpose, and
the encoder's features concatenated into the decoder at every scale (the skips keep edges sharp).

:func:`unet_body` is the network without its head, so later lessons put another head on the same
body (a GAN generator, a classification head over quantised ab) instead of copying it.
"""

from __future__ import annotations

import keras
from keras import layers

from colorize.models.blocks import ab_head, conv_block, lightness_input, up_block


def unet_body(inputs, *, base_filters: int = 16, depth: int = 4, convs_per_level: int = 2,
              batch_norm: bool = True, upsample: str = "transpose"):
    """Encoder-decoder with skips; returns full-resolution features with ``base_filters`` channels.

    Seed 001 used ``base_filters=64, depth=4, convs_per_level=1`` (about 31 M parameters with
    its 1024-filter bottleneck); the course scales the width down to fit a 2-core CPU.
    ``upsample``: how the decoder doubles the resolution (:func:`colorize.models.blocks.up_block`)
    — ``"transpose"`` (seed 001's 3x3 stride-2 transposed convolution, whose uneven overlap paints
    checkerboards), ``"upsample"`` (nearest-neighbour resize, then a 3x3 convolution: every output
    pixel gets the same number of contributions; Odena, Dumoulin & Olah 2016) or ``"bilinear"``
    (bilinear resize, then a 1x1 convolution: no period-2 energy, and cheaper than either).
    """
    skips, x = [], inputs
    for level in range(depth):
        x = conv_block(x, base_filters * 2 ** level, batch_norm=batch_norm, convs=convs_per_level, name=f"enc{level}")
        skips.append(x)
        x = layers.MaxPooling2D(2, name=f"pool{level}")(x)
    x = conv_block(x, base_filters * 2 ** depth, batch_norm=batch_norm, convs=convs_per_level, name="bottleneck")
    for level in reversed(range(depth)):
        x = up_block(x, base_filters * 2 ** level, mode=upsample, batch_norm=batch_norm, name=f"up{level}")
        x = layers.Concatenate(name=f"skip{level}")([x, skips[level]])
        x = conv_block(x, base_filters * 2 ** level, batch_norm=batch_norm, convs=convs_per_level, name=f"dec{level}")
    return x


def unet(base_filters: int = 16, depth: int = 4, convs_per_level: int = 2, batch_norm: bool = True,
         upsample: str = "transpose") -> keras.Model:
    inputs = lightness_input()
    features = unet_body(inputs, base_filters=base_filters, depth=depth, convs_per_level=convs_per_level,
                         batch_norm=batch_norm, upsample=upsample)
    return keras.Model(inputs, ab_head(features), name="unet")
