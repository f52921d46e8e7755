"""Lesson 06's conditional GAN (pix2pix, Isola et al. 2017) for colorization.

* The generator is the course's U-Net (:func:`colorize.models.unet.unet`), reused, with its tanh
  ab head.
* The discriminator is a PatchGAN: it sees L and ab concatenated and answers "real or
  colorized?" for every overlapping patch of the photo, not once per photo, so it judges local
  colour texture and leaves global layout to the L1 term.
* The generator's loss is adversarial + ``l1_weight`` x L1 on ab (pix2pix: lambda = 100).

:class:`ConditionalGAN` is a ``keras.Model`` with its own ``train_step``, so ``fit`` and its
callbacks (CSV logs, resume) work as for every other model. Validation reports the generator's
L1; it rises while the adversary does its job, so a GAN run keeps its last generator
(:class:`colorize.train.GeneratorCheckpoint`), not the one of lowest L1.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import layers

from colorize.models.blocks import BN_MOMENTUM, OUTPUT_DTYPE, lightness_input
from colorize.models.unet import unet

ADVERSARIAL_LOSSES = ("bce", "lsgan")


def patchgan_discriminator(filters: int = 32, downsamplings: int = 3) -> keras.Model:
    """pix2pix's PatchGAN: 4x4 convolutions, stride 2 ``downsamplings`` times, then two stride-1
    convolutions; one logit per patch. With 3 downsamplings the receptive field is 70 pixels
    (pix2pix's "70x70 PatchGAN"); :func:`receptive_field` computes it for any setting."""
    lightness = lightness_input()
    ab = keras.Input(shape=(None, None, 2), name="ab_in")
    x = layers.Concatenate(name="l_and_ab")([lightness, ab])
    for level in range(downsamplings):
        x = layers.Conv2D(filters * 2 ** level, 4, strides=2, padding="same", use_bias=level == 0,
                          name=f"d{level}_conv")(x)
        if level > 0:  # pix2pix: no normalisation on the first layer
            x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"d{level}_bn")(x)
        x = layers.LeakyReLU(0.2, name=f"d{level}_lrelu")(x)
    x = layers.Conv2D(filters * 2 ** downsamplings, 4, padding="same", use_bias=False, name="d_last_conv")(x)
    x = layers.BatchNormalization(momentum=BN_MOMENTUM, name="d_last_bn")(x)
    x = layers.LeakyReLU(0.2, name="d_last_lrelu")(x)
    logits = layers.Conv2D(1, 4, padding="same", dtype=OUTPUT_DTYPE, name="patch_logits")(x)
    return keras.Model([lightness, ab], logits, name="patchgan")


def receptive_field(model: keras.Model) -> int:
    """Pixels of the input that one output of a plain conv stack sees (walks the Conv2D layers)."""
    field, jump = 1, 1
    for layer in model.layers:
        if isinstance(layer, layers.Conv2D):
            field += (layer.kernel_size[0] - 1) * jump
            jump *= layer.strides[0]
    return field


