"""sRGB <-> CIELAB for full-resolution photos: OpenCV's vectorised array operations, no TensorFlow.

:mod:`colorize.lab` is the course's definition of the conversion, written in TensorFlow so that it
runs inside tf.data, inside models and in their gradients; the lessons train and score with it.
Colorizing one big photo needs only two of its conversions, 8-bit sRGB -> L and L + ab -> 8-bit
sRGB, and there TensorFlow is slow: on a 2-core EPYC a 12-megapixel photo took 0.10 s and 0.31 s
(XLA-compiled graphs), plus 0.10 s to upsample ab bilinearly and 0.05 s to shrink L for the
network. This module computes the same numbers with the same constants (those of
``skimage.color``) in a few passes of OpenCV's SIMD kernels over strips of rows that stay in the
cache, two strips at a time, one per core: 0.05 s for L (its shrinking included) and 0.08 s for
the join (its upsampling included).

Why not ``cv2.cvtColor(..., cv2.COLOR_RGB2Lab)``: OpenCV's own float Lab is computed otherwise
(OpenCV 5.1: up to 0.19 L and 0.43 a away from scikit-image on the 8-bit cube sampled every 5
levels, ``tests/test_lab.py`` keeps it failing), and its Lab -> RGB handles colours outside the
gamut differently (up to 46 levels away from :func:`colorize.lab.lab_to_uint8`). Here only
OpenCV's elementwise kernels are used, each to float32 accuracy (a lookup table, 3x3 matrices,
powers, min/max), on the formulas of :mod:`colorize.lab`, so

* :func:`lightness` is within 1e-4 L of :func:`colorize.lab.lightness` (and within 0.01 of
  skimage over the 8-bit cube sampled every 5 levels and on real photos: ``tests/test_lab.py``), and
* :func:`lab_to_srgb8` gives :func:`colorize.lab.lab_to_uint8`'s bytes but for float32 round-off
  at the half levels: one level, on ~1 pixel in 10,000 of a photo (``tests/test_predict.py``).

Two things make the branches of the CIE and sRGB curves cheap. Dark values (the straight-line
segments near black) are looked for first with one reduction, and only a strip that has any pays
for them. And there, L's cube root and sRGB's 1/2.4 power are concave and meet their straight
line at its tangent point, so they lie under the line: the curve held at the knee (constant
below it) is above the line below the knee and under it above, and the smaller of the two is
the right segment everywhere (for sRGB, the smaller of the two rounded 8-bit values). CIE's
inverse, a convex cube, takes a mask there instead.

A strip's intermediate arrays are buffers of its thread, kept between strips (see
:func:`_scratch`): allocating them afresh cost more than computing them.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np

# The constants of colorize.lab (and so of skimage.color); tests/test_lab.py checks they agree.
XYZ_FROM_RGB = np.array([[0.412453, 0.357580, 0.180423],
                         [0.212671, 0.715160, 0.072169],
                         [0.019334, 0.119193, 0.950227]])
RGB_FROM_XYZ = np.linalg.inv(XYZ_FROM_RGB)
D65_WHITE = np.array([0.95047, 1.0, 1.08883])
_EPSILON = 0.008856
_KAPPA_SLOPE = 7.787
_OFFSET = 16.0 / 116.0
_F_THRESHOLD = 0.2068966
_SRGB_KNEE = 0.0031308  # linear light below which sRGB is the straight line 12.92 x
_buffers = threading.local()

# --- 8-bit sRGB -> L ---------------------------------------------------------------------------

_levels = np.arange(256) / 255.0
#: sRGB's curve at each 8-bit level, computed in float64 once: linear light is a lookup.
LINEAR_OF_UINT8 = np.where(_levels > 0.04045, ((_levels + 0.055) / 1.055) ** 2.4, _levels / 12.92)
_LINEAR_LUT = np.ascontiguousarray(np.repeat(LINEAR_OF_UINT8.astype(np.float32)[None, :, None], 3, axis=2))
# L = 116 Y^(1/3) - 16 = (116^3 Y)^(1/3) - 16: the 116 is folded into the luminance row.
_CUBE_116 = 116.0 ** 3
_Y_ROW = (XYZ_FROM_RGB[1:2] * _CUBE_116).astype(np.float32)
_Y_EPSILON = _EPSILON * _CUBE_116
_L_LINE_SLOPE = 116.0 * _KAPPA_SLOPE / _CUBE_116  # L = 903.3 Y below the epsilon, per unit of 116^3 Y


def _scratch(name: str, shape: tuple[int, ...], dtype=np.float32) -> np.ndarray:
    """This thread's buffer ``name``, kept from strip to strip (and photo to photo).

    Not a detail: a fresh 3 MB array per step costs its page faults every time (glibc hands
    the memory back to the system and takes it again), which made a strip's join 14 ms instead
    of 3 ms. One strip's buffers are a few MB per thread for a 4000-pixel-wide photo."""
    buffers = _buffers.__dict__
    key = (name, np.dtype(dtype).str)
    buffer = buffers.get(key)
    if buffer is None or buffer.shape != shape:
        buffer = buffers[key] = np.empty(shape, dtype)
    return buffer


