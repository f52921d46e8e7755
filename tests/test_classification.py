"""colorize.classification and the classifier model: Zhang et al. 2016's bins, soft targets,
rebalancing, loss and annealed mean, on small arrays (the whole file runs in a few seconds)."""

from __future__ import annotations

import time

import numpy as np
import pytest
import tensorflow as tf

from colorize import classification as cls
from colorize import lab
from colorize.config import ColorizeError
from colorize.models.classifier import colorful_classifier
from colorize.models.unet import unet

#: Zhang et al.'s 313 bins (``pts_in_hull.npy``), row by row: a -> (lowest b, highest b), step 10.
ZHANG_ROWS = {-90: (50, 90), -80: (20, 90), -70: (0, 90), -60: (-20, 90), -50: (-30, 100), -40: (-40, 100),
              -30: (-50, 100), -20: (-50, 100), -10: (-60, 100), 0: (-70, 100), 10: (-80, 90), 20: (-80, 90),
              30: (-90, 90), 40: (-100, 90), 50: (-100, 80), 60: (-110, 80), 70: (-110, 80), 80: (-110, 70),
              90: (-110, 70), 100: (-90, 0)}
ZHANG_BINS = {(a, b) for a, (low, high) in ZHANG_ROWS.items() for b in range(low, high + 1, 10)}
#: The count documented in ab_bins (the sRGB gamut over every L at a 10-unit grid).
EXPECTED_BINS = 261


@pytest.fixture(scope="module")
def bins() -> np.ndarray:
    return cls.ab_bins()


def _random_ab(shape, seed=0) -> np.ndarray:
    """ab of real colours (Lab units): random 8-bit sRGB pixels converted."""
    rgb = np.random.default_rng(seed).integers(0, 256, (*shape, 3), dtype=np.uint8)
    return np.asarray(lab.rgb_to_lab(rgb))[..., 1:]


# --- bins ----------------------------------------------------------------------------------


def test_bins_are_the_documented_grid_cells_of_the_gamut(bins):
    assert len(ZHANG_BINS) == 313
    assert bins.shape == (EXPECTED_BINS, 2)
    assert np.all(bins % 10 == 0)
    assert len(np.unique(bins, axis=0)) == len(bins)
    # Ours is Zhang et al.'s set minus a one-cell rim (see ab_bins' notes): a strict subset.
    ours = {(int(a), int(b)) for a, b in bins}
    assert ours < ZHANG_BINS and len(ZHANG_BINS - ours) == 313 - EXPECTED_BINS
    assert bins[:, 0].min() == -90 and bins[:, 0].max() == 100
    assert bins[:, 1].min() == -110 and bins[:, 1].max() == 90


def test_bins_are_cached_and_fast():
    cls._ab_bins.cache_clear()
    start = time.perf_counter()
    first = cls.ab_bins()
    assert time.perf_counter() - start < 2.0
    assert cls.ab_bins() is first and not first.flags.writeable


def test_every_8bit_colour_falls_in_a_bin_within_half_a_diagonal(bins):
    colours = lab.all_8bit_colors(step=5)  # 140,608 colours, a different sample from ab_bins' own
    ab = np.asarray(lab.rgb_to_lab(colours))[:, 1:]
    index = cls.quantize(ab, bins)
    distance = np.linalg.norm(bins[index] - ab, axis=-1)
    assert distance.max() <= cls.GRID * np.sqrt(2) / 2 + 1e-4


def test_quantize_finds_the_nearest_bin_for_any_ab_and_shape(bins):
    rng = np.random.default_rng(1)
    ab = rng.uniform(-127, 127, (3, 50, 2))  # also far outside the gamut: the brute-force path
    index = cls.quantize(ab, bins)
    assert index.shape == (3, 50)
    brute = np.argmin(((ab[..., None, :] - bins) ** 2).sum(-1), axis=-1)
    np.testing.assert_array_equal(index, brute)


def test_a_slice_at_one_lightness_is_a_smaller_part_of_the_gamut(bins):
    middle = cls.ab_bins(lightness_levels=(50,))
    assert 0 < len(middle) < len(bins)
    assert {tuple(x) for x in middle} <= {tuple(x) for x in bins}


