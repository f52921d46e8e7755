"""Colorization as classification over quantised ab (Zhang, Isola & Efros 2016, "Colorful Image
Colorization").

A regression network trained with L2 (or L1) on ab predicts the *mean* (or median) of every
colour a pixel could plausibly have; when those colours are far apart (a car that is red in some
photos and blue in others) the mean sits between them, duller than either and gray when the two
hues are opposite (:func:`two_mode_example`).
Zhang et al. instead let the network predict a *distribution* over ``Q`` ab bins and pick a
colour from it afterwards:

1. :func:`ab_bins`: the centres of the 10 x 10 ab cells the sRGB gamut reaches.
2. :func:`soft_encode`: the training target of one pixel, its 5 nearest bins weighted by a
   Gaussian of their distance (softer than a one-hot, so neighbouring bins are not strangers).
3. :func:`empirical_prior` -> :func:`smooth_prior` -> :func:`rebalancing_weights`: how often each
   bin occurs in the training photos, and a weight per bin that boosts rare (saturated) colours,
   because otherwise the low-chroma bins that fill most photos dominate the loss.
4. :class:`RebalancedCrossEntropy`: the weighted multinomial cross-entropy.
5. :func:`annealed_mean`: from the predicted distribution back to one ab; the temperature ``T``
   slides between the mean (``T = 1``: smooth but dull) and the mode (``T -> 0``: vivid but
   patchy). Zhang et al. use ``T = 0.38``.

Units: everything here is in Lab units (``a, b`` in about [-110, 110]) except the loss's
``y_true``, which is the course's normalised ab (``ab / lab.AB_SCALE``), as the data pipeline
yields it.
"""

from __future__ import annotations

import functools

import keras
import numpy as np
import tensorflow as tf

from colorize import lab

#: Bin spacing in ab units (Zhang et al.: 10).
GRID = 10.0
#: Width (ab units) of the Gaussian that soft-encodes a pixel and smooths the prior (Zhang et al.: 5).
SIGMA = 5.0
#: How many nearest bins share a pixel's soft encoding (Zhang et al.: 5).
NEIGHBOURS = 5
#: Mix of the smoothed prior and the uniform distribution in the rebalancing weights (Zhang et al.: 0.5).
LAMBDA = 0.5
#: The annealed mean's temperature (Zhang et al.: 0.38).
T_DEFAULT = 0.38

#: Every 4th 8-bit level (plus 255) per channel: 274,625 colours, about 0.2 s through
#: :func:`colorize.lab.rgb_to_lab`, and at ``grid = 10`` they reach exactly the same bins as all
#: 16,777,216 colours (checked once; it takes 15 s). A finer grid may need a smaller step.
_SAMPLE_STEP = 4
#: Spacing (ab units) of the ab samples tested at each L when :func:`ab_bins` is given L levels.
_SLICE_SPACING = 0.5
#: Added to probabilities before the log in the loss, so a bin with p = 0 costs -log(1e-8), not inf.
_LOG_EPSILON = 1e-8
#: At or below this temperature the annealed mean is the mode, taken by argmax (no division by T).
_MODE_TEMPERATURE = 1e-3


# --- the bins ------------------------------------------------------------------------------


