"""Artefact metrics with planted positive controls: a checkerboard, a blotch and a cast are each
found at the size they were planted, and the true ab scores as itself."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from skimage import color
from skimage import data as skimage_data

from colorize import metrics


@pytest.fixture(scope="module")
def photo_lab() -> np.ndarray:
    """A real photo's Lab at a network-sized grid (96 x 64, both even)."""
    rgb = np.asarray(Image.fromarray(skimage_data.astronaut()).resize((96, 64), Image.Resampling.BOX))
    return color.rgb2lab(rgb).astype(np.float32)


def _pattern(shape, kind: str, amplitude: float) -> np.ndarray:
    rows, cols = np.indices(shape[:2])
    sign = {"checkerboard": (-1.0) ** (rows + cols), "stripes": (-1.0) ** rows}[kind]
    return amplitude * np.repeat(sign[..., None], 2, axis=-1)


@pytest.mark.parametrize("kind", ["checkerboard", "stripes"])
def test_a_period_2_pattern_alone_is_all_nyquist_energy(photo_lab, kind):
    assert metrics.nyquist_fraction(_pattern(photo_lab.shape, kind, 7.0)) == pytest.approx(1.0)


def test_a_photos_own_ab_has_little_period_2_energy_and_a_planted_checkerboard_is_found_at_its_size(photo_lab):
    truth_ab = photo_lab[..., 1:]
    own = metrics.nyquist_fraction(truth_ab)
    assert 0 < own < 0.05
    centred = truth_ab - truth_ab.mean(axis=(0, 1))
    amplitude = np.sqrt((centred ** 2).mean())  # the checkerboard carries as much energy as the photo's ab
    planted = metrics.nyquist_fraction(truth_ab + _pattern(photo_lab.shape, "checkerboard", amplitude))
    assert planted == pytest.approx(0.5 + own / 2, abs=0.03)
    smooth = np.stack([np.add.outer(np.linspace(-20, 20, 64), np.linspace(0, 10, 96))] * 2, axis=-1)
    assert metrics.nyquist_fraction(smooth) < 0.01  # a smooth ramp has almost none (only leakage)
    assert np.isnan(metrics.nyquist_fraction(np.full((64, 96, 2), 5.0)))  # flat: undefined, not 0


def test_checkerboard_score_is_one_for_the_truth_and_grows_with_the_planted_pattern(photo_lab):
    truth_ab = photo_lab[..., 1:]
    true_fractions = [metrics.nyquist_fraction(truth_ab), metrics.nyquist_fraction(truth_ab[::-1])]
    assert metrics.checkerboard(true_fractions, true_fractions) == pytest.approx(1.0)
    scores = []
    for amplitude in (1.0, 3.0, 9.0):
        noisy = truth_ab + _pattern(photo_lab.shape, "checkerboard", amplitude)
        predicted = [metrics.nyquist_fraction(noisy), metrics.nyquist_fraction(noisy[::-1])]
        scores.append(metrics.checkerboard(predicted, true_fractions))
    assert 1.0 < scores[0] < scores[1] < scores[2] and scores[2] > 1.5


def test_blotch_fraction_counts_invented_colour_only(photo_lab):
    gray = photo_lab.copy()
    gray[..., 1:] = 0.0
    assert metrics.blotch_fraction(gray, gray) == 0.0
    painted = gray.copy()
    painted[:16, :40, 1:] = (60.0, 40.0)  # a saturated patch on 640 of the 6,144 pixels, error 72 > 50
    assert metrics.blotch_fraction(gray, painted) == pytest.approx(640 / gray[..., 0].size)
    faint = gray.copy()
    faint[:16, :40, 1:] = (30.0, 20.0)  # invented but within the threshold (error 36)
    assert metrics.blotch_fraction(gray, faint) == 0.0
    colourful = photo_lab.copy()
    colourful[..., 1:] = (70.0, -50.0)
    assert metrics.blotch_fraction(colourful, gray) == 0.0  # missing colour is not a blotch


def test_cast_is_the_length_of_the_mean_ab_shift(photo_lab):
    true_means = np.array([[2.0, -5.0], [-1.0, 3.0], [4.0, 0.0]])
    assert metrics.cast_ab(true_means, true_means) == 0.0
    assert metrics.cast_ab(true_means + (3.0, 4.0), true_means) == pytest.approx(5.0)
    yellow = true_means + (0.0, 15.0)  # the sepia cast the issue saw: b up by 15
    assert metrics.cast_ab(yellow, true_means) == pytest.approx(15.0)


def test_a_trained_networks_scores_carry_its_grid_and_artefact_columns(in_tiny_course, dataset):
    from colorize import catalog

    colorizer = catalog.choose(None).colorizer
    tables, _ = metrics.score_models({"net": colorizer, "gray": metrics.gray_colorizer},
                                     dataset.paths("test")[:2], max_side=96, progress=False)
    net, gray = metrics.summarize(tables["net"]), metrics.summarize(tables["gray"])
    assert np.isfinite(tables["net"]["nyquist_fraction"]).all() and np.isfinite(net["checkerboard"])
    assert np.isnan(gray["checkerboard"])  # no network grid
    assert gray["blotch_fraction"] == 0.0  # no colour, nothing invented
    truth = tables["gray"][["mean_a_truth", "mean_b_truth"]].mean().to_numpy()
    assert gray["cast_ab"] == pytest.approx(np.linalg.norm(truth), abs=0.01)  # ab = 0 (up to 8-bit rounding): the truth's mean