# --- soft encoding --------------------------------------------------------------------------


def test_nearest_bins_are_those_of_a_search_over_every_bin(bins):
    from colorize.classification import _nearest_bins

    rng = np.random.default_rng(3)
    gamut = np.asarray(lab.rgb_to_lab(lab.all_8bit_colors(16)))[:, 1:]
    ab = np.concatenate([rng.uniform(-110, 110, (20000, 2)), gamut, np.round(rng.uniform(-100, 100, (2000, 2)))])
    squared, index = (t.numpy() for t in _nearest_bins(ab.astype(np.float32), bins, 5))
    every = ((ab[:, None, :] - bins[None].astype(np.float64)) ** 2).sum(-1)  # [N, Q], float64
    expected = np.sort(every, axis=-1)[:, :5]
    picked = np.take_along_axis(every, index, axis=-1)
    # the picked bins are the five nearest (ties may pick either bin) and come nearest first
    np.testing.assert_allclose(np.sqrt(picked), np.sqrt(expected), atol=1e-3)
    np.testing.assert_allclose(np.sqrt(squared), np.sqrt(expected), atol=1e-2)
    assert (np.diff(squared, axis=-1) >= 0).all() and (index < len(bins)).all()


def test_soft_encode_spreads_each_pixel_over_its_five_nearest_bins(bins):
    ab = _random_ab((2, 4, 4))
    encoded = cls.soft_encode(tf.constant(ab), bins)
    assert isinstance(encoded, tf.Tensor) and encoded.shape == (2, 4, 4, len(bins))
    z = encoded.numpy()
    np.testing.assert_allclose(z.sum(-1), 1.0, atol=1e-5)
    assert np.all((z > 0).sum(-1) == cls.NEIGHBOURS)
    np.testing.assert_array_equal(z.argmax(-1), cls.quantize(ab, bins))
    # the weights are a Gaussian of distance: the nearest bin's weight over another's is exp(Δd²/2σ²)
    pixel, q = ab[0, 0, 0], z[0, 0, 0]
    chosen = np.flatnonzero(q)
    d2 = ((bins[chosen] - pixel) ** 2).sum(-1)
    expected = np.exp(-d2 / (2 * cls.SIGMA ** 2))
    np.testing.assert_allclose(q[chosen], expected / expected.sum(), rtol=1e-4)


def test_soft_encode_takes_numpy_and_returns_numpy(bins):
    z = cls.soft_encode(np.array([[0.0, 0.0], [55.0, -33.0]]), bins)
    assert isinstance(z, np.ndarray) and z.shape == (2, len(bins))
    assert tuple(bins[z[0].argmax()]) == (0.0, 0.0)


# --- prior and weights ----------------------------------------------------------------------


def test_prior_smoothing_and_rebalancing_weights(bins):
    ab = _random_ab((400,), seed=2) * 0.3  # mostly low-chroma colours, like photos
    p = cls.empirical_prior(ab, bins)
    assert p.shape == (len(bins),) and p.sum() == pytest.approx(1.0)
    smoothed = cls.smooth_prior(p, bins)
    assert smoothed.sum() == pytest.approx(1.0)
    assert smoothed.max() < p.max() and np.all(smoothed > 0)

    weights = cls.rebalancing_weights(smoothed)
    assert np.sum(smoothed * weights) == pytest.approx(1.0)
    common, rare = smoothed.argmax(), smoothed.argmin()
    assert weights[rare] > weights[common]
    assert np.all(np.diff(weights[np.argsort(smoothed)]) <= 1e-12)  # weight falls as frequency rises
    np.testing.assert_allclose(cls.rebalancing_weights(smoothed, lam=1.0), 1.0)


# --- the loss -------------------------------------------------------------------------------


