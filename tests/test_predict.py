"""colorize.predict: the network's input size, photos of any size, oracle models, strips, memory."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

from colorize import fast_lab, lab, models, predict
from colorize.data.images import fit_within, read_rgb
from colorize.data.sources import sample_dataset
from colorize.predict import ModelColorizer, colorize_photo, join_in_strips, lab_in_strips, network_size


def _one_by_one_model(kernel: float, bias: float, activation: str = "tanh") -> keras.Model:
    """A fully convolutional oracle: each pixel's output channels are ``activation(kernel * L + bias)``."""
    inputs = keras.Input((None, None, 1))
    conv = keras.layers.Conv2D(2, 1, activation=activation, name="ab",
                               kernel_initializer=keras.initializers.Constant(kernel),
                               bias_initializer=keras.initializers.Constant(bias))
    return keras.Model(inputs, conv(inputs))


@pytest.fixture(scope="module")
def small_unet() -> keras.Model:
    """Untrained, so its ab is small and varies over the photo (stride 8)."""
    keras.utils.set_random_seed(2)  # this one's ab leaves the sRGB gamut on ~1 % of the cat
    return models.build("unet", base_filters=4, depth=3)


@pytest.fixture(scope="module")
def cat() -> np.ndarray:
    """The sample's test photo of Chelsea the cat, shrunk to 160 px (uint8 RGB)."""
    (path,) = [p for p in sample_dataset().paths("test") if p.name == "chelsea.png"]
    return fit_within(read_rgb(path), 160)


# --- network_size --------------------------------------------------------------------------------


@pytest.mark.parametrize("height, width, work_side, stride, expected", [
    (481, 321, 96, 16, (96, 64)),  # 321 * 96/481 = 64.07 -> 4 strides
    (321, 481, 96, 16, (64, 96)),
    (3000, 4000, 96, 8, (72, 96)),
    (123, 77, 96, 8, (96, 64)),  # 77 * 96/123 = 60.1 -> 7.5 strides -> 8
    (96, 96, 96, 4, (96, 96)),
    (50, 70, 200, 16, (144, 192)),  # scaled up to the work side: 142.9 -> 144; 200 = 12.5 strides -> 12 (half to even)
    (10, 1000, 96, 16, (16, 96)),  # 0.96 px would round to 0 strides: one stride at least
    (5, 3, 8, 16, (16, 16)),
    (1, 1, 96, 16, (96, 96)),
])
def test_network_size_by_hand(height, width, work_side, stride, expected):
    assert network_size(height, width, work_side, stride) == expected


def test_network_size_is_whole_strides_near_the_work_side():
    for height, width in [(1, 1), (7, 3000), (321, 481), (2999, 4001), (64, 64)]:
        for stride in (1, 4, 16):
            size = network_size(height, width, 96, stride)
            assert all(side % stride == 0 and side >= stride for side in size)
            assert abs(max(size) - 96) <= stride / 2
            if min(height, width) * 96 / max(height, width) >= stride:  # aspect kept to half a stride
                assert abs(size[0] / size[1] * width - height) <= stride / 2 * max(height, width) / 96 + 1e-9


# --- ModelColorizer and colorize_photo ------------------------------------------------------------


def test_model_colorizer_on_a_photo_not_a_multiple_of_the_stride(small_unet):
    colorizer = ModelColorizer(small_unet, work_side=96)
    assert colorizer.stride == 8 and colorizer.fixed_size is None and colorizer.output == "ab"
    lightness = np.random.default_rng(0).uniform(0.0, 100.0, (123, 77)).astype(np.float32)
    assert colorizer.input_size(123, 77) == (96, 64)
    assert colorizer.small_ab(lightness).shape == (96, 64, 2)
    ab = colorizer(lightness)
    assert ab.shape == (123, 77, 2) and ab.dtype == np.float32
    assert np.isfinite(ab).all() and np.abs(ab).max() < lab.AB_SCALE and ab.std() > 0


@pytest.mark.parametrize("build", [lambda: models.build("unet", base_filters=4, depth=3),
                                   lambda: models.build("seed000_autoencoder", size=32, filters=4, code=8)],
                         ids=["fully convolutional", "dense square"])
def test_compiled_forward_pass_gives_the_eager_ab_for_every_photo_size(build):
    """The first photo runs eagerly, later ones through one compiled graph: same ab, any size."""
    keras.utils.set_random_seed(3)
    colorizer = ModelColorizer(build(), work_side=96)
    rng = np.random.default_rng(3)
    photos = [rng.uniform(0.0, 100.0, shape).astype(np.float32) for shape in [(123, 77), (60, 90), (123, 77)]]
    eager = [np.asarray(colorizer.model(lab.normalize_l(
        keras.ops.image.resize(photo[None, ..., None], colorizer.input_size(*photo.shape), interpolation="area",
                               antialias=True)), training=False))[0] for photo in photos]
    first = colorizer._network_output(photos[0])  # eager: no graph traced yet
    assert colorizer._compiled[0] is not None
    later = [colorizer._network_output(photo) for photo in photos[1:]]  # compiled, two sizes
    assert colorizer._compiled[0].experimental_get_tracing_count() == 1
    for expected, got in zip(eager, [first, *later]):
        np.testing.assert_allclose(np.asarray(got), expected, atol=1e-5)


