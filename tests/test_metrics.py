"""colorize.metrics: hand-computed values on tiny arrays, then the gray floor and a perfect oracle."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from colorize import config, lab, metrics
from colorize.data.images import read_rgb

# --- colourfulness -----------------------------------------------------------------------------


def test_colorfulness_of_gray_is_zero():
    gray = np.repeat(np.arange(0, 250, 10, dtype=np.uint8).reshape(5, 5, 1), 3, axis=-1)
    assert metrics.colorfulness(gray) == 0.0


def test_colorfulness_of_a_red_and_a_blue_pixel():
    rgb = np.array([[[255, 0, 0], [0, 0, 255]]], dtype=np.uint8)
    # rg = R - G = [255, 0]; yb = (R + G) / 2 - B = [127.5, -255]
    # std(rg) = 127.5, std(yb) = 191.25; mean(rg) = 127.5, mean(yb) = -63.75
    spread = math.sqrt(127.5 ** 2 + 191.25 ** 2)  # sqrt(52832.8125) = 229.8539...
    mean = math.sqrt(127.5 ** 2 + 63.75 ** 2)  # sqrt(20320.3125) = 142.5493...
    assert metrics.colorfulness(rgb) == pytest.approx(spread + 0.3 * mean, abs=1e-9)
    assert metrics.colorfulness(rgb) == pytest.approx(272.6187, abs=1e-3)


def test_colorfulness_of_one_flat_colour_is_its_mean_term():
    rgb = np.full((3, 4, 3), (200, 100, 50), dtype=np.uint8)
    # no spread; rg = 100, yb = 150 - 50 = 100
    assert metrics.colorfulness(rgb) == pytest.approx(0.3 * math.sqrt(100 ** 2 + 100 ** 2), abs=1e-9)


# --- AuC ---------------------------------------------------------------------------------------


def test_cumulative_ab_accuracy_at_chosen_thresholds():
    errors = np.array([[0.0, 0.5, 1.0, 2.0], [2.0, 10.0, 149.9, 151.0]])
    curve = metrics.cumulative_ab_accuracy(errors, np.array([0.0, 1.0, 2.0, 10.0, 150.0]))
    np.testing.assert_allclose(curve, [1 / 8, 3 / 8, 5 / 8, 6 / 8, 7 / 8])  # "within t" includes t
    full = metrics.cumulative_ab_accuracy(errors)
    assert full.shape == (151,)
    assert full[0] == 1 / 8 and full[5] == 5 / 8 and full[149] == 6 / 8 and full[150] == 7 / 8
    assert np.all(np.diff(full) >= 0)


def test_raw_auc_extremes_and_a_step():
    assert metrics.raw_auc(np.zeros((4, 4))) == 1.0
    assert metrics.raw_auc(np.full((4, 4), 200.0)) == 0.0
    # every error is 75: the curve is 0 up to t = 74 and 1 from t = 75 on. Trapezoids of width 1
    # over 0..150: 0.5 for [74, 75] plus 75 whole ones for [75, 150] = 75.5, divided by 150.
    assert metrics.raw_auc(np.full(10, 75.0)) == pytest.approx(75.5 / 150, abs=1e-12)
    assert metrics.raw_auc(np.full(10, 75.0)) == pytest.approx(0.5, abs=0.004)
    # half the pixels perfect, half hopeless: the curve is 0.5 everywhere
    assert metrics.raw_auc(np.array([0.0, 0.0, 300.0, 300.0])) == pytest.approx(0.5, abs=1e-12)


def test_ab_errors_is_the_distance_in_the_ab_plane():
    truth = np.array([[50.0, 10.0, -20.0], [60.0, 0.0, 0.0]])
    prediction = np.array([[10.0, 0.0, 0.0], [70.0, 30.0, 40.0]])  # L differences must not count
    np.testing.assert_allclose(metrics.ab_errors(truth, prediction), [math.sqrt(10 ** 2 + 20 ** 2), 50.0])


# --- PSNR, MSE ---------------------------------------------------------------------------------


def test_psnr_by_hand():
    truth = np.zeros((2, 2, 3), dtype=np.uint8)
    with np.errstate(divide="ignore"):
        assert metrics.psnr(truth, truth.copy()) == math.inf
    prediction = truth.copy()
    prediction[1, 0, 2] = 10  # one sample of twelve off by 10: mse = 100 / 12
    expected = 10 * math.log10(255 ** 2 / (100 / 12))  # = 10 log10(7803) = 38.9226...
    assert metrics.psnr(truth, prediction) == pytest.approx(expected, abs=1e-9)
    assert expected == pytest.approx(38.9226, abs=1e-4)


def test_mse_ab_by_hand():
    truth = np.array([[50.0, 10.0, -20.0], [60.0, 0.0, 0.0]])
    prediction = np.array([[50.0, 0.0, 0.0], [70.0, 30.0, 40.0]])
    # ab differences (10, -20) and (-30, -40): squares 100 + 400 + 900 + 1600 = 3000 over 4 values
    assert metrics.mse_ab(truth, prediction) == pytest.approx(3000 / 4 / 128 ** 2, abs=1e-15)
    assert metrics.mse_ab(truth, prediction, scale=100.0) == pytest.approx(3000 / 4 / 100 ** 2, abs=1e-15)
    assert metrics.mse_ab(truth, truth) == 0.0


def test_ssim_of_identical_images_is_one():
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, size=(16, 16, 3), dtype=np.uint8)
    assert metrics.ssim(rgb, rgb.copy()) == pytest.approx(1.0)
    assert metrics.ssim(rgb, 255 - rgb) < 0.5


# --- colorize_rgb and whole photos ----------------------------------------------------------------


def test_colorize_rgb_keeps_lightness_and_rejects_wrong_shapes():
    rgb = np.array([[[200, 40, 30], [20, 90, 210]], [[250, 250, 250], [5, 5, 5]]], dtype=np.uint8)
    gray = metrics.colorize_rgb(metrics.gray_colorizer, rgb)
    assert gray.dtype == np.uint8 and gray.shape == rgb.shape
    assert np.abs(gray.astype(int)[..., 0] - gray[..., 1]).max() <= 1  # no colour left
    np.testing.assert_allclose(np.asarray(lab.rgb_to_lab(gray))[..., 0], np.asarray(lab.rgb_to_lab(rgb))[..., 0],
                               atol=0.5)  # same lightness
    with pytest.raises(ValueError, match="shape"):
        metrics.colorize_rgb(lambda L: np.zeros(L.shape + (3,)), rgb)
    with pytest.raises(ValueError, match="shape"):
        metrics.colorize_rgb(lambda L: np.zeros(L.shape), rgb)


@pytest.fixture(scope="module")
def test_photos(bsds_dir):
    return sorted((bsds_dir / "test").glob("*.jpg"))[:5]


@pytest.fixture(scope="module")
def gray_scores(test_photos):
    return metrics.score_colorizer(metrics.gray_colorizer, test_photos, return_curves=True, progress=False,
                                   name="gray")


def test_gray_baseline_on_real_photos(gray_scores, test_photos):
    table, curves = gray_scores
    assert len(table) == 5 and list(table["photo"]) == [p.name for p in test_photos]
    for column in ("psnr", "ssim", "mse_ab", "auc", "colorfulness", "colorfulness_truth", "colorfulness_ratio"):
        assert column in table.columns, column
        assert table[column].notna().all(), column
    assert set(table["height"]) | set(table["width"]) <= {321, 481}  # full resolution by default
    assert table["psnr"].between(15, 35).all(), table["psnr"]
    assert table["auc"].between(0.7, 0.99).all(), table["auc"]
    assert (table["colorfulness"] < 1).all()
    assert (table["colorfulness_truth"] > 5).all()
    assert (table["colorfulness_ratio"] < 0.05).all()
    assert (table["mse_ab"] > 0).all() and (table["ssim"] > 0.5).all()
    assert curves.shape == (5, 151)
    assert np.all(np.diff(curves, axis=1) >= 0) and np.allclose(curves[:, -1], 1.0, atol=0.01)
    np.testing.assert_allclose(table["auc"], np.trapezoid(curves, dx=1.0, axis=1) / 150)


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")  # a perfect picture has PSNR inf
def test_oracle_colorizer_is_near_perfect(test_photos):
    """Predicting the photo's own ab must give back the photo: L is kept, only ab is predicted."""
    rows = []
    for path in test_photos:
        true_ab = np.asarray(lab.rgb_to_lab(read_rgb(path)))[..., 1:]

        def oracle(lightness, true_ab=true_ab):
            assert lightness.shape == true_ab.shape[:2] and lightness.max() <= 100.5
            return true_ab

        rows.append(metrics.score_colorizer(oracle, [path], progress=False))
    table = pd.concat(rows, ignore_index=True)
    assert (table["psnr"] > 40).all(), table["psnr"]
    assert (table["auc"] > 0.99).all()
    assert ((table["colorfulness_ratio"] - 1).abs() < 0.05).all()
    assert (table["ssim"] > 0.98).all()


