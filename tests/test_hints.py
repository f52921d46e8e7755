"""colorize.data.hints (simulated users, the fixed evaluation sampler, painting points) and
colorize.propagation (the two baselines that learn nothing), on synthetic ab with known answers."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from colorize.data import hints
from colorize.data.hints import HintPoint
from colorize.propagation import levin_fill, levin_weights, nearest_hint_fill


def _ab(batch: int, size: int, seed: int = 0) -> tf.Tensor:
    return tf.constant(np.random.default_rng(seed).uniform(-1, 1, (batch, size, size, 2)).astype(np.float32))


def _simulate(ab, seed, **knobs):
    hint_ab, mask = hints.simulate_hints(ab, tf.constant([seed, 7], tf.int64), **knobs)
    return np.asarray(hint_ab), np.asarray(mask)


def test_the_number_of_points_is_geometric_with_mean_about_seven():
    # 1-pixel patches on a 64 x 64 crop seldom overlap, so hinted pixels count the points
    counts = np.concatenate([_simulate(_ab(100, 64, seed), seed, sides=(1, 1), no_hint_batches=0.0)[1].sum(axis=(1, 2, 3))
                             for seed in range(8)])
    expected = sum((7 / 8) ** k for k in range(1, hints.MAX_POINTS + 1))  # E[min(geometric, 32)], about 6.9
    assert counts.mean() == pytest.approx(expected, abs=0.7)
    assert np.mean(counts == 0) == pytest.approx(1 / 8, abs=0.04)  # one photo in eight gets none
    assert counts.max() <= hints.MAX_POINTS


def test_patch_sides_are_uniform_from_1_to_9_and_values_are_the_patch_means():
    ab = _ab(900, 32, seed=3)
    hint_ab, mask = _simulate(ab, 1, max_points=1, continue_probability=1.0, no_hint_batches=0.0)
    areas = mask.sum(axis=(1, 2, 3))
    sides = np.sqrt(areas)
    assert np.allclose(sides, np.round(sides))  # whole squares, never cut by the border
    frequencies = np.bincount(sides.astype(int), minlength=10)[1:] / len(sides)
    assert np.allclose(frequencies, 1 / 9, atol=0.04)
    truth = np.asarray(ab)
    for image in range(20):
        inside = mask[image, ..., 0] > 0
        np.testing.assert_allclose(hint_ab[image][inside], np.broadcast_to(truth[image][inside].mean(axis=0),
                                                                          (inside.sum(), 2)), atol=1e-5)
        assert not hint_ab[image][~inside].any()


def test_no_hint_batches_seeds_and_determinism():
    ab = _ab(8, 32)
    assert not _simulate(ab, 5, no_hint_batches=1.0)[1].any()
    first, again, other = _simulate(ab, 5), _simulate(ab, 5), _simulate(ab, 6)
    np.testing.assert_array_equal(first[0], again[0])
    assert not np.array_equal(first[1], other[1])


def test_points_cluster_around_the_centre_as_often_as_not():
    ab = _ab(600, 64, seed=4)
    _, mask = _simulate(ab, 2, max_points=1, continue_probability=1.0, sides=(1, 1), no_hint_batches=0.0)
    rows = np.argwhere(mask[..., 0] > 0)[:, 1]
    central = np.mean(np.abs(rows - 32) < 16)  # within sigma of the centre
    # half normal (68 % within sigma) and half uniform (50 %): about 59 %
    assert central == pytest.approx(0.5 * 0.6827 + 0.5 * 0.5, abs=0.06)


def test_the_evaluation_sampler_is_fixed_and_a_larger_count_extends_a_smaller_one():
    ab = np.random.default_rng(9).uniform(-50, 50, (60, 80, 2)).astype(np.float32)
    five, twenty = hints.sample_points(ab, 5, seed=11), hints.sample_points(ab, 20, seed=11)
    assert twenty[:5] == five and hints.sample_points(ab, 5, seed=11) == five
    for point in twenty:
        patch = ab[point.y: point.y + point.size, point.x: point.x + point.size].reshape(-1, 2)
        assert (point.a, point.b) == pytest.approx(tuple(patch.mean(axis=0)), abs=1e-4)
        assert 0 <= point.x <= 80 - point.size and 0 <= point.y <= 60 - point.size


def test_render_points_paints_squares_and_scales_them():
    points = [HintPoint(x=10, y=4, size=4, a=20.0, b=-10.0), HintPoint(x=12, y=6, size=1, a=-5.0, b=5.0)]
    hint_ab, mask = hints.render_points(points, 30, 40)
    assert mask.sum() == 16 and tuple(hint_ab[5, 11]) == (20.0, -10.0)
    assert tuple(hint_ab[6, 12]) == (-5.0, 5.0)  # the later point paints over the earlier one
    half_ab, half_mask = hints.render_points(points, 15, 20, scale=0.5)
    assert half_mask.sum() == 4 and tuple(half_ab[2, 5]) == (20.0, -10.0)


def test_nearest_fill_gives_each_pixel_its_nearest_hint_and_gray_without_hints():
    points = [HintPoint(x=0, y=0, size=1, a=30.0, b=0.0), HintPoint(x=39, y=19, size=1, a=-30.0, b=10.0)]
    hint_ab, mask = hints.render_points(points, 20, 40)
    filled = nearest_hint_fill(hint_ab, mask)
    assert tuple(filled[2, 3]) == (30.0, 0.0) and tuple(filled[18, 35]) == (-30.0, 10.0)
    assert not nearest_hint_fill(np.zeros((5, 5, 2)), np.zeros((5, 5, 1))).any()


def test_levin_keeps_colour_inside_an_edge_where_nearest_fill_crosses_it():
    # left half dark, right half bright; one hint deep in the left, one just right of the edge
    lightness = np.where(np.arange(40)[None, :] < 20, 30.0, 70.0) * np.ones((20, 1))
    points = [HintPoint(x=1, y=10, size=1, a=40.0, b=0.0), HintPoint(x=22, y=10, size=1, a=-40.0, b=0.0)]
    hint_ab, mask = hints.render_points(points, 20, 40)
    levin, nearest = levin_fill(lightness, hint_ab, mask), nearest_hint_fill(hint_ab, mask)
    assert nearest[10, 15, 0] == -40.0  # the nearer hint is across the edge
    assert levin[10, 15, 0] > 35.0 and levin[10, 30, 0] < -35.0  # each region keeps its own hint
    np.testing.assert_allclose(levin[10, 1], (40.0, 0.0), atol=1e-6)  # hints are kept exactly
    weights = levin_weights(lightness)
    np.testing.assert_allclose(weights.sum(axis=0), 1.0)
    assert not levin_fill(lightness, np.zeros_like(hint_ab), np.zeros_like(mask)).any()