def test_model_colorizer_squeezes_photos_into_a_dense_models_square():
    model = models.build("seed000_autoencoder", size=32, filters=4, code=8)
    colorizer = ModelColorizer(model, work_side=96)
    assert colorizer.fixed_size == 32 and colorizer.input_size(123, 77) == (32, 32)
    assert colorizer(np.full((123, 77), 40.0, np.float32)).shape == (123, 77, 2)


def test_model_colorizer_keeps_only_the_colour_of_an_rgb_model():
    colorizer = ModelColorizer(models.build("seed001_rgb_baseline", filters=4), work_side=64)
    assert colorizer.output == "rgb" and colorizer.stride == 2
    ab = colorizer(np.full((31, 45), 60.0, np.float32))
    assert ab.shape == (31, 45, 2) and np.isfinite(ab).all()


def test_constant_ab_oracle_comes_back_everywhere_at_full_size():
    model = _one_by_one_model(kernel=0.0, bias=math.atanh(0.2))  # tanh(...) = 0.2 whatever L is
    colorizer = ModelColorizer(model, work_side=40)
    assert colorizer.stride == 1
    lightness = np.random.default_rng(1).uniform(0.0, 100.0, (123, 77)).astype(np.float32)
    ab = colorizer(lightness)
    assert ab.shape == (123, 77, 2)
    np.testing.assert_allclose(ab, 0.2 * lab.AB_SCALE, atol=1e-4)


def test_ab_follows_l_without_flips_or_transposes():
    """Oracle a = b = AB_SCALE * L_norm / 2 on a horizontal ramp of L: ab must be the same ramp."""
    model = _one_by_one_model(kernel=0.5, bias=0.0, activation="linear")
    colorizer = ModelColorizer(model, work_side=48)
    height, width = 90, 160
    lightness = np.tile(np.linspace(0.0, 100.0, width, dtype=np.float32), (height, 1))
    ab = colorizer(lightness)
    expected = lab.AB_SCALE * lab.normalize_l(lightness) / 2
    inner = slice(8, -8)  # area-down then bilinear-up is exact on a ramp, except at the borders
    np.testing.assert_allclose(ab[:, inner, 0], expected[:, inner], atol=0.5)
    np.testing.assert_allclose(ab[:, inner, 1], expected[:, inner], atol=0.5)
    np.testing.assert_allclose(ab[0], ab[-1], atol=1e-4)  # constant down each column


def test_colorize_photo_keeps_the_photos_l(cat, small_unet):
    colorizer = ModelColorizer(small_unet, work_side=96)
    colorized = colorize_photo(colorizer, cat)
    assert colorized.shape == cat.shape and colorized.dtype == np.uint8
    l_in = np.asarray(lab.rgb_to_lab(cat))[..., 0]
    ab = colorizer(l_in)
    out_lab = np.asarray(lab.rgb_to_lab(colorized))
    # Where the photo's L with the predicted ab is an sRGB colour, only 8-bit rounding changes L.
    # Elsewhere lab_to_rgb clips each RGB channel (as skimage does), which moves L as well.
    in_gamut = np.asarray(lab.in_srgb_gamut(np.concatenate([l_in[..., None], ab], axis=-1)))
    assert in_gamut.mean() > 0.9
    l_error = np.abs(out_lab[..., 0] - l_in)
    assert l_error[in_gamut].max() <= 0.5, l_error[in_gamut].max()
    np.testing.assert_allclose(out_lab[..., 1:][in_gamut], ab[in_gamut], atol=2.5)  # ... and the predicted ab
    assert not np.array_equal(colorized, cat)