def test_score_colorizer_max_side_downsizes(test_photos):
    table = metrics.score_colorizer(metrics.gray_colorizer, test_photos[:2], max_side=100, progress=False)
    assert (table[["height", "width"]].max(axis=1) == 100).all()


def test_summarize_means_and_count(gray_scores):
    table, _ = gray_scores
    summary = metrics.summarize(table, name="gray")
    assert summary.name == "gray"
    assert summary["photos"] == 5
    for column in ("psnr", "ssim", "mse_ab", "auc", "colorfulness"):
        assert summary[column] == pytest.approx(table[column].mean())
    assert summary["colorfulness_ratio"] == pytest.approx(
        table["colorfulness"].mean() / table["colorfulness_truth"].mean())
    assert set(metrics.SUMMARY_COLUMNS) <= set(summary.index)


def test_summarize_by_hand():
    table = pd.DataFrame({"psnr": [20.0, 30.0], "ssim": [0.5, 0.7], "mse_ab": [0.01, 0.03], "auc": [0.8, 0.9],
                          "colorfulness": [10.0, 20.0], "colorfulness_truth": [40.0, 20.0]})
    summary = metrics.summarize(table)
    assert summary["psnr"] == 25.0 and summary["auc"] == pytest.approx(0.85) and summary["photos"] == 2
    assert summary["colorfulness_ratio"] == pytest.approx(15.0 / 30.0)  # ratio of means, not mean of ratios
    assert np.isnan(summary["checkerboard"]) and np.isnan(summary["cast_ab"])  # no artefact columns given
    table = table.assign(nyquist_fraction=[0.02, 0.04], nyquist_fraction_truth=[0.01, 0.01], blotch_fraction=[0.0, 0.1],
                         mean_a=[1.0, 3.0], mean_b=[10.0, 12.0], mean_a_truth=[-1.0, 1.0], mean_b_truth=[4.0, 6.0])
    summary = metrics.summarize(table)
    assert summary["checkerboard"] == pytest.approx(3.0) and summary["blotch_fraction"] == pytest.approx(0.05)
    assert summary["cast_ab"] == pytest.approx(np.hypot(2.0, 6.0))


