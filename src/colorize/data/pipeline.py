"""The tf.data pipeline: photos -> crops -> augmentation -> Lab -> (L, ab) batches.

Photos are decoded once (by Pillow, in :mod:`colorize.data.images`) and held as uint8; every
later step runs in TensorFlow's graph, so no Python runs per batch while a model trains.

Determinism: crops and flips are *stateless* random ops whose seeds come from
``tf.data.Dataset.random(seed)``, so they do not depend on thread timing. The ``full``
augmentation uses Keras preprocessing layers, whose random state advances call by call; that map
runs sequentially so the same seed gives the same batches.
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from colorize import config, lab
from colorize.config import ColorizeError

AUGMENTATIONS = ("none", "flip", "full")
TARGETS = ("ab", "rgb", "ab+hints")

#: The seeds' ``ImageDataGenerator(shear_range=0.3, zoom_range=0.3, rotation_range=30,
#: horizontal_flip=True)``. Keras 3 no longer ships ImageDataGenerator; these are its settings
#: for Keras 3's preprocessing layers. Note ``shear_range`` was in *degrees*: 0.3° is almost no
#: shear at all, which the data lesson shows.
SEED_AUGMENTATION = {"shear_degrees": 0.3, "zoom_range": 0.3, "rotation_degrees": 30.0, "horizontal_flip": True}


def _ragged_images(images: list[np.ndarray]) -> tf.data.Dataset:
    """uint8 images of different sizes as one dataset, without padding: flat pixels + shape."""
    if not images:
        raise ColorizeError("No photos to build a pipeline from: the split is empty.")
    shapes = np.array([image.shape for image in images], dtype=np.int32)
    flat = tf.RaggedTensor.from_row_lengths(
        np.concatenate([image.reshape(-1) for image in images]),
        row_lengths=[image.size for image in images],
    )
    pairs = tf.data.Dataset.from_tensor_slices((flat, shapes))
    return pairs.map(lambda pixels, shape: tf.reshape(pixels, shape), num_parallel_calls=tf.data.AUTOTUNE)


def _cover_crop_size(image: tf.Tensor, size: int) -> tf.Tensor:
    """Upscale an image smaller than the crop so a crop fits (rare: only tiny user photos)."""
    height, width = tf.shape(image)[0], tf.shape(image)[1]
    shorter = tf.minimum(height, width)
    scale = tf.maximum(1.0, tf.cast(size, tf.float32) / tf.cast(shorter, tf.float32))
    new_size = tf.cast(tf.math.ceil(tf.cast(tf.stack([height, width]), tf.float32) * scale), tf.int32)
    resized = tf.image.resize(image, new_size, method="bilinear")
    return tf.cast(tf.round(tf.clip_by_value(resized, 0.0, 255.0)), tf.uint8)


def seed_augmentation_layers(seed: int) -> list:
    """Keras 3 preprocessing layers with the seeds' ImageDataGenerator settings."""
    import keras

    shear = math.tan(math.radians(SEED_AUGMENTATION["shear_degrees"]))
    zoom = SEED_AUGMENTATION["zoom_range"]
    return [
        keras.layers.RandomRotation(SEED_AUGMENTATION["rotation_degrees"] / 360.0, fill_mode="nearest", seed=seed),
        keras.layers.RandomZoom((-zoom, zoom), (-zoom, zoom), fill_mode="nearest", seed=seed + 1),
        keras.layers.RandomShear(x_factor=shear, y_factor=shear, fill_mode="nearest", seed=seed + 2),
    ]