def test_rebalanced_cross_entropy_matches_a_hand_computation():
    bins = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]])
    weights = np.array([0.5, 2.0, 1.0, 3.0])
    true_ab = np.array([7.0, 2.0])  # nearest bin: (10, 0)
    p = np.array([0.1, 0.4, 0.2, 0.3])
    loss = cls.RebalancedCrossEntropy(bins, weights, neighbours=3)
    got = loss.call(tf.constant((true_ab / lab.AB_SCALE).reshape(1, 1, 1, 2), tf.float32),
                    tf.constant(p.reshape(1, 1, 1, 4), tf.float32)).numpy()

    d2 = ((bins - true_ab) ** 2).sum(-1)  # 53, 13, 113, 73: the 3 nearest are bins 1, 0, 3
    z = np.where(np.isin(np.arange(4), [1, 0, 3]), np.exp(-d2 / (2 * 5.0 ** 2)), 0.0)
    z /= z.sum()
    expected = -weights[1] * np.sum(z * np.log(p + 1e-8))
    assert got.shape == (1, 1, 1)
    assert got[0, 0, 0] == pytest.approx(expected, rel=1e-5)
    # Keras' reduction of a batch is the mean of the map
    assert float(loss(tf.constant((true_ab / lab.AB_SCALE).reshape(1, 1, 1, 2), tf.float32),
                      tf.constant(p.reshape(1, 1, 1, 4), tf.float32))) == pytest.approx(expected, rel=1e-5)


def test_the_sparse_loss_has_the_dense_soft_targets_loss_and_gradient(bins):
    """The loss gathers the k weighted probabilities; written out with the dense [N, Q] soft
    target of ``soft_encode`` it must give the same values and the same gradient."""
    rng = np.random.default_rng(3)
    weights = rng.uniform(0.5, 2.0, len(bins)).astype(np.float32)
    ab = rng.uniform(-80, 80, (2, 6, 5, 2)).astype(np.float32)
    logits = tf.Variable(rng.normal(size=(2, 6, 5, len(bins))).astype(np.float32))
    loss = cls.RebalancedCrossEntropy(bins, weights)

    def both():
        with tf.GradientTape(persistent=True) as tape:
            p = tf.nn.softmax(logits)
            sparse = tf.reduce_mean(loss.call(tf.constant(ab / lab.AB_SCALE), p))
            z = cls.soft_encode(tf.constant(ab), bins)
            nearest = tf.argmax(z, axis=-1)
            dense = tf.reduce_mean(tf.gather(weights, nearest) * -tf.reduce_sum(z * tf.math.log(p + 1e-8), axis=-1))
        return sparse, dense, tape.gradient(sparse, logits), tape.gradient(dense, logits)

    sparse, dense, sparse_grad, dense_grad = both()
    assert float(sparse) == pytest.approx(float(dense), rel=1e-5)
    np.testing.assert_allclose(sparse_grad.numpy(), dense_grad.numpy(), rtol=1e-4, atol=1e-7)
    assert np.abs(dense_grad.numpy()).max() > 1e-4  # a real gradient, not two zeros


def test_loss_config_round_trips(bins):
    loss = cls.RebalancedCrossEntropy(bins, np.ones(len(bins)))
    again = cls.RebalancedCrossEntropy.from_config(loss.get_config())
    np.testing.assert_array_equal(again.bins, loss.bins)
    assert again.neighbours == loss.neighbours and again.ab_scale == lab.AB_SCALE


# --- annealed mean --------------------------------------------------------------------------


def _bimodal(bins):
    """A distribution with 60 % on a saturated red bin and 40 % on a saturated blue one."""
    p = np.full(len(bins), 1e-4)
    red = np.flatnonzero((bins == [60, 40]).all(-1))[0]
    blue = np.flatnonzero((bins == [10, -50]).all(-1))[0]
    p[red], p[blue] = 0.6, 0.4
    return p / p.sum(), red