def ab_bins(grid: float = GRID, lightness_levels=None) -> np.ndarray:
    """Centres ``(a, b)`` of the ``grid`` x ``grid`` ab cells that hold an in-gamut sRGB colour.

    Parameters
    ----------
    grid : float
        Bin spacing in ab units; centres are the multiples of ``grid``, and a colour belongs to
        the nearest centre (``np.round(ab / grid) * grid``), so a cell spans ``centre +- grid/2``.
    lightness_levels : sequence of float, optional
        ``None`` (default): the gamut at every L, found by converting 8-bit sRGB colours (every
        4th level) to Lab. Given L values (e.g. ``(50,)``): only cells holding a colour that is
        in gamut *at one of those L*, found by testing a 0.5-unit ab lattice with
        :func:`colorize.lab.in_srgb_gamut` (0.1 s per level; for a few slices, as in Zhang et
        al.'s figure of the gamut at L = 50).

    Returns
    -------
    np.ndarray
        ``[Q, 2]`` float32, sorted by a then b, read-only (the result is cached).

    Notes
    -----
    At ``grid = 10`` over every L this gives **261 bins**, not the 313 of Zhang et al. Their
    ``pts_in_hull.npy`` holds all 261 of ours plus 52 cells on the rim (e.g. (-90, 50), their
    first point): none of those 52 cells holds any of the 16.7 M 8-bit sRGB colours, and their
    centres lie 5.7 to 14.8 ab units from the nearest one (ours is the cells a colour falls in;
    theirs is a looser, hull-like outline, one cell wider). No choice of rounding explains the gap: floor
    instead of nearest-centre rounding gives 267. For a network the difference is 52 output
    channels that the training photos never make targets of.
    """
    levels = None if lightness_levels is None else tuple(float(level) for level in np.ravel(lightness_levels))
    return _ab_bins(float(grid), levels)


@functools.cache
def _ab_bins(grid: float, levels: tuple[float, ...] | None) -> np.ndarray:
    if levels is None:
        ab = np.asarray(lab.rgb_to_lab(lab.all_8bit_colors(_SAMPLE_STEP)))[:, 1:]
    else:
        # Offset by a quarter spacing so no sample sits exactly on a cell border (where
        # np.round's round-half-to-even would pick a side arbitrarily).
        axis = np.arange(-128.0, 128.0, _SLICE_SPACING) + _SLICE_SPACING / 4
        a, b = np.meshgrid(axis, axis, indexing="ij")
        ab_plane = np.stack([a.ravel(), b.ravel()], axis=-1)
        inside = []
        for level in levels:
            lab_plane = np.concatenate([np.full((len(ab_plane), 1), level), ab_plane], axis=-1)
            inside.append(ab_plane[np.asarray(lab.in_srgb_gamut(lab_plane))])
        ab = np.concatenate(inside)
    centres = np.unique(np.round(ab / grid).astype(np.int64), axis=0) * grid
    centres = centres.astype(np.float32)
    centres.setflags(write=False)  # one array is shared by every caller
    return centres


def quantize(ab, bins: np.ndarray) -> np.ndarray:
    """Index of the nearest bin centre for every ab (Lab units) of shape ``[..., 2]``.

    Returns an int64 array of shape ``[...]``. Bin centres lie on the grid, so when the grid
    point nearest to ``ab`` is a bin it is also the nearest bin: a lookup table answers those
    (every in-gamut colour), and only the rest (ab outside the bins' cells) are compared with
    every centre.
    """
    ab = np.asarray(ab, dtype=np.float64)
    bins = np.asarray(bins, dtype=np.float64)
    flat = ab.reshape(-1, 2)
    grid = _grid_of(bins)
    cells = np.round(bins / grid).astype(np.int64)
    low = cells.min(axis=0)
    table = np.full(cells.max(axis=0) - low + 1, -1, dtype=np.int64)
    table[cells[:, 0] - low[0], cells[:, 1] - low[1]] = np.arange(len(bins))

    where = np.round(flat / grid).astype(np.int64) - low
    inside = np.all((where >= 0) & (where < table.shape), axis=-1)
    index = np.full(len(flat), -1, dtype=np.int64)
    index[inside] = table[where[inside, 0], where[inside, 1]]
    missing = np.flatnonzero(index < 0)
    for start in range(0, len(missing), 65536):  # chunks keep the distance matrix small
        chunk = missing[start:start + 65536]
        distance = ((flat[chunk, None, :] - bins[None, :, :]) ** 2).sum(axis=-1)
        index[chunk] = distance.argmin(axis=-1)
    return index.reshape(ab.shape[:-1])


def _grid_of(bins: np.ndarray) -> float:
    """The spacing of a set of grid bins (the smallest non-zero gap between centre coordinates)."""
    values = np.unique(np.asarray(bins, dtype=np.float64))
    gaps = np.diff(values)
    return float(gaps[gaps > 1e-6].min()) if len(values) > 1 else GRID