def make_pipeline(
    images: list[np.ndarray],
    *,
    crop_size: int,
    batch_size: int,
    training: bool,
    augment: str = "none",
    seed: int = config.SEED,
    repeat: bool = False,
    ab_scale: float = lab.AB_SCALE,
    target: str = "ab",
) -> tf.data.Dataset:
    """Batches of ``(L, ab)``: L normalised to [-1, 1] ``[B, S, S, 1]``, ab / ``ab_scale`` ``[B, S, S, 2]``.

    ``training=True``: shuffled each epoch, random crops, augmentation. ``training=False``:
    fixed centre crops in file order, no augmentation (validation must not change between epochs).
    ``target="rgb"`` pairs L with the crop's sRGB in [0, 1] instead (the seeds' RGB-output baseline).
    ``target="ab+hints"``: the input is L with simulated user hints (:func:`colorize.data.hints.simulate_hints`)
    ``[B, S, S, 4]``; training draws new hints every epoch, validation the same ones every epoch.
    """
    if target not in TARGETS:
        raise ColorizeError(f"Unknown target {target!r}: use one of {', '.join(TARGETS)}.")
    if augment not in AUGMENTATIONS:
        raise ColorizeError(f"Unknown augmentation {augment!r}: use one of {', '.join(AUGMENTATIONS)}.")
    size = int(crop_size)
    dataset = _ragged_images(images).map(lambda image: _cover_crop_size(image, size),
                                          num_parallel_calls=tf.data.AUTOTUNE)
    dataset = dataset.cache()
    if training:
        dataset = dataset.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
        element_seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
        dataset = tf.data.Dataset.zip((dataset, element_seeds))

        def crop_and_flip(image, element_seed):
            crop = tf.image.stateless_random_crop(image, (size, size, 3), seed=element_seed)
            if augment in ("flip", "full"):
                crop = tf.image.stateless_random_flip_left_right(crop, seed=element_seed + 1)
            return crop

        dataset = dataset.map(crop_and_flip, num_parallel_calls=tf.data.AUTOTUNE)
    else:
        dataset = dataset.map(lambda image: _center_crop(image, size), num_parallel_calls=tf.data.AUTOTUNE)

    if repeat:
        dataset = dataset.repeat()
    dataset = dataset.batch(batch_size, drop_remainder=training and len(images) >= batch_size)

    if training and augment == "full":
        layers = seed_augmentation_layers(seed)

        def geometric(batch):
            batch = tf.cast(batch, tf.float32)
            for layer in layers:
                batch = layer(batch, training=True)
            return tf.cast(tf.round(tf.clip_by_value(batch, 0.0, 255.0)), tf.uint8)

        dataset = dataset.map(geometric, num_parallel_calls=None)  # sequential: reproducible

    def to_lab(batch):
        # As floats, through the computed sRGB curve rather than the 8-bit lookup: the lookup may
        # differ in a few last bits, and training inputs stay exactly those of the runs before it.
        lab_batch = lab.rgb_to_lab(tf.cast(batch, tf.float32) / 255.0)
        lightness = lab.normalize_l(lab_batch[..., :1])
        if target == "rgb":
            return lightness, tf.cast(batch, tf.float32) / 255.0
        return lightness, lab.normalize_ab(lab_batch[..., 1:], scale=ab_scale)

    dataset = dataset.map(to_lab, num_parallel_calls=tf.data.AUTOTUNE)
    if target == "ab+hints":
        from colorize.data.hints import simulate_hints

        # Seeded apart from the crops; validation (no re-randomising) sees the same hints each epoch.
        hint_seeds = tf.data.Dataset.random(seed=seed + 1, rerandomize_each_iteration=training).batch(2)

        def with_hints(batch, hint_seed):
            lightness, ab = batch
            hint_ab, mask = simulate_hints(ab, hint_seed)
            return tf.concat([lightness, hint_ab, mask], axis=-1), ab

        dataset = tf.data.Dataset.zip((dataset, hint_seeds)).map(with_hints, num_parallel_calls=tf.data.AUTOTUNE)
    options = tf.data.Options()
    options.deterministic = True
    return dataset.with_options(options).prefetch(tf.data.AUTOTUNE)


def _center_crop(image: tf.Tensor, size: int) -> tf.Tensor:
    height, width = tf.shape(image)[0], tf.shape(image)[1]
    top, left = (height - size) // 2, (width - size) // 2
    return tf.ensure_shape(image[top:top + size, left:left + size], (size, size, 3))
