"""make_pipeline on real BSDS500 photos: shapes, ranges, determinism, crops, flips, Lab values."""

from __future__ import annotations

import numpy as np
import pytest
from skimage import color

from colorize import config, lab
from colorize.config import ColorizeError
from colorize.data.pipeline import make_pipeline
from colorize.data.sources import load_dataset

CROP = 48
BATCH = 3


@pytest.fixture(scope="module")
def photos(bsds_dir):
    """Six full-resolution BSDS500 training photos (481x321 or 321x481), uint8."""
    dataset = load_dataset("bsds500", data_dir=bsds_dir, profile=config.PROFILES["full"]).limited(6)
    images = dataset.load("train", max_side=None, progress=False)
    assert len(images) == 6 and all(image.dtype == np.uint8 and image.ndim == 3 for image in images)
    return images


def _batches(dataset) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(np.asarray(l_batch), np.asarray(ab_batch)) for l_batch, ab_batch in dataset]


def _center_crop(image: np.ndarray, size: int) -> np.ndarray:
    top, left = (image.shape[0] - size) // 2, (image.shape[1] - size) // 2
    return image[top:top + size, left:left + size]


def _same(first, second) -> bool:
    return len(first) == len(second) and all(
        np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]) for a, b in zip(first, second))


@pytest.mark.parametrize("training", [True, False])
def test_shapes_dtypes_and_ranges(photos, training):
    batches = _batches(make_pipeline(photos, crop_size=CROP, batch_size=BATCH, training=training, augment="flip"))
    assert len(batches) == 2  # 6 photos in batches of 3
    for l_batch, ab_batch in batches:
        assert l_batch.shape == (BATCH, CROP, CROP, 1) and ab_batch.shape == (BATCH, CROP, CROP, 2)
        assert l_batch.dtype == np.float32 and ab_batch.dtype == np.float32
        assert l_batch.min() >= -1.0 and l_batch.max() <= 1.0
        assert np.abs(ab_batch).max() <= 1.0
        assert l_batch.std() > 0.01 and np.abs(ab_batch).max() > 0.02  # real photos, not blanks


def test_training_drops_the_incomplete_last_batch(photos):
    batches = _batches(make_pipeline(photos, crop_size=CROP, batch_size=4, training=True))
    assert [b[0].shape[0] for b in batches] == [4]
    batches = _batches(make_pipeline(photos, crop_size=CROP, batch_size=4, training=False))
    assert [b[0].shape[0] for b in batches] == [4, 2]


@pytest.mark.parametrize("augment", ["none", "flip", "full"])
def test_same_seed_same_batches_other_seed_other_batches(photos, augment):
    def run(seed):
        return _batches(make_pipeline(photos, crop_size=CROP, batch_size=BATCH, training=True,
                                      augment=augment, seed=seed))

    first = run(7)
    assert _same(first, run(7))
    assert not _same(first, run(8))


def test_second_epoch_differs_for_training_only(photos):
    training = make_pipeline(photos, crop_size=CROP, batch_size=BATCH, training=True, augment="flip", seed=3)
    assert not _same(_batches(training), _batches(training))
    validation = make_pipeline(photos, crop_size=CROP, batch_size=BATCH, training=False, seed=3)
    assert _same(_batches(validation), _batches(validation))


def test_validation_crops_are_the_true_centre_crops_in_file_order(photos):
    batches = _batches(make_pipeline(photos, crop_size=CROP, batch_size=BATCH, training=False))
    l_all = np.concatenate([b[0] for b in batches])
    ab_all = np.concatenate([b[1] for b in batches])
    for index, image in enumerate(photos):
        crop = _center_crop(image, CROP)
        expected = np.asarray(lab.rgb_to_lab(crop))
        np.testing.assert_allclose(l_all[index, ..., 0], expected[..., 0] / 50.0 - 1.0, atol=1e-5)
        # and the ab the network is taught equals scikit-image's Lab, scaled by AB_SCALE
        reference = color.rgb2lab(crop)
        np.testing.assert_allclose(ab_all[index], reference[..., 1:] / lab.AB_SCALE, atol=1e-3)
        np.testing.assert_allclose(l_all[index, ..., 0], reference[..., 0] / 50.0 - 1.0, atol=1e-3)


