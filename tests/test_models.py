"""colorize.models: every builder's shapes and output ranges, stride, fixed sizes, the U-Net body."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from colorize import models
from colorize.config import ColorizeError
from colorize.models.blocks import lightness_input

#: Small widths for every builder, so each builds and runs in well under a second.
SIZE = 32  # the side of the test batches (and of the dense autoencoders' fixed input)
SMALL = {
    "seed000_baseline": dict(filters=4),
    "seed001_rgb_baseline": dict(filters=4),
    "updated_cnn": dict(width=2),
    "seed000_autoencoder": dict(size=SIZE, filters=4, code=8),
    "polychromify": dict(size=SIZE),
    "unet": dict(base_filters=4, depth=2),
    "pix2pix": dict(base_filters=4, depth=2, disc_filters=4, disc_downsamplings=2),
    "colorful_classifier": dict(base_filters=4, depth=2),
    "hint_unet": dict(base_filters=4, depth=2),
}
FULLY_CONVOLUTIONAL = ("seed000_baseline", "seed001_rgb_baseline", "updated_cnn", "unet")
#: (builder, its small params) of the dense families, every polychromify variant included
DENSE = [("seed000_autoencoder", SMALL["seed000_autoencoder"])] + [
    ("polychromify", dict(SMALL["polychromify"], variant=variant, strided=strided))
    for variant in ("vanilla", "conv", "conv_dense", "deep_conv") for strided in (False, True)
]


def _l_batch(height: int, width: int, batch: int = 2, seed: int = 0) -> np.ndarray:
    """Normalised L in [-1, 1], ``[batch, height, width, 1]``."""
    return np.random.default_rng(seed).uniform(-1.0, 1.0, (batch, height, width, 1)).astype(np.float32)


def test_every_builder_has_small_test_params():
    assert set(SMALL) == set(models.BUILDERS)


@pytest.mark.parametrize("name", sorted(models.BUILDERS))
def test_builder_maps_an_l_batch_to_ab_or_rgb_in_range(name):
    model = models.build(name, **SMALL[name])
    assert isinstance(model, keras.Model) and not model.compiled  # uncompiled
    inputs = _l_batch(SIZE, SIZE)
    if models.takes_hints(model):  # L, then hint ab and mask: one hinted square
        hints = np.zeros(inputs.shape[:3] + (models.HINT_CHANNELS,), np.float32)
        hints[:, 4:8, 4:8] = (0.3, -0.2, 1.0)
        inputs = np.concatenate([inputs, hints], axis=-1)
    out = np.asarray(model(inputs, training=False))
    kind = models.output_kind(models.predictor(model))  # a GAN colorizes with its generator
    if name == "colorful_classifier":
        assert kind == "distribution"
        assert out.shape[:3] == (2, SIZE, SIZE) and out.shape[-1] > 100
        np.testing.assert_allclose(out.sum(axis=-1), 1.0, atol=1e-4)  # softmax over the ab bins
    elif name == "seed001_rgb_baseline":
        assert kind == "rgb"
        assert out.shape == (2, SIZE, SIZE, 3)
        assert out.min() > 0.0 and out.max() < 1.0  # sigmoid
    else:
        assert kind == "ab"
        assert out.shape == (2, SIZE, SIZE, 2)
        assert out.min() > -1.0 and out.max() < 1.0  # tanh
    assert np.isfinite(out).all()


@pytest.mark.parametrize("name, params", DENSE, ids=[f"{n}-{p.get('variant', '')}-{p.get('strided', '')}"
                                                      for n, p in DENSE])
def test_dense_autoencoders_have_a_fixed_input_size(name, params):
    model = models.build(name, **params)
    assert models.fixed_input_size(model) == SIZE
    assert model.input_shape == (None, SIZE, SIZE, 1)
    out = np.asarray(model(_l_batch(SIZE, SIZE), training=False))
    assert out.shape == (2, SIZE, SIZE, 2) and np.abs(out).max() < 1.0


@pytest.mark.parametrize("name, params, expected", [
    ("seed000_baseline", SMALL["seed000_baseline"], 4),
    ("seed001_rgb_baseline", SMALL["seed001_rgb_baseline"], 2),
    ("updated_cnn", SMALL["updated_cnn"], 8),
    ("seed000_autoencoder", SMALL["seed000_autoencoder"], 8),
    ("polychromify", dict(size=SIZE, variant="conv"), 8),
    ("polychromify", dict(size=SIZE, variant="conv", strided=True), 8),
    ("polychromify", dict(size=SIZE, variant="vanilla"), 1),
    ("unet", dict(base_filters=4, depth=1), 2),
    ("unet", dict(base_filters=4, depth=2), 4),
    ("unet", dict(base_filters=4, depth=3), 8),
    ("unet", dict(base_filters=2, depth=4), 16),
])
def test_stride(name, params, expected):
    assert models.stride(models.build(name, **params)) == expected


@pytest.mark.parametrize("name", FULLY_CONVOLUTIONAL)
def test_fully_convolutional_models_take_non_square_multiples_of_the_stride(name):
    model = models.build(name, **SMALL[name])
    assert models.fixed_input_size(model) is None
    step = models.stride(model)
    height, width = 3 * step, 5 * step
    out = np.asarray(model(_l_batch(height, width), training=False))
    assert out.shape == (2, height, width, 3 if name == "seed001_rgb_baseline" else 2)


def test_unknown_model_name_is_a_colorize_error():
    with pytest.raises(ColorizeError, match="Unknown model 'resnet'") as error:
        models.build("resnet")
    assert "unet" in str(error.value) and "\n" not in str(error.value)


def test_unet_body_takes_another_head_and_shares_layer_names_with_unet():
    params = dict(base_filters=4, depth=2)
    inputs = lightness_input()
    features = models.unet_body(inputs, **params)
    assert features.shape[-1] == params["base_filters"]
    classes = keras.layers.Conv2D(5, 1, activation="softmax", name="classes")(features)
    classifier = keras.Model(inputs, classes, name="unet_classifier")
    unet = models.build("unet", **params)

    out = np.asarray(classifier(_l_batch(16, 24), training=False))
    assert out.shape == (2, 16, 24, 5)
    np.testing.assert_allclose(out.sum(axis=-1), 1.0, atol=1e-5)
    assert models.stride(classifier) == models.stride(unet) == 4

    body = {layer.name for layer in classifier.layers} - {"classes"}
    assert body == {layer.name for layer in unet.layers} - {"ab"}
    assert "ab" not in body and "bottleneck_0_conv" in body
    # ... so a trained U-Net's body moves onto the new head layer by layer, by name
    for layer in unet.layers:
        if layer.name in body:
            classifier.get_layer(layer.name).set_weights(layer.get_weights())
    for layer in unet.layers:
        if layer.name in body:
            for mine, theirs in zip(classifier.get_layer(layer.name).get_weights(), layer.get_weights()):
                np.testing.assert_array_equal(mine, theirs)


def test_measured_receptive_field_matches_the_arithmetic_of_a_conv_stack():
    from colorize.models.gan import receptive_field

    inputs = keras.Input((None, None, 1))
    x = keras.layers.Conv2D(2, 3, strides=2, padding="same")(inputs)
    x = keras.layers.Conv2D(2, 3, padding="same")(x)
    x = keras.layers.Conv2D(2, 5, padding="same")(x)
    stack = keras.Model(inputs, x)
    assert receptive_field(stack) == 3 + 2 * 2 + 4 * 2 == 15
    assert models.measured_receptive_field(stack, size=64) == 15
    # a dense bottleneck makes every output depend on the whole input
    dense = models.build("seed000_autoencoder", size=32, filters=4, code=8)
    assert models.measured_receptive_field(dense) == 32


@pytest.mark.parametrize("mode, checkerboard", [("transpose", True), ("upsample", False), ("bilinear", False)])
def test_a_transposed_convolution_paints_a_checkerboard_on_a_flat_input_and_resize_then_convolve_does_not(
        mode, checkerboard):
    """Odena, Dumoulin & Olah (2016): a 3x3 stride-2 transposed convolution adds 1, 2 or 4 kernel
    taps to alternate output pixels, so even a flat input with a flat kernel comes out as a grid;
    a nearest-neighbour resize followed by a 3x3 convolution gives every pixel nine taps."""
    from colorize import metrics
    from colorize.models.blocks import up_block

    inputs = keras.Input((8, 8, 1))
    block = keras.Model(inputs, up_block(inputs, 1, mode=mode, name="up"))
    for layer in block.layers:
        if layer.weights:
            layer.set_weights([np.ones_like(w) if w.ndim > 1 else np.zeros_like(w) for w in layer.get_weights()])
    output = np.asarray(block(np.ones((1, 8, 8, 1), np.float32)))[0, 2:-2, 2:-2]  # away from the zero padding
    share = metrics.nyquist_fraction(np.repeat(output, 2, axis=-1))
    if checkerboard:
        assert len(np.unique(output.round(4))) > 1 and share > 0.5
    else:
        assert np.allclose(output, output.flat[0]) and np.isnan(share)  # perfectly flat


@pytest.mark.parametrize("mode", ["upsample", "bilinear"])
@pytest.mark.parametrize("name", ["unet", "colorful_classifier", "pix2pix"])
def test_the_u_net_family_takes_a_resize_then_convolve_decoder(name, mode):
    transpose = models.build(name, base_filters=4, depth=2)
    resize = models.build(name, base_filters=4, depth=2, upsample=mode)
    layer_types = {type(layer).__name__ for layer in models.predictor(resize).layers}
    assert "UpSampling2D" in layer_types and "Conv2DTranspose" not in layer_types
    assert "Conv2DTranspose" in {type(layer).__name__ for layer in models.predictor(transpose).layers}
    l_batch = np.zeros((1, 32, 48, 1), np.float32)
    assert models.predictor(resize)(l_batch).shape == models.predictor(transpose)(l_batch).shape