def test_annealed_mean_goes_from_the_mean_to_the_mode(bins):
    p, red = _bimodal(bins)
    mean = cls.annealed_mean(p, bins, temperature=1.0)
    np.testing.assert_allclose(mean, (p[:, None] * bins).sum(0), atol=1e-3)
    np.testing.assert_array_equal(cls.annealed_mean(p, bins, temperature=0.0), bins[red])
    np.testing.assert_allclose(cls.annealed_mean(p, bins, temperature=1e-2), bins[red], atol=1e-3)
    annealed = cls.annealed_mean(p, bins)  # T = 0.38
    assert cls.chroma(mean) < cls.chroma(annealed) < cls.chroma(bins[red])


def test_annealed_mean_on_tensors_keeps_the_leading_shape(bins):
    logits = tf.random.stateless_normal((2, 3, 3, len(bins)), seed=(0, 1))
    ab = cls.annealed_mean(tf.nn.softmax(logits), bins)
    assert isinstance(ab, tf.Tensor) and ab.shape == (2, 3, 3, 2)
    assert np.isfinite(ab.numpy()).all()


def test_two_mode_example():
    example = cls.two_mode_example()
    assert example["ab"]["l2_mean"] == (35.0, -5.0) and example["ab"]["mode"] == (60.0, 40.0)
    chroma = example["chroma"]
    assert chroma["l2_mean"] < min(chroma["red"], chroma["blue"])
    assert cls.two_mode_example(red=(40, 40), blue=(-40, -40))["chroma"]["l2_mean"] == 0.0


# --- the model ------------------------------------------------------------------------------


def test_classifier_outputs_a_distribution_per_pixel_on_the_unet_body(bins):
    model = colorful_classifier(base_filters=4, depth=2)
    l_batch = np.random.default_rng(0).uniform(-1, 1, (2, 32, 32, 1)).astype(np.float32)
    out = model(l_batch, training=False).numpy()
    assert out.shape == (2, 32, 32, len(bins))
    np.testing.assert_allclose(out.sum(-1), 1.0, atol=1e-5)
    assert model.layers[-1].name == "ab_distribution" and not model.compiled
    body = {layer.name for layer in unet(base_filters=4, depth=2).layers} - {"ab"}
    assert body <= {layer.name for layer in model.layers}
    assert colorful_classifier(base_filters=4, depth=2, n_bins=7).output_shape == (None, None, None, 7)


def test_classifier_trains_a_step_with_the_rebalanced_loss(bins):
    model = colorful_classifier(base_filters=4, depth=2)
    model.compile(optimizer="adam", loss=cls.RebalancedCrossEntropy(bins, np.ones(len(bins))))
    rgb = np.random.default_rng(3).integers(0, 256, (2, 16, 16, 3), dtype=np.uint8)
    l_norm, ab_norm = lab.rgb_to_model_io(rgb)
    history = model.fit(l_norm, ab_norm, epochs=1, batch_size=2, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_split_losses_of_a_distribution_run_separate_the_weights_from_the_fit(home, dataset):
    """The table lesson 07 uses to explain why its validation loss sits below its training loss."""
    from colorize import train

    settings = train.TrainSettings(model="colorful_classifier", model_params={"base_filters": 4, "depth": 2},
                                   loss="rebalanced_ce", crop_size=32, work_side=64, batch_size=2, epochs=1,
                                   steps_per_epoch=2)
    run = train.train(dataset, settings, profile="smoke", verbose=0)
    table = train.distribution_split_losses(run, dataset)
    assert list(table.columns) == ["rebalanced loss (as trained)", "unweighted cross-entropy", "mean class weight"]
    assert len(table) == 3 and np.isfinite(table.to_numpy()).all() and (table.to_numpy() > 0).all()
    # the rebalanced loss is the unweighted one re-weighted per pixel: their ratio follows the mean weight
    ratio = table["rebalanced loss (as trained)"] / table["unweighted cross-entropy"]
    assert ratio.between(table["mean class weight"].min() / 3, table["mean class weight"].max() * 3).all()
    with pytest.raises(ColorizeError, match="rebalanced"):
        train.distribution_split_losses(train.train(dataset, train.TrainSettings(
            model="unet", model_params={"base_filters": 4, "depth": 2}, crop_size=32, work_side=64, batch_size=2,
            epochs=1, steps_per_epoch=2), profile="smoke", verbose=0), dataset)
