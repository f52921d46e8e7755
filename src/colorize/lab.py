"""sRGB (D65) <-> CIELAB in TensorFlow, so the conversion runs inside tf.data and inside models.

The constants are those of ``skimage.color`` (sRGB primaries, D65 white for the 2° observer,
CIE's linear toe below 0.008856), so a photo converted here and one converted by scikit-image
agree to a hundredth of a Lab unit (``tests/test_lab.py`` checks over a million colours).

Conventions of the course:

* RGB images are floats in [0, 1] (or uint8, converted on the way in), channels last.
* ``L`` is in [0, 100]; ``a`` and ``b`` are in about [-128, 128] but the sRGB gamut only uses
  a ∈ [-86.2, 98.3], b ∈ [-107.9, 94.5].
* Networks see ``L`` scaled to [-1, 1] and predict ``ab`` divided by :data:`AB_SCALE`.

Why ``AB_SCALE = 110`` and not the seeds' 128: the largest |a| or |b| any sRGB colour reaches is
107.9, so dividing by 128 leaves 16 % of a tanh output's range for colours that cannot be shown;
110 maps the whole gamut onto [-0.98, 0.98], so ±1 means "the edge of sRGB". The price is that the
most saturated colours then need a larger pre-activation (2.31 instead of 1.23), where tanh is
flatter; real photos' pixels stay far from that edge (lesson 02 measures both). It is a
convenience, not a measured gain. Use :func:`normalize_ab` with ``scale=128`` to reproduce a seed.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

#: ab is divided by this before a network sees it (see the module docstring for why 110).
AB_SCALE = 110.0
#: The scale the seed decks used (``lab[..., 1:] / 128``), kept for comparison.
SEED_AB_SCALE = 128.0

# sRGB primaries -> CIE XYZ, as in skimage.color (IEC 61966-2-1 rounded to six digits).
XYZ_FROM_RGB = np.array(
    [
        [0.412453, 0.357580, 0.180423],
        [0.212671, 0.715160, 0.072169],
        [0.019334, 0.119193, 0.950227],
    ]
)
RGB_FROM_XYZ = np.linalg.inv(XYZ_FROM_RGB)
#: Reference white of illuminant D65, 2° observer.
D65_WHITE = np.array([0.95047, 1.0, 1.08883])

_EPSILON = 0.008856  # (6/29)^3: below it CIE uses a straight line instead of the cube root
_KAPPA_SLOPE = 7.787  # slope of that line, as in skimage
_OFFSET = 16.0 / 116.0
_F_THRESHOLD = 0.2068966  # f(_EPSILON), the same threshold seen from the Lab side


def _as_float_rgb(rgb) -> tf.Tensor:
    rgb = tf.convert_to_tensor(rgb)
    if rgb.dtype == tf.uint8:
        return tf.cast(rgb, tf.float32) / 255.0
    if rgb.dtype == tf.uint16:
        return tf.cast(rgb, tf.float32) / 65535.0
    if not rgb.dtype.is_floating:
        raise TypeError(f"RGB must be uint8, uint16 or float, got {rgb.dtype.name}.")
    return rgb


def _matmul_channels(x: tf.Tensor, matrix: np.ndarray) -> tf.Tensor:
    """Apply a 3x3 colour matrix to the last axis."""
    m = tf.constant(matrix.T, dtype=x.dtype)
    return tf.tensordot(x, m, axes=[[-1], [0]])


def _srgb_curve(rgb) -> tf.Tensor:
    rgb = _as_float_rgb(rgb)
    # Clamp inside pow so neither branch makes NaN (tf.where evaluates both, and their gradients).
    curved = tf.pow((tf.maximum(rgb, 0.04045) + 0.055) / 1.055, 2.4)
    return tf.where(rgb > 0.04045, curved, rgb / 12.92)


#: The curve at each of the 256 levels of an 8-bit channel: an 8-bit photo's linear light is a
#: lookup (the same numbers as computing the curve, at a fraction of the cost of its pow).
_LINEAR_OF_UINT8 = tf.function(_srgb_curve)(tf.cast(tf.range(256), tf.uint8))


def srgb_to_linear(rgb) -> tf.Tensor:
    """Undo the sRGB transfer curve (gamma) so light adds up linearly."""
    rgb = tf.convert_to_tensor(rgb)
    if rgb.dtype == tf.uint8:
        return tf.gather(_LINEAR_OF_UINT8, tf.cast(rgb, tf.int32))
    return _srgb_curve(rgb)


def linear_to_srgb(linear) -> tf.Tensor:
    linear = tf.convert_to_tensor(linear)
    curved = 1.055 * tf.pow(tf.maximum(linear, 0.0031308), 1.0 / 2.4) - 0.055
    return tf.where(linear > 0.0031308, curved, linear * 12.92)


def rgb_to_lab(rgb) -> tf.Tensor:
    """sRGB (uint8, or float in [0, 1]) of any shape ``[..., 3]`` to CIELAB ``[..., 3]``."""
    linear = srgb_to_linear(rgb)
    xyz = _matmul_channels(linear, XYZ_FROM_RGB) / tf.constant(D65_WHITE, dtype=linear.dtype)
    f = tf.where(
        xyz > _EPSILON,
        tf.pow(tf.maximum(xyz, _EPSILON), 1.0 / 3.0),
        _KAPPA_SLOPE * xyz + _OFFSET,
    )
    fx, fy, fz = tf.unstack(f, axis=-1)
    return tf.stack([116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)], axis=-1)


def lightness(rgb) -> tf.Tensor:
    """L alone (0..100) of sRGB ``[..., 3]``: what a colorizer needs from a photo, at a third of
    the cost of :func:`rgb_to_lab` (L depends only on the luminance Y)."""
    linear = srgb_to_linear(rgb)
    luminance = _matmul_channels(linear, XYZ_FROM_RGB[1:2])[..., 0]  # Y; the white's Y is 1
    f = tf.where(luminance > _EPSILON, tf.pow(tf.maximum(luminance, _EPSILON), 1.0 / 3.0),
                 _KAPPA_SLOPE * luminance + _OFFSET)
    return 116.0 * f - 16.0


def lab_to_rgb(lab, clip: bool = True) -> tf.Tensor:
    """CIELAB ``[..., 3]`` to sRGB floats.

    Lab colours outside the sRGB gamut (a network can predict any ab) have no exact RGB; with
    ``clip=True`` each channel is clipped to [0, 1], as skimage's ``lab2rgb`` does.
    """
    lab = tf.convert_to_tensor(lab)
    if not lab.dtype.is_floating:
        lab = tf.cast(lab, tf.float32)
    L, a, b = tf.unstack(lab, axis=-1)
    fy = (L + 16.0) / 116.0
    fx = a / 500.0 + fy
    fz = tf.maximum(fy - b / 200.0, 0.0)  # negative Z is not a colour; skimage clips it too
    f = tf.stack([fx, fy, fz], axis=-1)
    xyz = tf.where(
        f > _F_THRESHOLD,
        tf.pow(f, 3.0),
        (f - _OFFSET) / _KAPPA_SLOPE,
    ) * tf.constant(D65_WHITE, dtype=lab.dtype)
    rgb = linear_to_srgb(_matmul_channels(xyz, RGB_FROM_XYZ))
    return tf.clip_by_value(rgb, 0.0, 1.0) if clip else rgb


def lab_to_uint8_tensor(lab) -> tf.Tensor:
    """Lab to the 8-bit sRGB picture a user would save (gamut-clipped, rounded), as a tensor."""
    return tf.cast(tf.round(lab_to_rgb(lab, clip=True) * 255.0), tf.uint8)


def lab_to_uint8(lab) -> np.ndarray:
    """Lab to the 8-bit sRGB picture a user would save (gamut-clipped, rounded)."""
    return np.asarray(lab_to_uint8_tensor(lab))


def _join_to_uint8(lightness_channel, ab) -> tf.Tensor:
    return lab_to_uint8_tensor(tf.concat([lightness_channel[..., None], ab], -1))


# Compiled with XLA, once per image size. Scoring converts hundreds of full-resolution photos
# (colorizing a big photo uses colorize.fast_lab's OpenCV conversions instead); eager TensorFlow would dispatch every
# small op of these conversions once per call, and a plain graph still runs each elementwise op
# as its own pass over memory. XLA fuses them: on a 2-core Xeon a 481x321 photo's L+ab -> uint8
# sRGB took 17 ms as a graph and 5 ms fused, its uint8 sRGB -> Lab 14-17 ms and 8.5 ms (a new
# size costs ~0.2 s of compiling once).
rgb_to_lab_graph = tf.function(rgb_to_lab, reduce_retracing=True, jit_compile=True)
lightness_graph = tf.function(lightness, reduce_retracing=True, jit_compile=True)
join_to_uint8_graph = tf.function(_join_to_uint8, reduce_retracing=True, jit_compile=True)


# --- what the network sees -----------------------------------------------------------------


def normalize_l(L):
    """L in [0, 100] -> [-1, 1]."""
    return L / 50.0 - 1.0


def denormalize_l(l_norm):
    return (l_norm + 1.0) * 50.0


def normalize_ab(ab, scale: float = AB_SCALE):
    """ab in Lab units -> about [-1, 1] (``scale=128`` reproduces the seeds)."""
    return ab / scale


def denormalize_ab(ab_norm, scale: float = AB_SCALE):
    return ab_norm * scale


def rgb_to_model_io(rgb) -> tuple[tf.Tensor, tf.Tensor]:
    """RGB image(s) -> (normalised L ``[..., 1]``, normalised ab ``[..., 2]``): a training pair."""
    lab = rgb_to_lab(rgb)
    return normalize_l(lab[..., :1]), normalize_ab(lab[..., 1:])


def model_io_to_rgb(l_norm, ab_norm) -> tf.Tensor:
    """Join a normalised L with a predicted normalised ab and return gamut-clipped sRGB."""
    lab = tf.concat([denormalize_l(l_norm), denormalize_ab(ab_norm)], axis=-1)
    return lab_to_rgb(lab, clip=True)


def gray_from_rgb(rgb) -> tf.Tensor:
    """The grayscale picture a network is given: the photo's own L with ab set to zero."""
    lab = rgb_to_lab(rgb)
    return lab_to_rgb(tf.concat([lab[..., :1], tf.zeros_like(lab[..., 1:])], axis=-1))