def _into(out: np.ndarray | None, result: np.ndarray) -> np.ndarray:
    """``result`` in ``out`` (OpenCV writes into a ``dst`` of the right shape and type; this makes
    sure of it)."""
    if out is None:
        return result
    if result.__array_interface__["data"][0] != out.__array_interface__["data"][0]:
        out[...] = result.reshape(out.shape)
    return out


def lightness(rgb: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """L (float32, 0..100) of uint8 sRGB ``[H, W, 3]``, as :func:`colorize.lab.lightness`
    (``out``: a C-contiguous float32 ``[H, W]`` to write it into)."""
    rgb = np.ascontiguousarray(rgb)
    height, width = rgb.shape[:2]
    linear = cv2.LUT(rgb, _LINEAR_LUT, dst=_scratch("linear", (height, width, 3)))
    y = cv2.transform(linear, _Y_ROW, dst=_scratch("y", (height, width)))  # 116^3 Y
    dark = cv2.minMaxLoc(y)[0] <= _Y_EPSILON  # any pixel near black, where CIE's L is a straight line
    base = cv2.max(y, _Y_EPSILON, dst=_scratch("held", (height, width))) if dark else y
    L = _into(out, cv2.pow(base, 1.0 / 3.0, dst=out if out is not None else np.empty((height, width), np.float32)))
    cv2.subtract(L, 16.0, dst=L)
    if dark:  # the curve, held at the epsilon (L 8.0), and the line: see the module docstring
        cv2.min(L, cv2.multiply(y, _L_LINE_SLOPE, dst=_scratch("held", (height, width))), dst=L)
    return L


# --- L + ab -> 8-bit sRGB ----------------------------------------------------------------------

#: (L, a, b, 1) -> (fx, fy, fz) of CIE's inverse: fy = (L + 16) / 116, fx = fy + a/500, fz = fy - b/200.
_F_FROM_LAB = np.array([[1 / 116, 1 / 500, 0.0, _OFFSET],
                        [1 / 116, 0.0, 0.0, _OFFSET],
                        [1 / 116, 0.0, -1 / 200, _OFFSET]], np.float32)
#: (fx^3, fy^3, fz^3) -> linear RGB, the white point folded in.
_RGB_FROM_F3 = (RGB_FROM_XYZ * D65_WHITE[None, :]).astype(np.float32)
_TO_8BIT = (255.0 * 1.055, -255.0 * 0.055)  # 255 * (1.055 x^(1/2.4) - 0.055)
_LINE_TO_8BIT = 255.0 * 12.92


def _flat(image: np.ndarray) -> np.ndarray:
    """One channel view of an image (OpenCV applies a plain number to the first channel only)."""
    return image.reshape(image.shape[0], -1)


def lab_to_srgb8(lightness_channel: np.ndarray, ab: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """uint8 sRGB ``[H, W, 3]`` of L ``[H, W]`` and ab ``[H, W, 2]`` (float32), gamut-clipped per
    channel and rounded, as :func:`colorize.lab.lab_to_uint8` (``out``: a C-contiguous uint8
    ``[H, W, 3]`` to write it into)."""
    height, width = lightness_channel.shape
    shape = (height, width, 3)
    out = np.empty(shape, np.uint8) if out is None else out
    lab3 = cv2.merge((np.ascontiguousarray(lightness_channel), np.ascontiguousarray(ab)), dst=_scratch("lab", shape))
    f = cv2.transform(lab3, _F_FROM_LAB, dst=_scratch("f", shape))
    flat_f = _flat(f)
    cubes = cv2.pow(f, 3, dst=_scratch("cubes", shape))  # an integer power: multiplications
    if cv2.minMaxLoc(flat_f)[0] <= _F_THRESHOLD:  # dark or far-out colours: CIE's straight line there
        fz = f[..., 2]
        np.maximum(fz, 0.0, out=fz)  # negative Z is not a colour: skimage clips it, and so does lab
        line = cv2.addWeighted(flat_f, 1 / _KAPPA_SLOPE, flat_f, 0.0, -_OFFSET / _KAPPA_SLOPE,
                               dst=_flat(_scratch("lab", shape)))
        low = cv2.compare(flat_f, _F_THRESHOLD, cv2.CMP_LE, dst=_scratch("mask", flat_f.shape, np.uint8))
        cv2.copyTo(line, low, _flat(cubes))
    linear = cv2.transform(cubes, _RGB_FROM_F3, dst=_scratch("lab", shape))
    flat_linear, flat_out = _flat(linear), _flat(out)
    if cv2.minMaxLoc(flat_linear)[0] > _SRGB_KNEE:  # no channel near black nor below the gamut
        curve = cv2.pow(flat_linear, 1 / 2.4, dst=flat_f)
        return _into(out, cv2.convertScaleAbs(curve, alpha=_TO_8BIT[0], beta=_TO_8BIT[1], dst=flat_out))
    # The curve, held at the knee (level 10.3), and the line 12.92 x from 0: below the knee the line
    # is the smaller, above it the curve (it lies under its tangent), so their minimum is sRGB.
    curve = cv2.pow(cv2.max(flat_linear, _SRGB_KNEE, dst=flat_f), 1 / 2.4, dst=flat_f)
    srgb = _into(flat_out, cv2.convertScaleAbs(curve, alpha=_TO_8BIT[0], beta=_TO_8BIT[1], dst=flat_out))
    line = cv2.convertScaleAbs(cv2.max(flat_linear, 0.0, dst=_flat(cubes)), alpha=_LINE_TO_8BIT,
                               dst=_scratch("mask", flat_f.shape, np.uint8))
    cv2.min(srgb, line, dst=srgb)
    return out


# --- bilinear ab, a strip at a time ------------------------------------------------------------


class StripUpsampler:
    """Bilinear upsampling (half-pixel centres, edges clamped: ``tf.image.resize(...,
    method="bilinear")``) of a small ``[h, w, C]`` image to ``shape``, a strip of rows at a time.

    Bilinear interpolation is separable: the small image is first stretched to the full height
    alone (still small: ``shape[0] x w``), then each strip of rows to the full width alone, where
    rows map onto themselves; so the full-size result never exists, and a strip's values are
    those of one 2-D resize to float32 round-off."""

    def __init__(self, small: np.ndarray, shape: tuple[int, int]):
        small = np.ascontiguousarray(small, np.float32)
        if small.ndim != 3 or small.shape[-1] < 2:
            raise ValueError(f"StripUpsampler takes [h, w, C >= 2] images, got shape {small.shape}")
        self.width = int(shape[1])
        self.channels = small.shape[-1]
        self.tall = cv2.resize(small, (small.shape[1], int(shape[0])), interpolation=cv2.INTER_LINEAR)

    def rows(self, top: int, stop: int) -> np.ndarray:
        """Rows ``top:stop`` of the upsampled image (this thread's buffer: used until its next call)."""
        strip = _scratch("upsampled", (stop - top, self.width, self.channels))
        return _into(strip, cv2.resize(self.tall[top:stop], (self.width, stop - top), dst=strip,
                                       interpolation=cv2.INTER_LINEAR))


# --- strips, one per core ----------------------------------------------------------------------

#: Rows converted at once: a 4000-pixel-wide strip's float arrays stay in the cache.
STRIP_ROWS = 64
_pool: list[ThreadPoolExecutor] = []
_pool_lock = threading.Lock()


def workers() -> int:
    """Strips converted side by side: one per core this process may use."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 8))


def in_strips(work, height: int, rows: int | None = None) -> None:
    """``work(top, stop)`` for each strip of ``rows`` rows (default :data:`STRIP_ROWS`) of an image
    ``height`` rows high, :func:`workers` strips at a time (OpenCV and numpy let go of Python's
    lock while they compute); ``work`` writes its strip's results itself."""
    rows = int(rows or STRIP_ROWS)
    if rows < 1:
        raise ValueError(f"rows must be at least 1, got {rows}")
    strips = [(top, min(top + rows, height)) for top in range(0, height, rows)]
    if len(strips) < 2 or workers() < 2:
        for strip in strips:
            work(*strip)
        return
    with _pool_lock:  # one pool for the process, whichever thread (a server's) comes first
        if not _pool:
            _pool.append(ThreadPoolExecutor(workers(), thread_name_prefix="colorize-strips"))
    for done in [_pool[0].submit(work, *strip) for strip in strips]:
        done.result()  # re-raises a strip's error here


# --- the network's input: L shrunk by area ----------------------------------------------------


def shrinks(shape: tuple[int, int], size: tuple[int, int]) -> bool:
    """Whether ``size`` is no larger than ``shape`` on both sides, the case :func:`shrink` handles."""
    return 1 <= size[0] <= shape[0] and 1 <= size[1] <= shape[1]


def shrink(image: np.ndarray, length: int, axis: int) -> np.ndarray:
    """``image`` (float32) shrunk to ``length`` along ``axis`` by area, as TensorFlow's area resize
    (to float32 round-off): output pixel k is the mean of the input span [k s, (k + 1) s),
    s = n / length, the pixels cut by its two ends weighted by the share inside. Area averaging is
    separable, so shrinking along one side then the other is the 2-D area resize.

    A sum over whole pixels (``np.add.reduceat``) plus the two cut ends: one pass over the image,
    ~5x faster than OpenCV's INTER_AREA for a 12 MP photo's L to 96 x 72."""
    n = image.shape[axis]
    if not 1 <= length <= n:
        raise ValueError(f"shrink gives 1 to {n} pixels along axis {axis}, not {length}")
    ends = np.arange(length + 1) * (n / length)
    whole = np.floor(ends).astype(np.intp)
    cut = ends - whole
    whole[-1], cut[-1] = n - 1, 0.0  # the last span ends at the image's edge: no pixel is cut there
    shape = [1] * image.ndim
    shape[axis] = length
    start_cut, end_cut = (cut[part].astype(np.float32).reshape(shape) for part in (slice(None, -1), slice(1, None)))
    sums = np.add.reduceat(image, whole[:-1], axis=axis)  # [whole_k, whole_k+1): the last span to the edge
    sums -= start_cut * np.take(image, whole[:-1], axis=axis)
    sums += end_cut * np.take(image, whole[1:], axis=axis)
    sums *= np.float32(length / n)
    return sums