def test_scoring_in_threads_gives_the_same_tables_in_photo_order(test_photos):
    def tinted(lightness):
        return np.stack([np.full_like(lightness, 6.0), lightness / 10.0 - 5.0], axis=-1)

    colorizers = {"gray": metrics.gray_colorizer, "tinted": tinted}
    serial = metrics.score_models(colorizers, test_photos[:4], max_side=96, progress=False, workers=1)
    threaded = metrics.score_models(colorizers, test_photos[:4], max_side=96, progress=False, workers=2)
    for name in colorizers:
        pd.testing.assert_frame_equal(serial[0][name], threaded[0][name])
        np.testing.assert_array_equal(serial[1][name], threaded[1][name])
    assert list(threaded[0]["tinted"].photo) == [path.name for path in test_photos[:4]]
    board = metrics.leaderboard(threaded[0])
    assert list(board.index) == sorted(colorizers, key=lambda n: -threaded[0][n].psnr.mean())


def test_scoring_without_ssim_changes_nothing_else_and_reuses_complete_tables(test_photos, tmp_path):
    def tinted(lightness):
        return np.stack([np.full_like(lightness, 6.0), lightness / 10.0 - 5.0], axis=-1)

    full = metrics.score_models({"tinted": tinted}, test_photos[:2], max_side=96, progress=False)[0]["tinted"]
    quick = metrics.score_models({"tinted": tinted}, test_photos[:2], max_side=96, progress=False,
                                 with_ssim=False)[0]["tinted"]
    assert quick.ssim.isna().all() and full.ssim.notna().all()
    pd.testing.assert_frame_equal(full.drop(columns="ssim"), quick.drop(columns="ssim"))

    class FakeRun:  # what score_runs needs of a run: a folder for its cache and a colorizer
        directory, calls = tmp_path, 0

        def colorizer(self):
            FakeRun.calls += 1
            return tinted

    run = FakeRun()
    tables, _ = metrics.score_runs({"m": run}, test_photos[:2], max_side=96, include_gray=False, progress=False)
    assert tables["m"].ssim.notna().all() and FakeRun.calls == 1
    again, _ = metrics.score_runs({"m": run}, test_photos[:2], max_side=96, include_gray=False, progress=False,
                                  with_ssim=False)  # the complete cached table serves it
    assert FakeRun.calls == 1 and again["m"].ssim.notna().all()
    other = test_photos[2:4]  # a quick table is cached apart and never serves a complete request
    metrics.score_runs({"m": run}, other, max_side=96, include_gray=False, progress=False, with_ssim=False)
    complete, _ = metrics.score_runs({"m": run}, other, max_side=96, include_gray=False, progress=False)
    assert FakeRun.calls == 3 and complete["m"].ssim.notna().all()