def in_srgb_gamut(lab, tolerance: float = 1e-4) -> tf.Tensor:
    """True where a Lab colour maps to an sRGB colour without clipping.

    The tolerance (1/40 of an 8-bit level) absorbs float32 round-off: the float32 Lab of pure
    green comes back 3e-6 below zero."""
    lab = tf.cast(tf.convert_to_tensor(lab), tf.float64)
    rgb = lab_to_rgb(lab, clip=False)
    inside = (rgb >= -tolerance) & (rgb <= 1.0 + tolerance)
    # skimage clips negative Z silently; such colours are outside every gamut.
    z_ok = (lab[..., 0] + 16.0) / 116.0 - lab[..., 2] / 200.0 >= 0.0
    return tf.reduce_all(inside, axis=-1) & z_ok


def all_8bit_colors(step: int = 1) -> np.ndarray:
    """Every 8-bit sRGB colour (``step=1``: all 16,777,216), or every ``step``-th level per channel."""
    levels = np.arange(0, 256, step, dtype=np.uint8)
    if levels[-1] != 255:
        levels = np.append(levels, np.uint8(255))
    r, g, b = np.meshgrid(levels, levels, levels, indexing="ij")
    return np.stack([r, g, b], axis=-1).reshape(-1, 3)


def roundtrip_8bit(step: int = 1) -> dict:
    """uint8 sRGB -> Lab -> uint8 sRGB over the 8-bit cube: how many colours change, and by how much."""
    colors = all_8bit_colors(step)
    back = lab_to_uint8(rgb_to_lab(colors))
    difference = np.abs(back.astype(np.int16) - colors.astype(np.int16))
    lab_values = np.asarray(rgb_to_lab(colors))
    return {
        "colours": len(colors),
        "max_error_levels": int(difference.max()),
        "share_changed": float((difference > 0).any(axis=-1).mean()),
        "L_range": (float(lab_values[:, 0].min()), float(lab_values[:, 0].max())),
        "a_range": (float(lab_values[:, 1].min()), float(lab_values[:, 1].max())),
        "b_range": (float(lab_values[:, 2].min()), float(lab_values[:, 2].max())),
    }
