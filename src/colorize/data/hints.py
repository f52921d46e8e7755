"""Colour hints: a few pixels whose true colour a user gives (Zhang et al. 2017, SIGGRAPH).

A hint network sees, besides L, two more inputs: the hint ab (normalised like the targets, 0 where
there is no hint) and a mask (1 where a hint is). Users are simulated as the paper does:

* the number of points per photo is geometric: points are added while a uniform draw is below
  ``1 - 1/8`` (mean 7; one photo in eight gets none), and a share of whole batches gets none, so
  the network keeps working without hints;
* each point is a square patch of side 1-9 px drawn uniformly, placed around the centre (normal,
  sigma a quarter of the side) or anywhere (uniform), half and half;
* its value is the mean true ab inside the patch.

:func:`simulate_hints` does this inside the tf.data graph with stateless random ops, so a seed
gives the same hints on every run. :func:`sample_points` is the fixed sampler of evaluation (every
model sees the same points), and :func:`render_points` paints points (simulated, or a user's from
the command line) into the two extra input channels at any size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import tensorflow as tf

#: Zhang et al.: after each point, another one follows with this probability (geometric, p = 1/8).
CONTINUE_PROBABILITY = 1.0 - 1.0 / 8.0
#: At most this many points per photo in training (P(more) = (7/8)^33, about 1 %).
MAX_POINTS = 32
#: Patch sides, in pixels of the network's input (inclusive).
PATCH_SIDES = (1, 9)
#: Share of points placed around the centre (the rest uniformly).
NORMAL_FRACTION = 0.5
#: Share of training batches with no hints at all.
NO_HINT_BATCHES = 0.1


def simulate_hints(ab: tf.Tensor, seed, *, continue_probability: float = CONTINUE_PROBABILITY,
                   max_points: int = MAX_POINTS, sides: tuple[int, int] = PATCH_SIDES,
                   normal_fraction: float = NORMAL_FRACTION, no_hint_batches: float = NO_HINT_BATCHES):
    """Simulated user hints for a batch of ab ``[B, H, W, 2]`` (any scale; the hints keep it).

    ``seed``: a stateless seed (shape ``[2]`` int), e.g. one element of ``tf.data.Dataset.random``.
    Returns ``(hint_ab [B, H, W, 2], mask [B, H, W, 1])``; where patches overlap, the later point's
    colour is painted.
    """
    ab = tf.convert_to_tensor(ab, tf.float32)
    shape = tf.shape(ab)
    batch, height, width = shape[0], shape[1], shape[2]
    seeds = tf.unstack(tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), num=8))
    uniform = tf.random.stateless_uniform

    # number of points: the count of leading draws below the continue probability (geometric)
    going_on = tf.cast(uniform([batch, max_points], seeds[0]) < continue_probability, tf.int32)
    count = tf.reduce_sum(tf.math.cumprod(going_on, axis=1), axis=1)
    count = tf.where(uniform([], seeds[1]) < no_hint_batches, tf.zeros_like(count), count)
    active = tf.range(max_points)[None, :] < count[:, None]  # [B, P]

    side = tf.random.stateless_uniform([batch, max_points], seeds[2], minval=sides[0], maxval=sides[1] + 1,
                                       dtype=tf.int32)
    around_centre = uniform([batch, max_points], seeds[3]) < normal_fraction

    def corner(extent, normal_seed, uniform_seed):
        extent_f = tf.cast(extent, tf.float32)
        centre = tf.where(around_centre,
                          tf.random.stateless_normal([batch, max_points], normal_seed, extent_f / 2, extent_f / 4),
                          uniform([batch, max_points], uniform_seed, 0.0, extent_f))
        start = tf.cast(tf.round(centre - tf.cast(side, tf.float32) / 2), tf.int32)
        return tf.clip_by_value(start, 0, tf.maximum(extent - side, 0))

    top, left = corner(height, seeds[4], seeds[5]), corner(width, seeds[6], seeds[7])
    rows, cols = tf.range(height)[None, None, :], tf.range(width)[None, None, :]
    in_rows = (rows >= top[..., None]) & (rows < (top + side)[..., None])  # [B, P, H]
    in_cols = (cols >= left[..., None]) & (cols < (left + side)[..., None])  # [B, P, W]
    patches = tf.cast(in_rows[..., :, None] & in_cols[..., None, :] & active[..., None, None], tf.float32)

    area = tf.reduce_sum(patches, axis=[2, 3])  # [B, P]
    means = tf.math.divide_no_nan(tf.einsum("bphw,bhwc->bpc", patches, ab), area[..., None])
    # the last point covering a pixel paints it (1-based; 0: no hint)
    order = tf.range(1, max_points + 1, dtype=tf.float32)[None, :, None, None]
    last = tf.cast(tf.reduce_max(patches * order, axis=1), tf.int32)  # [B, H, W]
    painted = tf.einsum("bhwp,bpc->bhwc", tf.one_hot(last - 1, max_points), means)
    mask = tf.cast(last > 0, tf.float32)[..., None]
    return painted * mask, mask


@dataclass(frozen=True)
class HintPoint:
    """One hint: the square of ``size`` pixels whose top-left corner is (``x``, ``y``), of colour
    (``a``, ``b``) in Lab units."""

    x: int
    y: int
    size: int
    a: float
    b: float


def sample_points(ab: np.ndarray, count: int, seed: int, *, sides: tuple[int, int] = PATCH_SIDES,
                  normal_fraction: float = NORMAL_FRACTION) -> list[HintPoint]:
    """``count`` hints for one photo's true ab ``[H, W, 2]`` (Lab units) by the training sampler's
    rules, from a NumPy generator seeded with ``seed``: the same photo, count and seed give the same
    points, and a larger count extends a smaller one (its first points are the same)."""
    height, width = ab.shape[:2]
    rng = np.random.default_rng(seed)
    points = []
    for _ in range(count):
        side = int(rng.integers(sides[0], sides[1] + 1))
        around_centre = rng.uniform() < normal_fraction
        corner = []
        for extent in (height, width):
            centre = rng.normal(extent / 2, extent / 4) if around_centre else rng.uniform(0, extent)
            corner.append(int(np.clip(round(centre - side / 2), 0, max(extent - side, 0))))
        top, left = corner
        patch = ab[top: top + side, left: left + side].reshape(-1, 2)
        a, b = patch.mean(axis=0)
        points.append(HintPoint(x=left, y=top, size=min(side, width - left, height - top), a=float(a), b=float(b)))
    return points


def render_points(points: list[HintPoint], height: int, width: int, scale: float | tuple[float, float] = 1.0
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Paint points into ``(hint_ab [H, W, 2] float32, mask [H, W, 1] float32)``; ``scale`` maps the
    points' coordinates and sizes (e.g. from the photo to the network's input size), one factor or
    ``(rows, columns)``. A later point paints over an earlier one, as in :func:`simulate_hints`;
    every point covers at least one pixel."""
    scale_y, scale_x = (scale, scale) if np.isscalar(scale) else scale
    hint_ab = np.zeros((height, width, 2), np.float32)
    mask = np.zeros((height, width, 1), np.float32)
    for point in points:
        top = min(int(point.y * scale_y), height - 1)
        left = min(int(point.x * scale_x), width - 1)
        rows = max(1, int(round(point.size * scale_y)))
        cols = max(1, int(round(point.size * scale_x)))
        hint_ab[top: top + rows, left: left + cols] = (point.a, point.b)
        mask[top: top + rows, left: left + cols] = 1.0
    return hint_ab, mask

