"""Two ways to spread hint colours over a photo that learn nothing: the baselines a hint network
must beat (lesson 09).

* :func:`nearest_hint_fill`: every pixel takes the ab of its nearest hint pixel (a Voronoi fill).
* :func:`levin_fill`: Levin, Lischinski & Weiss, "Colorization using Optimization" (SIGGRAPH
  2004): each pixel's colour is the weighted mean of its 3x3 neighbours', with large weights
  where their lightness is alike, and hints fixed; one sparse linear solve for a and b together.

Both take the hints as :func:`colorize.data.hints.render_points` paints them (``hint_ab
[H, W, 2]`` in Lab units, ``mask [H, W, 1]``) and return ab ``[H, W, 2]`` float32; with no
hint at all they return gray (ab = 0).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage, sparse
from scipy.sparse.linalg import splu

#: Levin et al.'s reference code: the weight's variance is 0.6 x the window's variance of Y, at
#: least enough that the most similar neighbour keeps weight 0.01, and at least 2e-6.
VARIANCE_FACTOR, MIN_NEIGHBOUR_WEIGHT, MIN_VARIANCE = 0.6, 0.01, 2e-6
_OFFSETS = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if (dy, dx) != (0, 0)]


def _hinted(mask: np.ndarray) -> np.ndarray:
    return np.asarray(mask).reshape(np.asarray(mask).shape[:2]) > 0


def nearest_hint_fill(hint_ab: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Each pixel gets the colour of the nearest hinted pixel (Euclidean distance)."""
    hinted = _hinted(mask)
    if not hinted.any():
        return np.zeros(hinted.shape + (2,), np.float32)
    rows, cols = ndimage.distance_transform_edt(~hinted, return_distances=False, return_indices=True)
    return np.asarray(hint_ab, np.float32)[rows, cols]


def _neighbour_lightness(y: np.ndarray) -> np.ndarray:
    """Y of the 8 neighbours of every pixel, ``[8, H, W]`` (NaN outside the photo)."""
    padded = np.pad(y, 1, constant_values=np.nan)
    height, width = y.shape
    return np.stack([padded[1 + dy: 1 + dy + height, 1 + dx: 1 + dx + width] for dy, dx in _OFFSETS])


def levin_weights(lightness: np.ndarray) -> np.ndarray:
    """Levin et al.'s affinities ``[8, H, W]``: for each pixel and each neighbour (in
    :data:`_OFFSETS` order), exp(-(Y_r - Y_s)^2 / sigma_r^2) normalised to sum 1 over the
    neighbours; 0 outside the photo. Y is L / 100."""
    y = np.asarray(lightness, np.float64) / 100.0
    neighbours = _neighbour_lightness(y)
    window = np.concatenate([neighbours, y[None]])
    variance = VARIANCE_FACTOR * np.nanvar(window, axis=0)
    squared = (neighbours - y[None]) ** 2
    closest = np.nanmin(squared, axis=0)
    variance = np.maximum(variance, -closest / np.log(MIN_NEIGHBOUR_WEIGHT))
    variance = np.maximum(variance, MIN_VARIANCE)
    weights = np.nan_to_num(np.exp(-squared / variance[None]), nan=0.0)
    return weights / weights.sum(axis=0, keepdims=True)


def levin_fill(lightness: np.ndarray, hint_ab: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Colour every pixel so it is the affinity-weighted mean of its neighbours, hints kept.

    Solves (I - W) ab = 0 on pixels without a hint and ab = hint on hinted ones: an N x N sparse
    system (N pixels, 9 entries a row), factorised once for both channels.
    """
    hinted = _hinted(mask)
    height, width = hinted.shape
    if not hinted.any():
        return np.zeros((height, width, 2), np.float32)
    weights = levin_weights(lightness)
    index = np.arange(height * width).reshape(height, width)
    neighbour_index = np.stack([np.pad(index, 1, constant_values=-1)[1 + dy: 1 + dy + height, 1 + dx: 1 + dx + width]
                                for dy, dx in _OFFSETS])
    free = ~hinted
    keep = (neighbour_index >= 0) & free[None] & (weights > 0)
    rows = np.concatenate([index.ravel(), np.broadcast_to(index, keep.shape)[keep]])
    cols = np.concatenate([index.ravel(), neighbour_index[keep]])
    values = np.concatenate([np.ones(height * width), -weights[keep]])
    system = sparse.csc_matrix((values, (rows, cols)), shape=(height * width,) * 2)
    right = np.where(hinted[..., None], np.asarray(hint_ab, np.float64), 0.0).reshape(-1, 2)
    solved = splu(system).solve(right)
    return solved.reshape(height, width, 2).astype(np.float32)
