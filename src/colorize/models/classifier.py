"""Zhang et al. 2016's idea on the course's U-Net: predict a distribution over quantised ab bins
(:mod:`colorize.classification`) instead of one ab.

The body is :func:`colorize.models.unet.unet_body`, reused so the only difference from the
regression U-Net is the head and the loss (Zhang et al. used a VGG-style network with dilated
convolutions at a quarter of the resolution; the U-Net's skips let this one predict at full
resolution). Train it with :class:`colorize.classification.RebalancedCrossEntropy` and turn its
output into ab with :func:`colorize.classification.annealed_mean`.
"""

from __future__ import annotations

import keras
from keras import layers

from colorize.classification import ab_bins
from colorize.models.blocks import OUTPUT_DTYPE, lightness_input
from colorize.models.unet import unet_body


def colorful_classifier(base_filters: int = 16, depth: int = 4, convs_per_level: int = 2, batch_norm: bool = True,
                        n_bins: int | None = None, upsample: str = "transpose") -> keras.Model:
    """U-Net body -> 1x1 conv -> softmax over ``n_bins`` ab bins, at every pixel.

    Parameters
    ----------
    base_filters, depth, convs_per_level, batch_norm, upsample
        As for :func:`colorize.models.unet.unet_body`.
    n_bins : int, optional
        Output classes; default ``len(ab_bins())`` (261, the sRGB gamut at a 10-unit grid).

    Returns
    -------
    keras.Model
        Uncompiled; normalised L ``[B, H, W, 1]`` -> probabilities ``[B, H, W, Q]`` (output layer
        ``"ab_distribution"``), each pixel's summing to 1.
    """
    n_bins = len(ab_bins()) if n_bins is None else int(n_bins)
    inputs = lightness_input()
    features = unet_body(inputs, base_filters=base_filters, depth=depth, convs_per_level=convs_per_level,
                         batch_norm=batch_norm, upsample=upsample)
    probabilities = layers.Conv2D(n_bins, 1, padding="same", activation="softmax",
                                  dtype=OUTPUT_DTYPE, name="ab_distribution")(features)
    return keras.Model(inputs, probabilities, name="colorful_classifier")