# --- the prior and the class weights --------------------------------------------------------


def empirical_prior(ab_pixels, bins: np.ndarray) -> np.ndarray:
    """How often each bin occurs: the histogram of ``ab_pixels`` (Lab units, ``[..., 2]``) over the
    nearest bins, normalised to sum to 1. Returns ``[Q]`` float64."""
    counts = np.bincount(quantize(ab_pixels, bins).ravel(), minlength=len(bins)).astype(np.float64)
    return counts / counts.sum()


def smooth_prior(p, bins: np.ndarray, sigma: float = SIGMA) -> np.ndarray:
    """``p`` blurred in the ab plane by a Gaussian of width ``sigma`` (ab units), renormalised.

    Zhang et al. smooth the histogram because a few hundred photos (or even ImageNet) leave
    neighbouring bins with erratic counts, and the weights divide by these counts."""
    p = np.asarray(p, dtype=np.float64)
    centres = np.asarray(bins, dtype=np.float64)
    squared = ((centres[:, None, :] - centres[None, :, :]) ** 2).sum(axis=-1)
    kernel = np.exp(-squared / (2.0 * sigma ** 2))
    smoothed = kernel @ p
    return smoothed / smoothed.sum()


def rebalancing_weights(p_smoothed, lam: float = LAMBDA) -> np.ndarray:
    """Per-bin loss weights ``w ∝ 1 / ((1 - lam) p̃ + lam / Q)``, scaled so that ``Σ p̃ w = 1``.

    Rare bins get large weights, common ones small; mixing in the uniform ``lam / Q`` keeps a bin
    that never occurs at a finite weight (``Q / lam`` before scaling) instead of ``1 / 0``. The scale
    makes the expected weight of a training pixel 1, so the loss keeps the size it would have
    unweighted. ``lam = 1`` gives all-ones weights (no rebalancing).
    """
    p = np.asarray(p_smoothed, dtype=np.float64)
    weights = 1.0 / ((1.0 - lam) * p + lam / len(p))
    return weights / np.sum(p * weights)


# --- the target of one pixel ----------------------------------------------------------------


#: The candidate table of :func:`_candidate_table` covers ab in [-_TABLE_REACH, _TABLE_REACH) in
#: 1-unit cells: every sRGB colour (|a|, |b| <= 107.9), the only ab a loss target holds.
_TABLE_REACH = 128


@functools.lru_cache(maxsize=8)
def _candidate_table(bins_bytes: bytes, neighbours: int) -> tuple[np.ndarray, np.ndarray]:
    """For each 1 x 1 ab cell, the bins that can be among the ``neighbours`` nearest of a point in
    it: a bin is kept when its distance to the cell does not exceed the ``neighbours``-th
    smallest distance from the cell's farthest corner to any bin. Returns the table
    ``[cells, K]`` (bin indices in increasing order, padded with index ``Q``) and the bin centres
    with a far-away padding centre appended ``[Q + 1, 2]``."""
    bins = np.frombuffer(bins_bytes, dtype=np.float32).reshape(-1, 2).astype(np.float64)
    edges = np.arange(-_TABLE_REACH, _TABLE_REACH, dtype=np.float64)
    rows = []
    for low_a in edges:  # one row of cells at a time: [cells, Q] distances
        low = np.stack([np.full_like(edges, low_a), edges], axis=-1)[:, None, :]
        high = low + 1.0
        nearest_gap = np.maximum(np.maximum(low - bins, bins - high), 0.0)
        farthest_gap = np.maximum(np.abs(bins - low), np.abs(bins - high))
        closest = (nearest_gap ** 2).sum(-1)
        farthest = np.partition((farthest_gap ** 2).sum(-1), neighbours - 1, axis=-1)[:, neighbours - 1:neighbours]
        rows.extend(np.flatnonzero(row) for row in closest <= farthest)
    width = max(len(row) for row in rows)
    table = np.full((len(rows), width), len(bins), dtype=np.int32)
    for cell, row in enumerate(rows):
        table[cell, :len(row)] = row
    centres = np.concatenate([bins, [[1e4, 1e4]]]).astype(np.float32)
    return table, centres


