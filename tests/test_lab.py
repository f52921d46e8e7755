"""colorize.lab against scikit-image over the whole sRGB cube, plus the model-side helpers."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import tensorflow as tf
from skimage import color

from colorize import lab

STEPS = 101  # 101^3 = 1,030,301 colours, every corner and edge of the cube included


@pytest.fixture(scope="module")
def cube() -> np.ndarray:
    """float64 sRGB colours on a 101^3 grid over [0, 1]^3 plus the 8 corners again, shape [N, 3]."""
    axis = np.linspace(0.0, 1.0, STEPS)
    grid = np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), axis=-1).reshape(-1, 3)
    corners = np.array(list(itertools.product((0.0, 1.0), repeat=3)))
    colours = np.concatenate([grid, corners])
    assert colours.shape[0] >= 1_000_000
    return colours


@pytest.fixture(scope="module")
def cube_lab_skimage(cube) -> np.ndarray:
    # skimage wants an image; [N, 1, 3] is one, and gives back exactly the per-colour values.
    return color.rgb2lab(cube[:, None, :])[:, 0, :]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_rgb_to_lab_matches_skimage_over_the_srgb_cube(cube, cube_lab_skimage, dtype):
    ours = np.asarray(lab.rgb_to_lab(cube.astype(dtype)), dtype=np.float64)
    assert ours.shape == cube.shape
    max_error = np.abs(ours - cube_lab_skimage).max(axis=0)  # per channel: L, a, b
    assert np.all(max_error <= 0.01), f"max |dL|, |da|, |db| = {max_error}"


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_rgb_lab_rgb_round_trip_within_one_level(cube, dtype):
    colours = cube.astype(dtype)
    back = np.asarray(lab.lab_to_rgb(lab.rgb_to_lab(colours), clip=False), dtype=np.float64)
    assert np.abs(back - cube).max() <= 1 / 255


def test_lab_to_rgb_matches_skimage_for_in_gamut_lab(cube_lab_skimage):
    subset = cube_lab_skimage[::7]  # ~150k in-gamut Lab colours, corners of L included
    theirs = color.lab2rgb(subset[:, None, :])[:, 0, :]
    ours = np.asarray(lab.lab_to_rgb(subset))
    assert np.abs(ours - theirs).max() <= 1e-4


def test_known_lab_values():
    """Textbook anchors: black, white, mid-gray and pure red."""
    rgb = np.array([[0, 0, 0], [255, 255, 255], [119, 119, 119], [255, 0, 0]], dtype=np.uint8)
    ours = np.asarray(lab.rgb_to_lab(rgb))
    np.testing.assert_allclose(ours[0], [0, 0, 0], atol=1e-4)
    np.testing.assert_allclose(ours[1, 0], 100.0, atol=1e-3)
    np.testing.assert_allclose(ours[1:3, 1:], 0.0, atol=0.02)  # grays have (almost) no colour
    np.testing.assert_allclose(ours[2, 0], 50.0, atol=0.1)  # sRGB 119 is Lab's middle gray
    np.testing.assert_allclose(ours[3], [53.24, 80.09, 67.20], atol=0.01)


def test_uint8_input_equals_float_input_divided_by_255():
    rng = np.random.default_rng(0)
    colours = rng.integers(0, 256, size=(50_000, 3), dtype=np.uint8)
    colours = np.concatenate([colours, np.repeat(np.arange(256, dtype=np.uint8)[:, None], 3, axis=1)])
    from_uint8 = np.asarray(lab.rgb_to_lab(colours))
    from_float32 = np.asarray(lab.rgb_to_lab(colours.astype(np.float32) / np.float32(255)))
    from_float64 = np.asarray(lab.rgb_to_lab(colours.astype(np.float64) / 255.0))
    assert from_uint8.dtype == np.float32
    # 8-bit input is a lookup of the curve computed once (in a compiled graph), float input is the
    # curve computed here (eagerly): the same numbers up to float32 round-off (~1e-6 of L's 100).
    np.testing.assert_allclose(from_uint8, from_float32, rtol=0, atol=1e-4)
    np.testing.assert_allclose(from_uint8, from_float64, rtol=0, atol=1e-3)


def test_uint16_input_is_scaled_by_its_full_range():
    colours = np.array([[0, 0, 0], [65535, 65535, 65535], [65535, 0, 0], [0, 32768, 65535]], dtype=np.uint16)
    np.testing.assert_allclose(np.asarray(lab.rgb_to_lab(colours)),
                               np.asarray(lab.rgb_to_lab(colours.astype(np.float64) / 65535.0)), atol=1e-3)


def test_integer_input_other_than_uint8_uint16_is_refused():
    with pytest.raises(TypeError):
        lab.rgb_to_lab(np.array([[1, 2, 3]], dtype=np.int32))


def test_normalisation_helpers_invert_each_other():
    L = np.array([0.0, 25.0, 50.0, 100.0])
    np.testing.assert_allclose(lab.normalize_l(L), [-1.0, -0.5, 0.0, 1.0])
    np.testing.assert_allclose(lab.denormalize_l(lab.normalize_l(L)), L)
    ab = np.array([[-107.9, 94.5], [0.0, 55.0]])
    np.testing.assert_allclose(lab.normalize_ab(ab), ab / lab.AB_SCALE)
    np.testing.assert_allclose(lab.denormalize_ab(lab.normalize_ab(ab)), ab)
    np.testing.assert_allclose(lab.normalize_ab(ab, scale=128.0), ab / 128.0)
    np.testing.assert_allclose(lab.denormalize_ab(lab.normalize_ab(ab, scale=128.0), scale=128.0), ab)


def test_model_io_round_trip_keeps_the_photo():
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, size=(2, 8, 8, 3), dtype=np.uint8)
    l_norm, ab_norm = lab.rgb_to_model_io(rgb)
    assert tuple(l_norm.shape) == (2, 8, 8, 1) and tuple(ab_norm.shape) == (2, 8, 8, 2)
    assert float(tf.reduce_min(l_norm)) >= -1.0 and float(tf.reduce_max(l_norm)) <= 1.0
    back = np.asarray(lab.model_io_to_rgb(l_norm, ab_norm))
    assert np.abs(back * 255.0 - rgb).max() <= 1.0


def test_gray_from_rgb_keeps_lightness_and_drops_colour():
    rgb = np.array([[[200, 30, 40], [10, 120, 250]]], dtype=np.uint8)
    gray = np.asarray(lab.gray_from_rgb(rgb))
    assert np.abs(gray[..., 0] - gray[..., 1]).max() < 2e-3 and np.abs(gray[..., 1] - gray[..., 2]).max() < 2e-3
    np.testing.assert_allclose(np.asarray(lab.rgb_to_lab(gray))[..., 0], np.asarray(lab.rgb_to_lab(rgb))[..., 0],
                               atol=0.05)


def test_ab_scale_covers_the_gamut(cube_lab_skimage):
    largest = np.abs(cube_lab_skimage[:, 1:]).max()
    assert largest < lab.AB_SCALE
    assert 107.5 < largest < 108.0  # the module docstring's 107.9 (blue's b)
    extremes = np.array([cube_lab_skimage[:, 1:].min(axis=0), cube_lab_skimage[:, 1:].max(axis=0)])
    np.testing.assert_allclose(extremes, [[-86.2, -107.9], [98.2, 94.5]], atol=0.1)
    normalised = np.asarray(lab.normalize_ab(extremes))
    assert np.all(np.abs(normalised) <= 1.0)
    assert np.abs(normalised).max() == pytest.approx(0.98, abs=0.01)  # whole gamut onto [-0.98, 0.98]


@pytest.mark.filterwarnings("ignore:Conversion from CIE-LAB:UserWarning")
def test_lab_to_rgb_clips_out_of_gamut_colours():
    outside = np.array([[50.0, 127.0, -127.0], [50.0, -127.0, 127.0], [90.0, 0.0, -120.0], [20.0, 100.0, 100.0]])
    unclipped = np.asarray(lab.lab_to_rgb(outside, clip=False))
    assert np.any((unclipped < 0.0) | (unclipped > 1.0), axis=-1).all()  # each needs clipping
    clipped = np.asarray(lab.lab_to_rgb(outside))
    assert clipped.min() >= 0.0 and clipped.max() <= 1.0
    np.testing.assert_allclose(clipped, np.clip(unclipped, 0.0, 1.0), atol=1e-12)
    np.testing.assert_allclose(clipped, color.lab2rgb(outside[:, None, :])[:, 0, :], atol=1e-4)
    assert lab.lab_to_uint8(outside).dtype == np.uint8


def test_in_srgb_gamut(cube):
    outside = np.array([[50.0, 127.0, -127.0], [50.0, -127.0, 127.0], [0.0, 0.0, 120.0], [100.0, 60.0, 0.0]])
    assert not np.asarray(lab.in_srgb_gamut(outside)).any()
    real = np.asarray(lab.rgb_to_lab(cube[::3]))  # Lab of ~340k real sRGB colours (float64)
    assert np.asarray(lab.in_srgb_gamut(real)).all()
    assert bool(lab.in_srgb_gamut(np.array([50.0, 0.0, 0.0])))


def test_in_srgb_gamut_true_for_float32_lab_of_the_cube_corners():
    corners = np.array(list(itertools.product((0, 255), repeat=3)), dtype=np.uint8)
    assert np.asarray(lab.in_srgb_gamut(lab.rgb_to_lab(corners))).all()


def test_rgb_to_lab_inside_tf_function_and_tf_data():
    rng = np.random.default_rng(2)
    batch = rng.integers(0, 256, size=(3, 4, 5, 3), dtype=np.uint8)
    eager = np.asarray(lab.rgb_to_lab(batch))

    graph = tf.function(lambda x: lab.rgb_to_lab(x))
    np.testing.assert_allclose(np.asarray(graph(tf.constant(batch))), eager, atol=1e-4)

    dataset = tf.data.Dataset.from_tensor_slices(batch).batch(2).map(lab.rgb_to_lab)
    batches = [np.asarray(b) for b in dataset]
    assert [b.shape for b in batches] == [(2, 4, 5, 3), (1, 4, 5, 3)]
    np.testing.assert_allclose(np.concatenate(batches), eager, atol=1e-4)


@pytest.mark.parametrize("value", [0.0, 1.0, 0.5])
def test_gradients_are_finite_at_black_white_and_gray(value):
    rgb = tf.Variable(tf.fill([1, 2, 2, 3], value))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(lab.rgb_to_lab(rgb) * tf.constant([1.0, 0.3, 0.7]))
    grad = tape.gradient(loss, rgb).numpy()
    assert np.isfinite(grad).all()
    assert np.abs(grad).sum() > 0  # lightness does depend on the input

    L = float(np.asarray(lab.rgb_to_lab(np.array([value, value, value])))[0])
    for clip in (True, False):
        lab_var = tf.Variable(tf.constant([[[L, 0.0, 0.0], [L, 0.0, 0.0]]], dtype=tf.float32))
        with tf.GradientTape() as tape:
            out = tf.reduce_sum(lab.lab_to_rgb(lab_var, clip=clip))
        grad = tape.gradient(out, lab_var).numpy()
        assert np.isfinite(grad).all(), (value, clip, grad)
    # away from the clipping edges, lightness moves RGB
    assert np.abs(grad[..., 0]).sum() > 0


def test_lightness_alone_equals_the_l_of_the_full_conversion():
    colours = np.random.default_rng(3).integers(0, 256, (200_000, 3), dtype=np.uint8)
    full = lab.rgb_to_lab(colours).numpy()[..., 0]
    np.testing.assert_allclose(lab.lightness(colours).numpy(), full, atol=1e-4)


# --- colorize.fast_lab: the full-resolution conversions (OpenCV) against skimage and lab -----------

from colorize import fast_lab  # noqa: E402  (kept with the tests that use it)


def _as_image(colours: np.ndarray, width: int = 53) -> np.ndarray:
    """[N, C] colours as a C-contiguous [N / width, width, C] image (padded with the last colour)."""
    rows = -(-len(colours) // width)
    padded = np.concatenate([colours, np.repeat(colours[-1:], rows * width - len(colours), axis=0)])
    return np.ascontiguousarray(padded.reshape(rows, width, colours.shape[-1]))


@pytest.fixture(scope="module")
def grid_8bit() -> np.ndarray:
    """Every 5th 8-bit level per channel (0, 5, ..., 255): 52^3 = 140,608 colours, blacks included."""
    return lab.all_8bit_colors(step=5)


def test_fast_lab_uses_the_constants_of_lab():
    np.testing.assert_array_equal(fast_lab.XYZ_FROM_RGB, lab.XYZ_FROM_RGB)
    np.testing.assert_array_equal(fast_lab.D65_WHITE, lab.D65_WHITE)
    assert (fast_lab._EPSILON, fast_lab._KAPPA_SLOPE, fast_lab._F_THRESHOLD) == \
        (lab._EPSILON, lab._KAPPA_SLOPE, lab._F_THRESHOLD)
    # float64 here, float32 there
    np.testing.assert_allclose(fast_lab.LINEAR_OF_UINT8, np.asarray(lab._LINEAR_OF_UINT8), rtol=0, atol=1e-6)


@pytest.mark.parametrize("part", ["all", "bright"])
def test_fast_lightness_matches_skimage_on_the_8bit_grid(grid_8bit, part):
    """"all" has near-black colours (CIE's straight line, the strip's dark path), "bright" none
    (L > 8 everywhere: the path without it)."""
    colours = grid_8bit
    theirs = color.rgb2lab(colours[:, None, :])[:, 0, 0]
    if part == "bright":
        keep = theirs > 8.5
        colours, theirs = colours[keep], theirs[keep]
    ours = fast_lab.lightness(_as_image(colours)).reshape(-1)[:len(colours)]
    assert ours.dtype == np.float32
    assert np.abs(ours - theirs).max() <= 0.01, np.abs(ours - theirs).max()
    np.testing.assert_allclose(ours, np.asarray(lab.lightness(colours)), rtol=0, atol=2e-4)


def test_fast_lightness_matches_skimage_on_real_photos():
    from colorize.data.images import read_rgb
    from colorize.data.sources import sample_dataset

    for path in sample_dataset().paths("test"):
        photo = read_rgb(path)
        for version in (photo, photo // 6):  # as it is, and so dark that most strips take the dark path
            theirs = color.rgb2lab(version)[..., 0]
            error = np.abs(fast_lab.lightness(version) - theirs).max()
            assert error <= 0.01, (path.name, error)


def test_opencvs_own_lab_is_another_definition(grid_8bit):
    """Why fast_lab does not call cv2.cvtColor: the tolerance the tests above hold it to fails there."""
    import cv2

    image = _as_image(grid_8bit.astype(np.float32) / 255)
    theirs = color.rgb2lab(image.astype(np.float64))
    # should OpenCV ever match skimage, fast_lab could simply call it
    assert np.abs(cv2.cvtColor(image, cv2.COLOR_RGB2Lab) - theirs).max() > 0.01


def _join_both(lab_colours: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    image = _as_image(lab_colours.astype(np.float32))
    ours = fast_lab.lab_to_srgb8(np.ascontiguousarray(image[..., 0]), np.ascontiguousarray(image[..., 1:]))
    return ours.reshape(-1, 3)[:len(lab_colours)], lab.lab_to_uint8(lab_colours.astype(np.float32))


@pytest.mark.parametrize("part", ["all", "bright"])
def test_fast_join_gives_lab_to_uint8s_bytes_on_the_8bit_grid(grid_8bit, part):
    """Lab of the grid back to 8 bits: the TensorFlow join's bytes but for float32 round-off at
    half levels (at most 1 level, on a few in 10,000), and the grid itself (the round trip)."""
    colours = grid_8bit
    lab_colours = color.rgb2lab(colours[:, None, :])[:, 0, :]
    if part == "bright":  # no value on a straight segment of CIE's inverse or of sRGB: the path without them
        L, a, b = lab_colours.T
        f = np.stack([(L + 16) / 116 + a / 500, (L + 16) / 116, (L + 16) / 116 - b / 200])
        keep = (f.min(axis=0) > lab._F_THRESHOLD + 1e-3) & (colours.min(axis=1) >= 15)
        colours, lab_colours = colours[keep], lab_colours[keep]
        assert len(colours) > 50_000
    ours, tf_join = _join_both(lab_colours)
    difference = np.abs(ours.astype(int) - tf_join)
    assert difference.max() <= 1 and (difference > 0).any(axis=1).mean() < 1e-3, \
        (difference.max(), (difference > 0).any(axis=1).mean())
    assert np.abs(ours.astype(int) - colours).max() <= 1


def test_fast_join_clips_out_of_gamut_lab_as_lab_does():
    """Any L and ab a network may predict, most of them outside sRGB (per-channel clipping, and
    negative Z set to zero as skimage does): lab_to_uint8's bytes to within one level."""
    rng = np.random.default_rng(4)
    lab_colours = np.concatenate([
        np.column_stack([rng.uniform(0, 100, 300_000), rng.uniform(-128, 128, (300_000, 2))]),
        np.column_stack([rng.uniform(0, 3, 20_000), rng.uniform(-20, 20, (20_000, 2))]),  # near black
        [[0, 0, 0], [100, 0, 0], [0, 128, -128], [100, -128, 128], [5, 0, 110]],
    ])
    ours, tf_join = _join_both(lab_colours)
    difference = np.abs(ours.astype(int) - tf_join)
    assert difference.max() <= 1, difference.max()
    assert (difference > 0).any(axis=1).mean() < 1e-3