class ConditionalGAN(keras.Model):
    """Generator G (L -> ab) and discriminator D ((L, ab) -> patch logits), trained together."""

    def __init__(self, generator: keras.Model, discriminator: keras.Model, l1_weight: float = 100.0,
                 adversarial: str = "bce", **kwargs):
        super().__init__(**kwargs)
        if adversarial not in ADVERSARIAL_LOSSES:
            raise ValueError(f"unknown adversarial loss {adversarial!r}: use one of {', '.join(ADVERSARIAL_LOSSES)}")
        self.generator, self.discriminator = generator, discriminator
        self.l1_weight, self.adversarial = float(l1_weight), adversarial
        # Keras loss objects, not tf.reduce_mean: under a tf.distribute strategy with N replicas
        # they divide each replica's mean by N, so the summed gradients are those of the global
        # batch's mean (a plain mean would take N-times-larger steps).
        self._losses = {"bce": keras.losses.BinaryCrossentropy(from_logits=True),
                        "lsgan": keras.losses.MeanSquaredError(), "l1": keras.losses.MeanAbsoluteError()}
        names = ("loss", "d_loss", "g_adversarial", "g_l1", "d_real_accuracy", "d_fake_accuracy")
        self.trackers = {name: keras.metrics.Mean(name=name) for name in names}
        self.built = True  # both networks are built functional models already

    def compile(self, g_optimizer, d_optimizer, **kwargs):
        super().compile(**kwargs)
        if keras.mixed_precision.dtype_policy().name == "mixed_float16":  # as Keras' compile does
            g_optimizer, d_optimizer = (keras.optimizers.LossScaleOptimizer(one) for one in (g_optimizer, d_optimizer))
        self.g_optimizer, self.d_optimizer = g_optimizer, d_optimizer
        # Built now, so BackupAndRestore can load their state into them when a run resumes.
        g_optimizer.build(self.generator.trainable_variables)
        d_optimizer.build(self.discriminator.trainable_variables)

    @property
    def metrics(self):
        return list(self.trackers.values())

    def call(self, lightness, training=False):
        return self.generator(lightness, training=training)

    def _adversarial_loss(self, logits, real: bool):
        """BCE on the logits, or LSGAN's (Mao et al. 2017) squared error of the raw output."""
        target = tf.ones_like(logits) if real else tf.zeros_like(logits)
        return self._losses[self.adversarial](target, logits)

    @staticmethod
    def _replicas() -> float:
        return float(tf.distribute.get_strategy().num_replicas_in_sync)

    def train_step(self, data):
        lightness, true_ab = data
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake_ab = self.generator(lightness, training=True)
            real_logits = self.discriminator([lightness, true_ab], training=True)
            fake_logits = self.discriminator([lightness, fake_ab], training=True)
            d_loss = 0.5 * (self._adversarial_loss(real_logits, True) + self._adversarial_loss(fake_logits, False))
            g_adversarial = self._adversarial_loss(fake_logits, True)
            g_l1 = self._losses["l1"](true_ab, fake_ab)
            g_loss = g_adversarial + self.l1_weight * g_l1
        g_weights, d_weights = self.generator.trainable_variables, self.discriminator.trainable_variables
        # scale_loss: the loss scaling of mixed float16 (a no-op otherwise; apply unscales)
        g_gradients = g_tape.gradient(self.g_optimizer.scale_loss(g_loss), g_weights)
        d_gradients = d_tape.gradient(self.d_optimizer.scale_loss(d_loss), d_weights)
        self.g_optimizer.apply_gradients(zip(g_gradients, g_weights))
        self.d_optimizer.apply_gradients(zip(d_gradients, d_weights))
        replicas = self._replicas()  # the logs show the global batch's losses, as Keras' own do
        values = {
            "loss": g_loss * replicas, "d_loss": d_loss * replicas, "g_adversarial": g_adversarial * replicas,
            "g_l1": g_l1 * replicas,
            "d_real_accuracy": tf.reduce_mean(tf.cast(real_logits > 0, tf.float32)),
            "d_fake_accuracy": tf.reduce_mean(tf.cast(fake_logits < 0, tf.float32)),
        }
        for name, value in values.items():
            self.trackers[name].update_state(value)
        return {name: tracker.result() for name, tracker in self.trackers.items()}

    def test_step(self, data):
        lightness, true_ab = data
        g_l1 = self._losses["l1"](true_ab, self.generator(lightness, training=False)) * self._replicas()
        self.trackers["loss"].update_state(g_l1)  # validation "loss" is the generator's L1
        return {"loss": self.trackers["loss"].result()}


def pix2pix(base_filters: int = 16, depth: int = 4, disc_filters: int = 32, disc_downsamplings: int = 3,
            l1_weight: float = 100.0, adversarial: str = "bce", upsample: str = "transpose") -> ConditionalGAN:
    """The course's U-Net as generator (``upsample`` as for :func:`colorize.models.unet.unet_body`),
    a PatchGAN as discriminator."""
    return ConditionalGAN(unet(base_filters=base_filters, depth=depth, upsample=upsample),
                          patchgan_discriminator(disc_filters, disc_downsamplings),
                          l1_weight=l1_weight, adversarial=adversarial, name="pix2pix")


def realness(discriminator: keras.Model, lightness_norm, ab_norm):
    """The discriminator's probability that each patch is a real photo: ``[H', W']`` in [0, 1]."""
    logits = discriminator([lightness_norm[None], ab_norm[None]], training=False)
    return tf.sigmoid(logits)[0, ..., 0].numpy()