# --- strips ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("height, rows", [(50, 7), (21, 7), (6, 7), (600, predict.STRIP_ROWS)])
def test_strips_equal_the_one_shot_conversions(height, rows):
    rng = np.random.default_rng(height)
    rgb = rng.integers(0, 256, (height, 5, 3), dtype=np.uint8)
    kwargs = {} if rows == predict.STRIP_ROWS else {"rows": rows}  # 600 > STRIP_ROWS: the default path
    lab_strips = lab_in_strips(rgb, **kwargs)
    assert lab_strips.shape == (height, 5, 3) and lab_strips.dtype == np.float32
    np.testing.assert_allclose(lab_strips, np.asarray(lab.rgb_to_lab(rgb)), rtol=0, atol=1e-4)

    ab = rng.uniform(-60.0, 60.0, (height, 5, 2)).astype(np.float32)
    for join in (join_in_strips, predict.join_reference):
        joined = join(lab_strips[..., 0], ab, **kwargs)
        assert joined.shape == (height, 5, 3) and joined.dtype == np.uint8
        one_shot = lab.lab_to_uint8(np.concatenate([lab_strips[..., :1], ab], axis=-1))
        # OpenCV's join: lab_to_uint8's bytes but for float32 round-off at half levels
        assert np.abs(joined.astype(int) - one_shot).max() <= (1 if join is join_in_strips else 0)


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    """A real photo, 600 x 512 (uint8): Grace Hopper, with dark and saturated parts."""
    (path,) = [p for p in sample_dataset().paths("test") if p.name == "grace_hopper.jpg"]
    return read_rgb(path)