def _nearest_bins(ab: tf.Tensor, bins: np.ndarray, neighbours: int) -> tuple[tf.Tensor, tf.Tensor]:
    """Squared distances ``[N, k]`` and indices ``[N, k]`` of the ``k`` nearest bins, nearest first,
    for ab flattened to ``[N, 2]``. Each pixel is compared with its cell's few candidate bins
    (:func:`_candidate_table`: at most 12 of the 261 course bins) instead of all ``Q``: the same
    bins up to ties between equally near ones, at a sixth of the cost of a top-k over 261
    distances (124 -> 20 ms per 16 x 64 x 64 batch), which had been a fifth of the classifier's
    training step."""
    flat = tf.reshape(tf.cast(ab, tf.float32), [-1, 2])
    table, centres = _candidate_table(np.ascontiguousarray(bins, dtype=np.float32).tobytes(), int(neighbours))
    side = 2 * _TABLE_REACH
    cell = tf.clip_by_value(tf.cast(tf.floor(flat), tf.int32) + _TABLE_REACH, 0, side - 1)
    candidates = tf.gather(tf.constant(table), cell[:, 0] * side + cell[:, 1])  # [N, K]
    candidate_centres = tf.gather(tf.constant(centres), candidates)  # [N, K, 2]
    # |x - c|^2 expanded, as a full comparison would compute it.
    squared = (tf.reduce_sum(flat ** 2, axis=-1, keepdims=True)
               - 2.0 * tf.reduce_sum(flat[:, None, :] * candidate_centres, axis=-1)
               + tf.reduce_sum(candidate_centres ** 2, axis=-1))
    negative, position = tf.math.top_k(-tf.maximum(squared, 0.0), k=neighbours)
    return -negative, tf.gather(candidates, position, batch_dims=1)


def _soft_weights(ab, bins, neighbours, sigma):
    """The soft encoding kept sparse: weights ``[N, k]`` (summing to 1) of each flattened ab's
    ``k`` nearest bins, and those bins' indices ``[N, k]``, nearest first."""
    squared, index = _nearest_bins(ab, bins, neighbours)
    # Subtracting the nearest distance changes nothing after normalising but keeps the
    # exponentials from all underflowing to 0 (and 0 / 0) for an ab far outside the bins.
    weight = tf.exp(-(squared - squared[:, :1]) / (2.0 * sigma ** 2))
    return weight / tf.reduce_sum(weight, axis=-1, keepdims=True), index


def _sparse_cross_entropy(ab, y_pred, bins, neighbours, sigma):
    """``-Σ_q z_q log(p_q + ε)`` per pixel ``[N]`` and the nearest bin ``[N]``. Only the ``k``
    bins a soft target puts weight on enter the sum, so this gathers ``k`` probabilities per pixel
    instead of building the dense ``[N, Q]`` target: the same loss and gradient at about half
    the cost of a training step's loss (``benchmarks``: 481 → 279 ms per 16 × 64 × 64 batch)."""
    weight, index = _soft_weights(ab, bins, neighbours, sigma)
    weight = tf.stop_gradient(weight)  # the target is data, not something to train
    probabilities = tf.reshape(tf.cast(y_pred, tf.float32), [-1, len(bins)])
    picked = tf.gather(probabilities, index, batch_dims=1)
    return -tf.reduce_sum(weight * tf.math.log(picked + _LOG_EPSILON), axis=-1), index[:, 0]


def _soft_encode_flat(ab, bins, neighbours, sigma):
    """:func:`soft_encode` on ab flattened to ``[N, 2]``; also returns the nearest bin ``[N]``."""
    weight, index = _soft_weights(ab, bins, neighbours, sigma)
    pixels = tf.shape(index)[0]
    rows = tf.repeat(tf.range(pixels), neighbours)
    scatter_at = tf.stack([rows, tf.reshape(index, [-1])], axis=-1)
    # Scatter k values per pixel into [N, Q]; a one-hot would build an [N, k, Q] tensor first.
    encoded = tf.scatter_nd(scatter_at, tf.reshape(weight, [-1]), [pixels, len(bins)])
    return encoded, index[:, 0]


