"""The hint network (colorize.models.hint_unet), its pipeline, colorizer and hint-count scoring:
started from an automatic U-Net it colorizes exactly as that U-Net until hints are given, and a
short training on photos whose colour L cannot tell makes a hint pull the output to its colour."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from colorize import hint_scores, lab, metrics, models, plots, train
from colorize.data.hints import HintPoint
from colorize.data.pipeline import make_pipeline
from colorize.predict import ModelColorizer


def _photos(count: int, size: int = 48, seed: int = 0) -> list[np.ndarray]:
    """Flat photos of one random colour each: the same gray level, so L says nothing about ab."""
    rng = np.random.default_rng(seed)
    photos = []
    for _ in range(count):
        ab = rng.uniform(-40, 40, 2)
        rgb = np.asarray(lab.lab_to_rgb(np.array([[[55.0, ab[0], ab[1]]]], np.float32)))[0, 0]
        photos.append(np.broadcast_to(np.round(np.clip(rgb, 0, 1) * 255).astype(np.uint8), (size, size, 3)).copy())
    return photos


def test_a_hint_network_started_from_a_unet_colorizes_as_it_until_hints_are_given():
    unet = models.build("unet", base_filters=4, depth=2)
    hinted = models.build("hint_unet", base_filters=4, depth=2)
    assert models.takes_hints(hinted) and not models.takes_hints(unet)
    models.widen_input_from(hinted, unet)
    lightness = np.random.default_rng(1).uniform(0, 100, (40, 56)).astype(np.float32)
    automatic = ModelColorizer(unet, work_side=32)(lightness)
    no_hints = ModelColorizer(hinted, work_side=32)(lightness)
    np.testing.assert_allclose(no_hints, automatic, atol=1e-5)
    # the zero kernels make hints change nothing yet: only training gives them a meaning
    with_hint = ModelColorizer(hinted, work_side=32, hints=[HintPoint(x=5, y=5, size=9, a=60.0, b=-40.0)])(lightness)
    np.testing.assert_allclose(with_hint, automatic, atol=1e-5)
    with pytest.raises(ValueError, match="takes no colour hints"):
        ModelColorizer(unet, work_side=32, hints=[HintPoint(0, 0, 1, 1.0, 1.0)])


def test_widening_refuses_another_network():
    with pytest.raises(ValueError, match="not the same network|cannot start"):
        models.widen_input_from(models.build("hint_unet", base_filters=4, depth=2),
                                models.build("unet", base_filters=8, depth=2))


def test_the_hint_pipeline_gives_l_and_hints_whose_values_are_patch_means_of_the_target():
    photos = _photos(8, seed=2)
    batches = list(make_pipeline(photos, crop_size=32, batch_size=4, training=False, target="ab+hints"))
    inputs, ab = (np.concatenate([np.asarray(b[i]) for b in batches]) for i in (0, 1))
    assert inputs.shape == (8, 32, 32, 4) and ab.shape == (8, 32, 32, 2)
    mask = inputs[..., 3]
    assert set(np.unique(mask)) <= {0.0, 1.0} and mask.sum() > 0
    # flat photos: every patch mean is the photo's own ab, so hinted pixels hold the target exactly
    hinted = mask > 0
    np.testing.assert_allclose(inputs[..., 1:3][hinted], ab[hinted], atol=1e-5)
    assert np.all(inputs[..., 1:3][~hinted] == 0)
    again = list(make_pipeline(photos, crop_size=32, batch_size=4, training=False, target="ab+hints"))
    np.testing.assert_array_equal(np.concatenate([np.asarray(b[0]) for b in again]), inputs)  # validation: fixed


def test_after_training_a_hint_pulls_the_colour_there_towards_it(home):
    """Photos of one flat colour each, all of the same lightness: without hints the best answer
    is the mean colour; with a hint it is the hint's colour."""
    photos = _photos(48, seed=4)
    tf.keras.utils.set_random_seed(0)
    model = models.build("hint_unet", base_filters=8, depth=2)
    model.compile(optimizer=tf.keras.optimizers.Adam(3e-3), loss="mean_absolute_error")
    data = make_pipeline(photos, crop_size=32, batch_size=16, training=True, repeat=True, target="ab+hints", seed=5)
    model.fit(data, epochs=1, steps_per_epoch=300, verbose=0)  # about 20 s on 2 cores
    lightness = np.full((32, 32), 55.0, np.float32)
    colorizer = ModelColorizer(model, work_side=32)
    automatic = colorizer(lightness)[16, 16]
    for hint_ab in ((35.0, -30.0), (-30.0, 30.0)):
        hinted = colorizer.with_hints([HintPoint(x=12, y=12, size=8, a=hint_ab[0], b=hint_ab[1])])(lightness)[16, 16]
        before, after = np.linalg.norm(automatic - hint_ab), np.linalg.norm(hinted - hint_ab)
        assert after < 0.5 * before, f"hint {hint_ab}: distance {before:.1f} without it, {after:.1f} with it"
    assert train.recipe_for(model).target == "ab+hints"