@pytest.mark.parametrize("rows", [1, 7, 64, 10_000])
def test_fast_strips_give_the_one_piece_result(photo, rows):
    """Strips of any height, converted two at a time, give what the whole photo does in one piece
    (each strip takes the dark path only if it has near-black pixels, which must not matter)."""
    darker = (photo // 3).astype(np.uint8)  # most strips near black somewhere, some not
    whole_l = fast_lab.lightness(darker)
    strips_l = predict.lightness_in_strips(darker, rows=rows)
    np.testing.assert_allclose(strips_l, whole_l, rtol=0, atol=1e-4)

    ab = np.random.default_rng(rows).uniform(-90, 90, (24, 16, 2)).astype(np.float32)
    full_ab = ModelColorizer.upsample(ab, whole_l.shape)
    whole = fast_lab.lab_to_srgb8(whole_l, full_ab)
    np.testing.assert_array_equal(join_in_strips(whole_l, full_ab, rows=rows), whole)
    fused = predict.join_upsampled_in_strips(whole_l, ab, rows=rows)  # ab upsampled strip by strip
    assert np.abs(fused.astype(int) - whole).max() <= 1
    assert (fused != whole).any(axis=-1).mean() < 1e-3


def test_fast_lightness_and_join_match_the_tensorflow_path_on_a_real_photo(photo):
    """sRGB -> L within 1e-4 of lab.lightness; L + ab -> sRGB lab_to_uint8's bytes to one level on
    a few pixels in 10,000; and the photo's own L and ab give the photo back (the round trip)."""
    lightness = predict.lightness_in_strips(photo)
    assert lightness.dtype == np.float32 and lightness.shape == photo.shape[:2]
    np.testing.assert_allclose(lightness, predict.lightness_reference(photo), rtol=0, atol=1e-4)

    ab = lab_in_strips(photo)[..., 1:]
    joined = join_in_strips(lightness, ab)
    difference = np.abs(joined.astype(int) - predict.join_reference(lightness, ab))
    assert difference.max() <= 1 and (difference > 0).any(axis=-1).mean() < 1e-3
    assert np.abs(joined.astype(int) - photo).max() <= 1  # the photo, to the rounding of its Lab
    back = predict.lightness_in_strips(joined)
    assert np.abs(back - lightness).max() <= 0.5  # one 8-bit level moves L by at most ~0.4


def test_float_photos_take_the_tensorflow_lightness():
    rgb = np.random.default_rng(5).uniform(0, 1, (9, 11, 3))
    np.testing.assert_allclose(predict.lightness_in_strips(rgb), np.asarray(lab.lightness(rgb)), atol=1e-4)


def test_strip_upsampler_is_tensorflows_bilinear_resize():
    rng = np.random.default_rng(6)
    for small_shape, shape in [((72, 96), (3000, 4000)), ((7, 5), (123, 77)), ((4, 4), (4, 4)), ((1, 3), (10, 31)),
                               ((64, 96), (321, 481))]:
        small = rng.uniform(-100, 100, (*small_shape, 2)).astype(np.float32)
        upsampler = fast_lab.StripUpsampler(small, shape)
        rows = np.concatenate([upsampler.rows(top, min(top + 50, shape[0])).copy() for top in range(0, shape[0], 50)])
        # TensorFlow places a pixel's source in float32, OpenCV in float64: ~1e-5 of a pixel, times
        # up to 200 Lab units per pixel between these random neighbours (a photo's ab: ~1e-4)
        np.testing.assert_allclose(rows, ModelColorizer.upsample(small, shape), rtol=0, atol=5e-3)


@pytest.mark.parametrize("shape, size", [((3000, 4000), (72, 96)), ((123, 77), (96, 64)), ((321, 481), (64, 96)),
                                         ((7, 3000), (1, 96)), ((96, 96), (96, 96)), ((5, 3), (1, 1))])
def test_area_shrink_is_tensorflows_area_resize(shape, size):
    image = np.random.default_rng(shape[0]).uniform(0, 100, shape).astype(np.float32)
    expected = tf.image.resize(image[None, ..., None], size, method="area", antialias=True)[0, ..., 0]
    ours = fast_lab.shrink(fast_lab.shrink(image, size[1], axis=1), size[0], axis=0)
    assert ours.shape == size
    np.testing.assert_allclose(ours, np.asarray(expected), rtol=0, atol=1e-3)


def test_colorize_photo_gives_the_old_paths_picture(photo, small_unet):
    """The whole path (L shrunk while converted, ab upsampled strip by strip) against the
    TensorFlow one it replaced: the same picture but for one level on a few pixels in 10,000."""
    colorizer = ModelColorizer(small_unet, work_side=96)
    new = colorize_photo(colorizer, photo)
    old = predict.colorize_photo_reference(colorizer, photo)
    assert new.shape == photo.shape and new.dtype == np.uint8
    difference = np.abs(new.astype(int) - old)
    assert difference.max() <= 1 and (difference > 0).any(axis=-1).mean() < 1e-3
    assert not np.array_equal(new, photo)


def test_colorize_photo_uses_a_colorizers_own_call():
    """A subclass that changes ModelColorizer's ab (its __call__) is not bypassed by the fast path."""
    class Constant(ModelColorizer):
        def __call__(self, lightness):
            return np.full(lightness.shape + (2,), 30.0, np.float32)

    colorizer = Constant(_one_by_one_model(kernel=0.0, bias=0.0), work_side=16)
    picture = colorize_photo(colorizer, np.full((20, 30, 3), 128, np.uint8))
    assert picture[..., 0].mean() > picture[..., 2].mean() + 20  # a = b = 30: warm, not the model's gray


# --- memory on a 12-megapixel photo -----------------------------------------------------------------

MEMORY_SCRIPT = textwrap.dedent("""
    import json
    import resource

    import numpy as np

    from colorize import models
    from colorize.predict import ModelColorizer, colorize_photo

    def peak_mib():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux

    def status_mib(field):
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith(field + ":")) / 1024

    colorizer = ModelColorizer(models.build("unet", base_filters=4, depth=3), work_side=96)
    rng = np.random.default_rng(0)
    colorize_photo(colorizer, rng.integers(0, 256, (300, 400, 3), dtype=np.uint8))  # warm-up, same network size
    # 4000 x 3000, a smooth gradient with noise (its content does not change the memory needed)
    rows = np.linspace(0, 200, 3000, dtype=np.float32)[:, None, None]
    columns = np.linspace(0, 50, 4000, dtype=np.float32)[None, :, None]
    photo = (rows + columns + np.array([0, 20, -10], np.float32)).clip(0, 255).astype(np.uint8)
    photo += rng.integers(0, 5, photo.shape, dtype=np.uint8)
    before, rss_before = peak_mib(), status_mib("VmRSS")
    try:  # a second measure: reset this process's own high-water mark (Linux >= 4.0)
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        pass
    colorized = colorize_photo(colorizer, photo)
    after = peak_mib()
    print(json.dumps({"before_mib": before, "after_mib": after, "growth_mib": after - before,
                      "rss_before_mib": rss_before, "hwm_growth_mib": status_mib("VmHWM") - rss_before,
                      "shape": list(colorized.shape), "dtype": str(colorized.dtype),
                      "photo_mib": photo.nbytes / 2**20}))
""")


def test_a_12_megapixel_photo_needs_less_than_2_gib():
    # A child spawned straight from pytest starts with ru_maxrss = pytest's own peak (Linux copies the
    # parent's high-water mark into the child at exec after vfork), which would hide the growth.
    # Through a shell that forks (the command is not its last), the child's ru_maxrss is its own.
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    done = subprocess.run(["/bin/sh", "-c", '"$0" -c "$1"; exit $?', sys.executable, MEMORY_SCRIPT],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["shape"] == [3000, 4000, 3] and result["dtype"] == "uint8"
    assert result["before_mib"] < result["rss_before_mib"] + 1024, "ru_maxrss was inherited, not this process's"
    growth = result["growth_mib"]
    message = (f"colorizing a 4000x3000 photo raised peak RSS (ru_maxrss) by {growth:.0f} MiB, from "
               f"{result['before_mib']:.0f} to {result['after_mib']:.0f} MiB (own high-water mark: "
               f"+{result['hwm_growth_mib']:.0f} MiB over the {result['rss_before_mib']:.0f} MiB resident before)")
    assert growth < 2048, message
    assert result["hwm_growth_mib"] < 2048, message
    print(message)