def soft_encode(ab, bins: np.ndarray, neighbours: int = NEIGHBOURS, sigma: float = SIGMA):
    """Zhang et al.'s soft target: each ab (Lab units, ``[..., 2]``) spread over its ``neighbours``
    nearest bins with weights ``exp(-d² / 2σ²)`` normalised to sum to 1.

    Returns ``[..., Q]`` float32: a ``tf.Tensor`` for tensor input (works inside a loss), a numpy
    array for numpy input. Memory: two ``[pixels, Q]`` float32 arrays (a 16 x 64 x 64 batch with
    261 bins: 68 MB each).
    """
    as_numpy = not tf.is_tensor(ab)
    ab = tf.convert_to_tensor(ab)
    encoded, _ = _soft_encode_flat(ab, bins, neighbours, sigma)
    encoded = tf.reshape(encoded, tf.concat([tf.shape(ab)[:-1], [len(bins)]], axis=0))
    return encoded.numpy() if as_numpy else encoded


# --- the loss -------------------------------------------------------------------------------


@keras.saving.register_keras_serializable(package="colorize")
class RebalancedCrossEntropy(keras.losses.Loss):
    """Class-rebalanced multinomial cross-entropy of Zhang et al. (their equation 2).

    Per pixel, ``-w[q*] Σ_q z_q log(p_q + 1e-8)`` with ``z`` the soft encoding of the true ab,
    ``q*`` its nearest bin (``argmax z``), ``p`` the network's softmax. ``call`` returns the
    ``[B, H, W]`` loss map and Keras averages it.

    Parameters
    ----------
    bins, weights : array_like
        ``[Q, 2]`` bin centres (Lab units) and ``[Q]`` weights (:func:`rebalancing_weights`; all
        ones for the unweighted loss).
    ab_scale : float
        ``y_true`` is ab divided by this (the course's normalised ab).

    ``get_config`` stores ``bins`` and ``weights`` as lists and the class is registered with
    Keras, so a model compiled with it reloads with ``compile=True`` once this module is
    imported; the course saves and loads with ``compile=False`` anyway.
    """

    def __init__(self, bins, weights, ab_scale: float = lab.AB_SCALE, neighbours: int = NEIGHBOURS,
                 sigma: float = SIGMA, name: str = "rebalanced_cross_entropy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.bins = np.asarray(bins, dtype=np.float32)
        self.weights = np.asarray(weights, dtype=np.float32)
        if self.bins.ndim != 2 or self.bins.shape[1] != 2 or self.weights.shape != (len(self.bins),):
            raise ValueError(f"bins must be [Q, 2] and weights [Q]; got {self.bins.shape} and {self.weights.shape}")
        self.ab_scale = float(ab_scale)
        self.neighbours = int(neighbours)
        self.sigma = float(sigma)

    def call(self, y_true, y_pred):
        ab = tf.cast(y_true, tf.float32) * self.ab_scale
        cross_entropy, nearest = _sparse_cross_entropy(ab, y_pred, self.bins, self.neighbours, self.sigma)
        loss = tf.gather(tf.constant(self.weights), nearest) * cross_entropy
        return tf.reshape(loss, tf.shape(y_pred)[:-1])

    def get_config(self):
        config = super().get_config()
        config.update(bins=self.bins.tolist(), weights=self.weights.tolist(), ab_scale=self.ab_scale,
                      neighbours=self.neighbours, sigma=self.sigma)
        return config


def soft_cross_entropy(y_true, y_pred, bins: np.ndarray, ab_scale: float = lab.AB_SCALE,
                       neighbours: int = NEIGHBOURS, sigma: float = SIGMA) -> tuple[tf.Tensor, tf.Tensor]:
    """Per-pixel cross-entropy of predicted distributions ``y_pred`` ``[..., Q]`` against the
    soft-encoded true ab (``y_true``, ab / ``ab_scale``), unweighted, and each pixel's nearest bin:
    ``(cross_entropy [N], nearest [N])`` over the N pixels. ``weights[nearest] * cross_entropy`` is
    :class:`RebalancedCrossEntropy`'s loss, so one encoding serves the weighted and the plain loss."""
    ab = tf.cast(y_true, tf.float32) * float(ab_scale)
    return _sparse_cross_entropy(ab, y_pred, np.asarray(bins, dtype=np.float32), int(neighbours), float(sigma))


# --- from a distribution back to one colour ------------------------------------------------


def annealed_mean(probabilities, bins: np.ndarray, temperature: float = T_DEFAULT):
    """One ab (Lab units, ``[..., 2]``) from a distribution ``[..., Q]`` over the bins.

    Re-weights the distribution as ``f_T(z) = exp(log z / T) / Σ exp(log z / T)`` (``z^(1/T)``
    renormalised) and returns the expected bin centre under ``f_T``. ``T = 1`` is the plain
    mean; smaller ``T`` sharpens towards the most likely bin, and ``T <= 1e-3`` returns that bin
    (the mode) directly. The softmax of ``log z / T`` subtracts its maximum, so small ``T`` cannot
    overflow. Tensor in, tensor out; numpy in, numpy out.
    """
    as_numpy = not tf.is_tensor(probabilities)
    probabilities = tf.convert_to_tensor(probabilities)
    if probabilities.dtype not in (tf.float32, tf.float64):
        probabilities = tf.cast(probabilities, tf.float32)
    centres = tf.constant(np.asarray(bins), dtype=probabilities.dtype)
    if temperature <= _MODE_TEMPERATURE:
        sharpened = tf.one_hot(tf.argmax(probabilities, axis=-1), len(bins), dtype=probabilities.dtype)
    else:
        # log of 0 would be -inf (fine for softmax, but its gradient is not): floor at 1e-30.
        logits = tf.math.log(tf.maximum(probabilities, 1e-30)) / temperature
        sharpened = tf.nn.softmax(logits, axis=-1)
    ab = tf.tensordot(sharpened, centres, axes=[[-1], [0]])
    return ab.numpy() if as_numpy else ab


def chroma(ab) -> np.ndarray:
    """Colourfulness ``sqrt(a² + b²)`` of ab (Lab units, ``[..., 2]``)."""
    ab = np.asarray(ab, dtype=np.float64)
    return np.sqrt((ab ** 2).sum(axis=-1))


def two_mode_example(red=(60.0, 40.0), blue=(10.0, -50.0)) -> dict:
    """The lesson's one-pixel example: a pixel that is ``red`` in half the photos, ``blue`` in the
    other half. Which single ab does each loss pick?

    * L2 -> the mean of the two.
    * L1 -> the component-wise median, which for two equal modes is *any* value between them in
      each of a and b (the loss is flat there); we report the midpoint, which is the mean.
    * classification + mode -> one of the two real colours (a tie here; we report ``red``).

    Returns a dict of ab pairs (Lab units) and their chroma. With the defaults the mean is
    (35, -5), chroma 35: half the red's 72 and below the blue's 51, and a dull mauve that is
    neither colour. The nearer the two modes are to opposite hues, the closer the mean is to
    gray (exactly gray for ``blue = -red``).
    """
    red, blue = np.asarray(red, dtype=np.float64), np.asarray(blue, dtype=np.float64)
    mean = (red + blue) / 2.0
    picks = {"red": red, "blue": blue, "l2_mean": mean, "l1_median": mean.copy(), "mode": red.copy()}
    return {
        "ab": {name: tuple(float(v) for v in value) for name, value in picks.items()},
        "chroma": {name: float(chroma(value)) for name, value in picks.items()},
        "mean_chroma_vs_modes": float(chroma(mean) / ((chroma(red) + chroma(blue)) / 2.0)),
    }
