"""colorize.explore on tiny synthetic photos whose answers are known by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from skimage.color import rgb2lab

from colorize import explore, lab


def _solid(rgb, shape=(6, 8)) -> np.ndarray:
    return np.broadcast_to(np.asarray(rgb, np.uint8), shape + (3,)).copy()


def _numbered(n_pixels: int, offset: int, width: int = 10) -> np.ndarray:
    """A photo whose pixels are all different: pixel k holds k + offset in its channels (base 256)."""
    codes = np.arange(offset, offset + n_pixels)
    rgb = np.stack([codes // 65536, (codes // 256) % 256, codes % 256], axis=-1).astype(np.uint8)
    return rgb.reshape(-1, width, 3)


def _codes(rgb: np.ndarray) -> np.ndarray:
    rgb = rgb.reshape(-1, 3).astype(np.int64)
    return rgb[:, 0] * 65536 + rgb[:, 1] * 256 + rgb[:, 2]


RED_LAB = rgb2lab(np.array([[[1.0, 0.0, 0.0]]]))[0, 0]


# --- pixels -----------------------------------------------------------------------------------

def test_gray_photo_has_zero_chroma_and_is_all_near_gray():
    values = explore.to_lab(_solid((128, 128, 128)))
    assert np.abs(explore.chroma(values)).max() < 0.01  # float32 rounding only
    assert explore.near_gray_fraction(values) == 1.0


def test_red_chroma_and_hue_match_scikit_image():
    values = explore.to_lab(_solid((255, 0, 0)))
    assert explore.chroma(values) == pytest.approx(np.hypot(RED_LAB[1], RED_LAB[2]), abs=0.02)
    assert explore.hue_degrees(values) == pytest.approx(np.degrees(np.arctan2(RED_LAB[2], RED_LAB[1])), abs=0.02)
    assert explore.near_gray_fraction(values) == 0.0


def test_hue_angles_of_the_four_axes():
    values = np.array([[50, 10, 0], [50, 0, 10], [50, -10, 0], [50, 0, -10]], dtype=float)
    np.testing.assert_allclose(explore.hue_degrees(values), [0, 90, 180, 270], atol=1e-9)


def test_near_gray_fraction_counts_half_and_half():
    photo = np.concatenate([_solid((90, 90, 90)), _solid((0, 0, 255))], axis=1)
    assert explore.near_gray_fraction(explore.to_lab(photo)) == 0.5
    # a threshold above blue's chroma (about 134) makes every pixel "near gray"
    assert explore.near_gray_fraction(explore.to_lab(photo), threshold=140) == 1.0


def test_sample_is_deterministic_capped_and_equal_per_photo():
    photos = [_numbered(500, 0), _numbered(300, 1000), _numbered(400, 2000)]
    rgb, owners = explore.sample_pixels(photos, max_pixels=90, seed=7)
    again, owners_again = explore.sample_pixels(photos, max_pixels=90, seed=7)
    other, _ = explore.sample_pixels(photos, max_pixels=90, seed=8)
    assert rgb.shape == (90, 3) and rgb.dtype == np.uint8
    np.testing.assert_array_equal(rgb, again)
    np.testing.assert_array_equal(owners, owners_again)
    assert not np.array_equal(rgb, other)
    np.testing.assert_array_equal(np.bincount(owners), [30, 30, 30])
    codes = _codes(rgb)
    for index, photo in enumerate(photos):  # every sampled pixel is a real, distinct pixel of its photo
        mine = codes[owners == index]
        assert set(mine) <= set(_codes(photo))
        assert len(set(mine)) == len(mine)


def test_sample_never_takes_more_than_a_photo_has():
    photos = [_numbered(20, 0), _numbered(1000, 5000)]
    rgb, owners = explore.sample_pixels(photos, max_pixels=200, seed=1)
    np.testing.assert_array_equal(np.bincount(owners), [20, 100])  # small photo: all its 20 pixels
    assert sorted(_codes(rgb[owners == 0])) == list(range(20))


def test_sample_with_a_large_cap_returns_every_pixel_once():
    photos = [_numbered(30, 0), _numbered(50, 100)]
    rgb, _ = explore.sample_pixels(photos, max_pixels=10_000)
    assert sorted(_codes(rgb)) == list(range(30)) + list(range(100, 150))


def test_sample_refuses_non_uint8_photos():
    with pytest.raises(ValueError):
        explore.sample_pixels([np.zeros((4, 4, 3), np.float32)])


def test_pixel_table_columns_agree_with_each_other():
    pixels = explore.pixel_table([_solid((255, 0, 0)), _solid((128, 128, 128))], max_pixels=20)
    assert len(pixels) == 20
    assert list(pixels.columns) == ["photo", "L", "a", "b", "chroma", "hue"]
    np.testing.assert_allclose(pixels["chroma"], np.hypot(pixels["a"], pixels["b"]))
    red = pixels[pixels["photo"] == 0]
    np.testing.assert_allclose(red[["L", "a", "b"]].to_numpy(), np.tile(RED_LAB, (10, 1)), atol=0.02)


def test_mean_colour_of_a_gray_photo_is_gray():
    a, b, rgb = explore.mean_colour(explore.pixel_table([_solid((200, 200, 200))]))
    assert abs(a) < 0.01 and abs(b) < 0.01
    assert rgb[0] == rgb[1] == rgb[2]


# --- photos -----------------------------------------------------------------------------------

def test_photo_table_of_a_gray_and_a_red_photo():
    table = explore.photo_table([_solid((128, 128, 128)), _solid((255, 0, 0), (5, 7))], ["gray", "red"])
    gray, red = table.iloc[0], table.iloc[1]
    assert gray["colorfulness"] == 0.0 and gray["near_gray"] == 1.0 and gray["median_chroma"] < 0.01
    assert (red["height"], red["width"]) == (5, 7)
    assert red["near_gray"] == 0.0
    assert red["median_chroma"] == pytest.approx(np.hypot(RED_LAB[1], RED_LAB[2]), abs=0.02)
    assert red["hue"] == pytest.approx(np.degrees(np.arctan2(RED_LAB[2], RED_LAB[1])), abs=0.02)
    # Hasler & Süsstrunk: no spread, mean (rg, yb) = (255, 127.5), so M = 0.3 * |(255, 127.5)|
    assert red["colorfulness"] == pytest.approx(0.3 * np.hypot(255, 127.5))


def test_photo_table_by_split_keeps_split_and_order():
    photos = {"train": [_solid((1, 2, 3)), _solid((9, 9, 9))], "test": [_solid((255, 255, 0))]}
    names = {"train": ["t0", "t1"], "test": ["x0"]}
    table = explore.photo_table_by_split(photos, names)
    assert table["split"].tolist() == ["train", "train", "test"]
    assert table["photo"].tolist() == ["t0", "t1", "x0"]


def test_size_summary_counts_orientation_per_split():
    table = pd.DataFrame({
        "split": ["train", "train", "train", "test"], "file": list("abcd"),
        "width": [481, 321, 481, 200], "height": [321, 481, 321, 100],
    })
    table["megapixels"] = table["width"] * table["height"] / 1e6
    summary = explore.size_summary(table)
    assert summary.index.tolist() == ["train", "test", "all"]
    assert summary.loc["train", ["photos", "landscape", "portrait"]].tolist() == [3, 2, 1]
    assert summary.loc["all", "photos"] == 4 and summary.loc["all", "smallest_side"] == 100
    assert summary.loc["all", "megapixels"] == pytest.approx(3 * 481 * 321 / 1e6 + 0.02)


def test_split_gallery_pads_short_splits():
    photos = {"train": [_solid((0, 0, 0))] * 3, "val": [_solid((0, 0, 0))]}
    names = {"train": ["a", "b", "c"], "val": ["d"]}
    images, titles, rows = explore.split_gallery(photos, names, per_split=2)
    assert len(images) == len(titles) == 4
    assert titles[3] == "" and titles[2].startswith("d")
    assert rows == ["train (3)", "val (1)"]


def test_extremes_are_sorted_and_disjoint():
    table = pd.DataFrame({"photo": list("abcde"), "m": [3, 9, 1, 7, 5]})
    top, bottom = explore.extremes(table, "m", 2)
    assert top["photo"].tolist() == ["b", "d"]
    assert bottom["photo"].tolist() == ["c", "a"]


# --- gamut and lightness ----------------------------------------------------------------------

def test_gamut_mask_contains_gray_and_red_but_not_far_corners():
    axis, mask = explore.ab_gamut_mask(limit=110, resolution=221, lightness_levels=(25, 53.24, 75))
    at = lambda a, b: mask[np.argmin(abs(axis - b)), np.argmin(abs(axis - a))]  # noqa: E731
    assert at(0, 0)
    assert at(round(RED_LAB[1]), round(RED_LAB[2]))
    assert not at(-100, -100) and not at(-100, 100)


def test_gamut_ceiling_closes_at_black_and_white():
    lightness = np.array([0.0, 32.3, 53.24, 100.0])
    ceiling = explore.max_chroma_by_lightness(lightness, hues=360, chroma_step=0.5)
    assert ceiling[0] == 0 and ceiling[-1] == 0
    assert 128 < ceiling[1] <= 134.5  # sRGB blue: L 32.3, chroma 133.8
    assert ceiling[2] >= 103  # sRGB red: L 53.2, chroma 104.6


def test_ab_spread_of_two_opposite_colours_in_one_bin():
    pixels = pd.DataFrame({"L": [52, 52, 52, 52, 85, 85], "a": [30, -30, 30, -30, 10, 10],
                           "b": [0, 0, 0, 0, 10, 10]})
    pixels["chroma"] = np.hypot(pixels["a"], pixels["b"])
    spread = explore.ab_spread_by_lightness(pixels, bin_width=10)
    mid = spread.set_index("L_low").loc[50]
    bright = spread.set_index("L_low").loc[80]
    assert (mid["pixels"], mid["mean_a"], mid["rms_to_mean"], mid["rms_to_gray"]) == (4, 0, 30, 30)
    assert bright["rms_to_mean"] == 0 and bright["rms_to_gray"] == pytest.approx(np.sqrt(200))
    best, gray = explore.lightness_only_error(spread)
    assert best == pytest.approx(np.sqrt(4 / 6 * 900))
    assert gray == pytest.approx(np.sqrt(4 / 6 * 900 + 2 / 6 * 200))


def test_lightness_band_is_half_open():
    pixels = pd.DataFrame({"L": [44.9, 45.0, 50.0, 55.0]})
    assert explore.lightness_band(pixels, 45, 55)["L"].tolist() == [45.0, 50.0]


# --- patch twins ------------------------------------------------------------------------------

def _photo_from_lab(lightness: np.ndarray, a: float, b: float) -> np.ndarray:
    values = np.stack([lightness, np.full_like(lightness, a), np.full_like(lightness, b)], axis=-1)
    return lab.lab_to_uint8(values.astype(np.float32))


def test_twins_pair_the_photos_with_equal_lightness_and_different_colour():
    rng = np.random.default_rng(0)
    texture = np.clip(50 + 8 * rng.standard_normal((9, 9)), 30, 70)  # 2x2 positions for an 8x8 patch
    photos = [  # colours well inside the gamut, so the uint8 photos keep them
        _photo_from_lab(texture, 20, 10),  # same L pattern, reddish
        _photo_from_lab(texture.T[::-1] + 15, 0, 0),  # another L pattern
        _photo_from_lab(texture, -15, -10),  # same L pattern, bluish
    ]
    twins = explore.lightness_twins(photos, patch=8, max_side=9, patches_per_photo=16, min_texture=1,
                                    closest_fraction=0.5, n_pairs=1, seed=3)
    assert len(twins) == 1
    pair = twins.iloc[0]
    assert {pair["photo_a"], pair["photo_b"]} == {0, 2}
    assert (pair["top_a"], pair["left_a"]) == (pair["top_b"], pair["left_b"])
    assert pair["ab_distance"] == pytest.approx(np.hypot(35, 20), abs=1.5)
    assert pair["l_rms"] < 1.0


def test_twins_need_two_photos():
    assert explore.lightness_twins([_solid((10, 200, 30), (40, 40))], min_texture=0).empty


# --- the seeds --------------------------------------------------------------------------------

def test_seed_comparison_lists_the_seeds_and_us():
    table = explore.seed_comparison("bsds500", {"train": 200, "val": 100, "test": 200}, "481x321")
    assert table["images"].dropna().astype(int).tolist() == [25_000, 4_300, 2_500, 500]
    assert table.iloc[-1]["split"] == "200/100/200 (train/val/test)"


def test_crops_per_photo():
    assert explore.crops_per_photo(321, 481, 128) == 6
    assert explore.crops_per_photo(100, 100, 128) == 0


# --- channel correlations -----------------------------------------------------------------------

def test_channel_correlations_of_a_gray_ramp_and_a_colour_ramp():
    ramp = np.linspace(0, 255, 64).astype(np.uint8)
    gray = np.repeat(ramp[None, :, None], 3, axis=2).repeat(4, axis=0)  # R = G = B, a = b = 0
    red_to_green = np.stack([ramp[::-1], ramp, np.full_like(ramp, 40)], axis=-1)[None].repeat(4, axis=0)
    table = explore.channel_correlations([gray, red_to_green], names=["gray", "red-green"])
    assert list(table.columns) == ["photo", "R-G", "R-B", "G-B", "L-a", "L-b", "a-b"]
    assert table.loc[0, "R-G"] == pytest.approx(1.0) and table.loc[0, "G-B"] == pytest.approx(1.0)
    assert np.isnan(table.loc[0, ["L-a", "L-b", "a-b"]].astype(float)).all()  # no colour: undefined
    assert table.loc[1, "R-G"] == pytest.approx(-1.0, abs=1e-3)
    assert np.isnan(table.loc[1, "R-B"])  # blue is constant
    assert table.loc[1, "L-a"] < -0.8  # going from red to green: lighter and less red
