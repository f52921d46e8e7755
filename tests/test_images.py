"""colorize.data.images: every common kind of file becomes the uint8 sRGB picture a viewer shows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

from colorize.data.images import UnreadableImage, fit_within, is_image_name, read_image, read_rgb

RED, BLUE, GREEN = (220, 20, 30), (20, 40, 230), (30, 200, 40)


def _two_colour(height: int = 12, width: int = 16) -> np.ndarray:
    """Left half red, right half blue: easy to recognise after any rotation or lossy coding."""
    rgb = np.zeros((height, width, 3), dtype=np.uint8)
    rgb[:, : width // 2] = RED
    rgb[:, width // 2:] = BLUE
    return rgb


def test_jpeg_rgb(tmp_path):
    path = tmp_path / "photo.jpg"
    Image.fromarray(_two_colour()).save(path, quality=95)
    rgb, alpha = read_image(path)
    assert rgb.dtype == np.uint8 and rgb.shape == (12, 16, 3) and alpha is None
    assert np.abs(rgb[:, :6].astype(int) - RED).max() <= 12  # lossy, but clearly the same colours
    assert np.abs(rgb[:, 10:].astype(int) - BLUE).max() <= 12
    np.testing.assert_array_equal(read_rgb(path), rgb)


def test_uppercase_extension(tmp_path):
    path = tmp_path / "PHOTO.JPG"
    Image.fromarray(_two_colour()).save(path, format="JPEG", quality=95)
    assert is_image_name(path)
    rgb = read_rgb(path)
    assert rgb.shape == (12, 16, 3)
    assert np.abs(rgb[:, :6].astype(int) - RED).max() <= 12


def test_png_rgba_returns_alpha_and_flattens_onto_white(tmp_path):
    rgba = np.zeros((4, 6, 4), dtype=np.uint8)
    rgba[..., :3] = GREEN
    rgba[..., 3] = 255
    rgba[0, :, 3] = 0  # fully transparent row (its colour must not show)
    rgba[1, 0] = (0, 0, 0, 128)  # half-transparent black over white -> mid gray
    path = tmp_path / "sticker.png"
    Image.fromarray(rgba, mode="RGBA").save(path)
    rgb, alpha = read_image(path)
    assert rgb.shape == (4, 6, 3) and alpha.shape == (4, 6) and alpha.dtype == np.uint8
    np.testing.assert_array_equal(alpha, rgba[..., 3])
    np.testing.assert_array_equal(rgb[0], np.full((6, 3), 255))
    assert np.abs(rgb[1, 0].astype(int) - 127).max() <= 1
    np.testing.assert_array_equal(rgb[2:], np.broadcast_to(GREEN, (2, 6, 3)))
    np.testing.assert_array_equal(read_rgb(path), rgb)


def _palette_image() -> Image.Image:
    indices = np.array([[0, 1, 2, 0], [2, 1, 0, 1], [1, 1, 2, 2]], dtype=np.uint8)
    image = Image.fromarray(indices, mode="L").convert("P")
    image.putpalette(list(RED) + list(BLUE) + list(GREEN) + [0, 0, 0] * 253)
    return image, indices


def test_palette_png_is_expanded(tmp_path):
    image, indices = _palette_image()
    path = tmp_path / "palette.png"
    image.save(path)
    with Image.open(path) as check:
        assert check.mode == "P"
    rgb, alpha = read_image(path)
    assert alpha is None
    expected = np.array([RED, BLUE, GREEN], dtype=np.uint8)[indices]
    np.testing.assert_array_equal(rgb, expected)


def test_palette_png_with_transparency(tmp_path):
    image, indices = _palette_image()
    path = tmp_path / "palette_transparent.png"
    image.save(path, transparency=2)  # palette entry 2 (green) is see-through
    rgb, alpha = read_image(path)
    np.testing.assert_array_equal(alpha, np.where(indices == 2, 0, 255))
    expected = np.array([RED, BLUE, (255, 255, 255)], dtype=np.uint8)[indices]
    np.testing.assert_array_equal(rgb, expected)


def test_grayscale_png_becomes_three_equal_channels(tmp_path):
    gray = np.arange(0, 240, 10, dtype=np.uint8).reshape(4, 6)
    path = tmp_path / "gray.png"
    Image.fromarray(gray, mode="L").save(path)
    rgb, alpha = read_image(path)
    assert rgb.shape == (4, 6, 3) and alpha is None
    for channel in range(3):
        np.testing.assert_array_equal(rgb[..., channel], gray)


def test_16bit_grayscale_png_is_scaled_by_full_range(tmp_path):
    gray16 = np.array([[0, 65535, 32768], [257, 1000, 65000]], dtype=np.uint16)
    path = tmp_path / "gray16.png"
    image = Image.fromarray(gray16)
    assert image.mode == "I;16"
    image.save(path)
    rgb = read_rgb(path)
    assert rgb.dtype == np.uint8 and rgb.shape == (2, 3, 3)
    assert rgb[0, 1, 0] == 255 and rgb[0, 2, 0] == 128 and rgb[0, 0, 0] == 0
    np.testing.assert_array_equal(rgb[..., 0], np.round(gray16 / 65535 * 255).astype(np.uint8))
    assert (rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all()


def test_16bit_rgb_tiff(tmp_path):
    rgb16 = np.zeros((5, 7, 3), dtype=np.uint16)
    rgb16[0, 0] = (65535, 32768, 0)
    rgb16[1:, :] = (60000, 20000, 40000)
    path = tmp_path / "scan16.tif"
    tifffile.imwrite(path, rgb16, photometric="rgb")
    rgb, alpha = read_image(path)
    assert rgb.dtype == np.uint8 and rgb.shape == (5, 7, 3) and alpha is None
    np.testing.assert_array_equal(rgb[0, 0], (255, 128, 0))
    # 60000, 20000, 40000 of 65535 are 233.5, 77.8, 155.7 of 255: allow one level either way
    assert np.abs(rgb[1:].astype(int) - np.round(rgb16[1:] / 65535 * 255)).max() <= 1


def test_16bit_rgb_tiff_scaled_by_full_range_not_truncated(tmp_path):
    rgb16 = np.linspace(0, 65535, 84).astype(np.uint16).reshape(4, 7, 3)
    rgb16[0, 0] = (1000, 1000, 1000)
    path = tmp_path / "scan16.tif"
    tifffile.imwrite(path, rgb16, photometric="rgb")
    np.testing.assert_array_equal(read_rgb(path), np.round(rgb16 / 65535 * 255).astype(np.uint8))


def test_bmp(tmp_path):
    path = tmp_path / "old.bmp"
    Image.fromarray(_two_colour()).save(path)
    np.testing.assert_array_equal(read_rgb(path), _two_colour())  # lossless


def test_exif_orientation_is_applied(tmp_path):
    original = _two_colour(height=10, width=20)  # 20 wide, 10 high: red left, blue right
    image = Image.fromarray(original)
    exif = image.getexif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    path = tmp_path / "phone.jpg"
    image.save(path, exif=exif, quality=95)
    with Image.open(path) as stored:
        assert stored.size == (20, 10)  # the pixels on disk are still landscape
    rgb = read_rgb(path)
    assert rgb.shape == (20, 10, 3)  # shown 10 wide and 20 high
    # turned clockwise: the left (red) half is now on top, the right (blue) half at the bottom
    assert np.abs(rgb[:8].astype(int) - RED).max() <= 15
    assert np.abs(rgb[12:].astype(int) - BLUE).max() <= 15
    assert np.abs(rgb.astype(int) - np.rot90(original, k=-1)).mean() < 5


def test_truncated_jpeg_is_unreadable(tmp_path):
    rng = np.random.default_rng(0)
    whole = tmp_path / "whole.jpg"
    Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(whole, quality=90)
    data = whole.read_bytes()
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(data[: len(data) // 2])
    assert read_rgb(whole).shape == (64, 64, 3)
    with pytest.raises(UnreadableImage, match="cut.jpg"):
        read_rgb(cut)


def test_text_file_named_jpg_is_unreadable(tmp_path):
    path = tmp_path / "notes.jpg"
    path.write_text("this is not a photo\n")
    with pytest.raises(UnreadableImage) as info:
        read_image(path)
    assert isinstance(info.value, ValueError)
    assert "notes.jpg" in str(info.value)


def test_missing_file_is_unreadable(tmp_path):
    with pytest.raises(UnreadableImage):
        read_rgb(tmp_path / "nowhere.png")


def test_is_image_name():
    for name in ("a.jpg", "b.JPEG", "c.png", "d.TIF", "e.tiff", "f.Bmp"):
        assert is_image_name(Path(name)), name
    for name in ("a.txt", "b.gif", "jpg", "c.jpg.bak"):
        assert not is_image_name(Path(name)), name


def test_fit_within_downsizes_the_long_side_and_never_upsizes():
    rng = np.random.default_rng(0)
    landscape = rng.integers(0, 256, (300, 500, 3), dtype=np.uint8)
    small = fit_within(landscape, 100)
    assert small.shape == (60, 100, 3) and small.dtype == np.uint8
    portrait = fit_within(landscape.transpose(1, 0, 2), 100)
    assert portrait.shape == (100, 60, 3)
    assert fit_within(landscape, 1000) is landscape  # never upsizes
    assert fit_within(landscape, 500) is landscape
    assert fit_within(landscape, None) is landscape
    # area averaging keeps the mean colour of the photo
    flat = np.full((40, 80, 3), (10, 100, 200), dtype=np.uint8)
    np.testing.assert_array_equal(fit_within(flat, 20), np.full((10, 20, 3), (10, 100, 200)))
    assert abs(small.astype(float).mean() - landscape.astype(float).mean()) < 2