def test_training_crops_come_from_the_photos(photos):
    """Every random crop is a window of one of the photos (no resampling, no padding)."""
    l_batch, _ = _batches(make_pipeline(photos, crop_size=CROP, batch_size=6, training=True, seed=5))[0]
    lightness = [np.asarray(lab.rgb_to_lab(image))[..., 0] / 50.0 - 1.0 for image in photos]
    for crop in l_batch[..., 0]:
        found = False
        for image_l in lightness:
            # 1e-4 (0.005 L units): other tests switch on TF's op determinism, whose kernels
            # round the batch's Lab a few 1e-7 differently from this per-photo conversion
            hits = np.argwhere(np.abs(image_l[: -CROP + 1, : -CROP + 1] - crop[0, 0]) < 1e-4)
            for top, left in hits[:2000]:
                if np.allclose(image_l[top:top + CROP, left:left + CROP], crop, atol=1e-4):
                    found = True
                    break
            if found:
                break
        assert found, "a training crop is not a window of any photo"


def test_flip_mirrors_about_half_of_the_crops(photos):
    """With the same seed, "flip" gives the crops of "none", some of them mirrored left-right."""
    def elements(augment):
        dataset = make_pipeline(photos, crop_size=CROP, batch_size=4, training=True, augment=augment,
                                seed=11, repeat=True)
        l_batches = [np.asarray(l_batch) for l_batch, _ in dataset.take(10)]
        return np.concatenate(l_batches)[..., 0]  # 40 crops

    plain, flipped = elements("none"), elements("flip")
    assert len(plain) == 40
    mirrored = 0
    for a, b in zip(plain, flipped):
        same, mirror = np.array_equal(a, b), np.array_equal(a[:, ::-1], b)
        assert same or mirror, "a 'flip' crop is neither the 'none' crop nor its mirror"
        mirrored += mirror and not same
    assert 0.2 <= mirrored / 40 <= 0.8, mirrored


def test_unknown_augmentation_is_an_error(photos):
    with pytest.raises(ColorizeError, match="rotate"):
        make_pipeline(photos, crop_size=CROP, batch_size=BATCH, training=True, augment="rotate")


def test_empty_split_is_an_error():
    with pytest.raises(ColorizeError):
        make_pipeline([], crop_size=CROP, batch_size=BATCH, training=False)


@pytest.mark.parametrize("training", [True, False])
def test_photos_smaller_than_the_crop_are_upscaled(training):
    rng = np.random.default_rng(0)
    small = [rng.integers(0, 256, size=(20, 30, 3), dtype=np.uint8),
             np.full((40, 25, 3), (200, 60, 30), dtype=np.uint8)]
    batches = _batches(make_pipeline(small, crop_size=32, batch_size=2, training=training, augment="flip"))
    assert len(batches) == 1
    l_batch, ab_batch = batches[0]
    assert l_batch.shape == (2, 32, 32, 1) and ab_batch.shape == (2, 32, 32, 2)
    assert np.isfinite(l_batch).all() and np.isfinite(ab_batch).all()
    if not training:  # the flat orange photo stays that orange after upscaling
        expected = np.asarray(lab.rgb_to_lab(np.array([200, 60, 30], dtype=np.uint8)))
        np.testing.assert_allclose(ab_batch[1], np.broadcast_to(expected[1:] / lab.AB_SCALE, (32, 32, 2)), atol=1e-4)


def test_ab_scale_argument(photos):
    seeds_scale = _batches(make_pipeline(photos[:2], crop_size=CROP, batch_size=2, training=False,
                                         ab_scale=lab.SEED_AB_SCALE))[0][1]
    course = _batches(make_pipeline(photos[:2], crop_size=CROP, batch_size=2, training=False))[0][1]
    np.testing.assert_allclose(seeds_scale * lab.SEED_AB_SCALE, course * lab.AB_SCALE, atol=1e-3)


def test_full_augmentation_changes_the_flipped_crops(photos):
    """The seeds' rotation/zoom/shear really run: "full" differs from "flip" with the same seed."""
    def run(augment):
        return _batches(make_pipeline(photos, crop_size=CROP, batch_size=BATCH, training=True,
                                      augment=augment, seed=7))

    full, flip = run("full"), run("flip")
    assert not _same(full, flip)
    for l_batch, ab_batch in full:
        assert l_batch.shape == (BATCH, CROP, CROP, 1) and ab_batch.shape == (BATCH, CROP, CROP, 2)
        assert l_batch.min() >= -1.0 and l_batch.max() <= 1.0 and np.abs(ab_batch).max() <= 1.0