def test_nearest_fill_scores_gray_without_hints_and_better_with_many(dataset):
    photos = dataset.paths("test")[:3]
    tables = hint_scores.score_hint_counts({"nearest": hint_scores.HintFill("nearest")}, photos, counts=(0, 100),
                                           max_side=96, progress=False)
    gray, _ = metrics.score_models({"gray": metrics.gray_colorizer}, photos, max_side=96, progress=False)
    np.testing.assert_allclose(tables["nearest", 0]["psnr"], gray["gray"]["psnr"])
    assert (tables["nearest", 100]["psnr"] > tables["nearest", 0]["psnr"]).all()
    curve = hint_scores.hint_curve(tables, "nearest")
    assert list(curve.columns) == ["hints", "psnr", "psnr_ci_low", "psnr_ci_high", "auc"]
    assert list(curve.hints) == [0, 100] and (curve.psnr_ci_low <= curve.psnr).all()


def test_evaluation_points_are_fixed_and_extend_each_other():
    truth_lab = np.random.default_rng(0).uniform(-50, 50, (30, 40, 3))
    ten = hint_scores.photo_points(truth_lab, 10, photo_index=3)
    assert hint_scores.photo_points(truth_lab, 5, photo_index=3) == ten[:5]
    assert hint_scores.photo_points(truth_lab, 10, photo_index=4) != ten


def test_levin_fill_at_a_working_side_keeps_the_photo_size():
    lightness = np.tile(np.linspace(0, 100, 60, dtype=np.float32), (40, 1))
    fill = hint_scores.HintFill("levin", work_side=20).with_hints([HintPoint(x=3, y=3, size=4, a=30.0, b=-10.0)])
    ab = fill(lightness)
    assert ab.shape == (40, 60, 2)
    np.testing.assert_allclose(ab[5, 5], (30.0, -10.0), atol=3.0)


def test_the_hint_curve_file_has_the_issue_columns_and_replaces_the_old_one(tmp_path):
    curve = pd.DataFrame({"hints": [0, 10], "psnr": [21.5, 25.0], "psnr_ci_low": [21.0, 24.4],
                          "psnr_ci_high": [22.0, 25.6], "auc": [0.87, 0.93], "extra": [1, 2]})
    (tmp_path / hint_scores.CURVE_FILE).write_text("old")
    path = hint_scores.write_hint_curve(curve, tmp_path)
    written = pd.read_csv(path)
    assert list(written.columns) == ["hints", "psnr", "psnr_ci_low", "psnr_ci_high", "auc"]
    assert written.psnr.tolist() == [21.5, 25.0]
    assert [p.name for p in tmp_path.iterdir()] == [hint_scores.CURVE_FILE]  # no temporary left behind


def test_the_hint_curve_figure_draws_every_colorizer_and_the_anchor():
    curve = pd.DataFrame({"hints": [0, 1, 10], "psnr": [21.5, 22.0, 25.0], "psnr_ci_low": [21.0, 21.5, 24.4],
                          "psnr_ci_high": [22.0, 22.5, 25.6], "auc": [0.87, 0.88, 0.93]})
    fig = plots.hint_curves({"network": curve, "nearest": curve.assign(psnr=curve.psnr - 1)},
                            reference=hint_scores.SIGGRAPH17_PSNR, reference_label="SIGGRAPH17 (ImageNet)")
    labels = [text.get_text() for text in fig.legends[0].get_texts()]
    assert labels == ["network", "nearest", "SIGGRAPH17 (ImageNet)"]
    assert fig.axes[0].get_xscale() == "symlog"