def test_reference_rows_are_cached_once_per_photo_set(tmp_path, monkeypatch, test_photos):
    """Gray and true-ab rows depend on the photos alone: once scored, they come from the cache
    (same numbers), whether or not the lesson has new runs to score beside them."""
    monkeypatch.setenv(config.HOME_ENV, str(tmp_path))
    score_models = metrics.score_models
    first, first_curves = metrics.score_runs({}, test_photos[:2], max_side=96, include_truth=True, progress=False)
    cached = sorted(path.name for path in (tmp_path / "data" / "scores").iterdir())
    assert len(cached) == 4 and all(name.startswith(("gray-", "truth-")) for name in cached)

    def no_scoring(*args, **kwargs):
        raise AssertionError("the reference rows were scored again")

    monkeypatch.setattr(metrics, "score_models", no_scoring)
    again, again_curves = metrics.score_runs({}, test_photos[:2], max_side=96, include_truth=True, progress=False)
    for label in (metrics.GRAY_LABEL, metrics.TRUE_AB):
        pd.testing.assert_frame_equal(first[label], again[label])
        np.testing.assert_array_equal(first_curves[label], again_curves[label])
    assert list(again) == [metrics.GRAY_LABEL, metrics.TRUE_AB]

    scored = []  # a new run is scored alone: the cached reference rows are not scored again beside it

    def record(colorizers, *args, **kwargs):
        scored.append(list(colorizers))
        return score_models(colorizers, *args, **kwargs)

    class FakeRun:
        directory = tmp_path

        def colorizer(self):
            return metrics.gray_colorizer

    monkeypatch.setattr(metrics, "score_models", record)
    with_run, _ = metrics.score_runs({"m": FakeRun()}, test_photos[:2], max_side=96, include_truth=True, progress=False)
    assert scored == [["m"]] and list(with_run) == [metrics.GRAY_LABEL, "m", metrics.TRUE_AB]
    pd.testing.assert_frame_equal(with_run[metrics.GRAY_LABEL], first[metrics.GRAY_LABEL])
    pd.testing.assert_frame_equal(with_run["m"], first[metrics.GRAY_LABEL])  # a gray run scores as gray
