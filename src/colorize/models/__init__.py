"""Model builders, one module per family, all behind one name -> builder table.

Every builder returns an *uncompiled* ``keras.Model`` that maps normalised L ``[B, H, W, 1]`` to
normalised ab ``[B, H, W, 2]`` (or, for the seeds' RGB baseline, sRGB ``[B, H, W, 3]``).
"""

from __future__ import annotations

import keras

from colorize.config import ColorizeError
from colorize.models import autoencoder, baseline, classifier, gan, unet
from colorize.models.autoencoder import polychromify, seed000_autoencoder
from colorize.models.baseline import seed000_baseline, seed001_rgb_baseline, updated_cnn
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


def output_kind(model: keras.Model) -> str:
    """``"ab"``, ``"rgb"``, or ``"distribution"`` (probabilities over quantised ab bins), from the
    number of output channels."""
    return {2: "ab", 3: "rgb"}.get(model.output_shape[-1], "distribution")


__all__ = ["BUILDERS", "autoencoder", "baseline", "build", "classifier", "fixed_input_size", "gan", "output_kind", "polychromify",
           "predictor",
           "seed000_autoencoder", "seed000_baseline", "seed001_rgb_baseline", "stride", "unet", "unet_body",
           "unet_model", "updated_cnn"]
