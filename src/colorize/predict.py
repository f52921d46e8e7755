"""Colorizing photos of any size with a trained model: L kept sharp, ab predicted small.

A photo's L is shrunk so its longer side is the model's ``work_side`` (the scale it was trained
at) and each side a multiple of the model's stride; the model predicts ab there; ab is upsampled
back to the photo's size and joined with the photo's own, full-resolution L (lesson 02 measured
that ab at 1/8 resolution costs almost nothing). Big photos are converted in strips of rows, so
a 12-megapixel photo needs a few hundred MB, not gigabytes.

The full-resolution work (8-bit sRGB -> L, shrinking L for the network, the bilinear ab, L + ab
-> 8-bit sRGB) is done by :mod:`colorize.fast_lab` (OpenCV) rather than by TensorFlow: the same
numbers to float32 round-off, ~4x faster (a 12 MP photo: 0.15 s instead of 0.57 s on a 2-core
EPYC). :func:`colorize_photo` upsamples ab strip by strip, so a photo's full-size float ab never
exists. The ``*_reference`` functions are the TensorFlow path they replace, kept for the tests
and ``make bench``; the lessons' scoring (:mod:`colorize.metrics`) still uses TensorFlow's.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

import numpy as np
import tensorflow as tf

from colorize import fast_lab, lab, models

if TYPE_CHECKING:
    import pandas

#: Rows converted at once by the TensorFlow conversions (:func:`lab_in_strips`, the references;
#: bounds memory for huge photos). The OpenCV ones use :data:`colorize.fast_lab.STRIP_ROWS`.
STRIP_ROWS = 512


def network_size(height: int, width: int, work_side: int, stride: int) -> tuple[int, int]:
    """The size L is given to a fully convolutional model at: longer side ~``work_side``, aspect
    kept, both sides multiples of ``stride`` (at least one stride)."""
    scale = work_side / max(height, width)
    return tuple(max(stride, int(round(side * scale / stride)) * stride) for side in (height, width))


class ModelColorizer:
    """A trained Keras model as a colorizer: L ``[H, W]`` (0..100) -> ab ``[H, W, 2]`` (Lab units).

    A hint network (:func:`colorize.models.takes_hints`) also gets ``hints``: a list of
    :class:`colorize.data.hints.HintPoint` in the photo's pixel coordinates (none: it colorizes
    automatically); :meth:`with_hints` gives the same model with other hints."""

    def __init__(self, model, work_side: int, temperature: float | None = None, hints=None):
        self.model = model
        self.work_side = int(work_side)
        self.temperature = temperature
        self.fixed_size = models.fixed_input_size(model)
        self.stride = models.stride(model)
        self.output = models.output_kind(model)
        self.takes_hints = models.takes_hints(model)
        self.hints = self._checked(hints)
        self._compiled = [None]  # shared with the copies of with_hints: one graph for all of them

    def _checked(self, hints) -> list:
        hints = list(hints or [])
        if hints and not self.takes_hints:
            raise ValueError("this model takes no colour hints: train a hint network (models.build('hint_unet')) to use them")
        return hints

    def with_hints(self, hints) -> "ModelColorizer":
        """This colorizer with other hints (same model, same compiled graph)."""
        other = copy.copy(self)
        other.hints = self._checked(hints)
        return other

    def _forward(self, inputs):
        # The first photo runs eagerly: tracing a graph (~1 s) would cost more than it saves for
        # one photo (the command line). Scoring calls it hundreds of times, and eager Keras
        # dispatches every layer from Python (~60 ms for a U-Net on a 96-pixel L, ~6x its
        # arithmetic), so from the second call on one compiled graph serves every photo size.
        if self._compiled[0] is None:
            side = self.fixed_size  # None for fully convolutional models: any height and width
            spec = tf.TensorSpec([1, side, side, self.model.input_shape[-1]], tf.float32)
            self._compiled[0] = tf.function(lambda x: self.model(x, training=False), input_signature=[spec])
            return self.model(inputs, training=False)
        return self._compiled[0](tf.cast(inputs, tf.float32))

    def input_size(self, height: int, width: int) -> tuple[int, int]:
        if self.fixed_size:  # dense layers: one fixed square, the photo is squeezed into it
            return self.fixed_size, self.fixed_size
        return network_size(height, width, self.work_side, self.stride)

    def _network_output(self, lightness: np.ndarray, small_l: np.ndarray | None = None) -> tf.Tensor:
        """The model's raw output for a photo's L, shrunk to the network's input size (``small_l``:
        already shrunk, ``[*input_size]``)."""
        size = self.input_size(*lightness.shape)
        if small_l is None:
            small_l = tf.image.resize(np.asarray(lightness, np.float32)[None, ..., None], size, method="area",
                                      antialias=True)
        else:
            if tuple(small_l.shape) != tuple(size):
                raise ValueError(f"small_l must be the network's input size {size}, got {small_l.shape}")
            small_l = tf.convert_to_tensor(np.asarray(small_l, np.float32)[None, ..., None])
        inputs = lab.normalize_l(small_l)
        if self.takes_hints:
            from colorize.data.hints import render_points

            scale = (size[0] / lightness.shape[0], size[1] / lightness.shape[1])
            hint_ab, mask = render_points(self.hints, *size, scale=scale)
            inputs = tf.concat([inputs, lab.normalize_ab(hint_ab)[None], mask[None]], axis=-1)
        return self._forward(inputs)[0]

    def network_output(self, lightness: np.ndarray) -> np.ndarray:
        """The model's raw output for a photo's L at the network's size: normalised ab, sRGB, or
        (a distribution model) the probability of each ab bin per pixel ``[h, w, bins]``."""
        return np.asarray(self._network_output(lightness))

    def small_ab(self, lightness: np.ndarray, small_l: np.ndarray | None = None) -> np.ndarray:
        """ab in Lab units at the network's size (before upsampling). ``small_l``: the photo's L
        already shrunk to :meth:`input_size` (:func:`colorize_photo` shrinks it with OpenCV while
        converting the photo); None: shrunk here by TensorFlow's area resize, as the lessons score."""
        output = self._network_output(lightness, small_l)
        if self.output == "rgb":  # the seeds' RGB baseline: keep only the colour of what it drew
            return np.asarray(lab.rgb_to_lab(tf.clip_by_value(output, 0.0, 1.0)))[..., 1:]
        if self.output == "distribution":  # Zhang et al.: one colour from the distribution
            from colorize import classification

            temperature = classification.T_DEFAULT if self.temperature is None else self.temperature
            return np.asarray(classification.annealed_mean(output, classification.ab_bins(), temperature))
        return np.asarray(lab.denormalize_ab(output))

    def network_rgb(self, rgb: np.ndarray) -> np.ndarray:
        """What an RGB-output network itself draws, upsampled to the photo's size, L *not* kept
        (uint8): how seed 001 saw its baseline's output."""
        if self.output != "rgb":
            raise ValueError("network_rgb is for RGB-output models; ab models keep the photo's L")
        lightness = lightness_in_strips(rgb)
        output = tf.clip_by_value(self._network_output(lightness), 0.0, 1.0)
        full = tf.image.resize(output[None], lightness.shape, method="bilinear")[0]
        return np.asarray(tf.cast(tf.round(full * 255.0), tf.uint8))

    @staticmethod
    def upsample(small_ab: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
        """ab from the network's size (:meth:`small_ab`) to the photo's ``shape`` (bilinear).

        TensorFlow's, as the lessons score with it; :func:`colorize_photo` upsamples with
        :class:`colorize.fast_lab.StripUpsampler` instead (the same numbers to ~1e-4 Lab units on a
        photo's ab)."""
        return np.asarray(tf.image.resize(small_ab[None], shape, method="bilinear")[0], dtype=np.float32)

    def __call__(self, lightness: np.ndarray) -> np.ndarray:
        return self.upsample(self.small_ab(lightness), lightness.shape)


def _in_strips(convert, out: np.ndarray, *images: np.ndarray, rows: int | None = None) -> np.ndarray:
    """Fill ``out`` with ``convert`` applied to the same strip of rows of every image, so a
    12-megapixel photo's colour conversions never hold more than one strip's float tensors."""
    rows = rows or STRIP_ROWS
    for top in range(0, out.shape[0], rows):
        out[top:top + rows] = convert(*(image[top:top + rows] for image in images)).numpy()
    return out


def lab_in_strips(rgb: np.ndarray, rows: int | None = None) -> np.ndarray:
    """Lab (float32) of a uint8 photo, converted a strip of rows at a time."""
    return _in_strips(lab.rgb_to_lab_graph, np.empty(rgb.shape[:2] + (3,), np.float32), rgb, rows=rows)


def lightness_in_strips(rgb: np.ndarray, rows: int | None = None) -> np.ndarray:
    """L (float32, 0..100) of a uint8 photo, a strip of rows at a time (:func:`colorize.fast_lab.lightness`;
    other dtypes, which no photo file gives, go through :func:`lightness_reference`)."""
    return _lightness_and_shrunk(rgb, None, rows)[0]


def _lightness_and_shrunk(rgb: np.ndarray, size: tuple[int, int] | None, rows: int | None = None):
    """(L, L shrunk by area to ``size``, or None where ``size`` is None or enlarges a side): the
    shrinking's first, widthwise pass is done on each strip while its L is still in the cache."""
    rgb = np.asarray(rgb)
    if rgb.dtype != np.uint8:
        return lightness_reference(rgb, rows=rows), None
    height, width = rgb.shape[:2]
    shrink = size is not None and fast_lab.shrinks((height, width), size)
    lightness = np.empty((height, width), np.float32)
    narrow = np.empty((height, size[1]), np.float32) if shrink else None

    def work(top: int, stop: int) -> None:
        strip = fast_lab.lightness(rgb[top:stop], out=lightness[top:stop])
        if shrink:
            narrow[top:stop] = fast_lab.shrink(strip, size[1], axis=1)

    fast_lab.in_strips(work, height, rows)
    return lightness, fast_lab.shrink(narrow, size[0], axis=0) if shrink else None


def join_in_strips(lightness: np.ndarray, ab: np.ndarray, rows: int | None = None) -> np.ndarray:
    """uint8 sRGB from L ``[H, W]`` and ab ``[H, W, 2]``, a strip of rows at a time
    (:func:`colorize.fast_lab.lab_to_srgb8`)."""
    lightness, ab = _float32(lightness), _float32(ab)
    return _join(lightness, lambda top, stop: ab[top:stop], rows)


def join_upsampled_in_strips(lightness: np.ndarray, small_ab: np.ndarray, rows: int | None = None) -> np.ndarray:
    """:func:`join_in_strips` of L and ``small_ab`` upsampled bilinearly to L's size (as
    :meth:`ModelColorizer.upsample`, to ~1e-4 Lab units) one strip at a time: the full-size ab
    (96 MB for 12 MP) is never made."""
    lightness = _float32(lightness)
    return _join(lightness, fast_lab.StripUpsampler(small_ab, lightness.shape).rows, rows)


def _join(lightness: np.ndarray, ab_rows, rows: int | None) -> np.ndarray:
    out = np.empty(lightness.shape + (3,), np.uint8)

    def work(top: int, stop: int) -> None:
        fast_lab.lab_to_srgb8(lightness[top:stop], ab_rows(top, stop), out=out[top:stop])

    fast_lab.in_strips(work, lightness.shape[0], rows)
    return out


def _float32(array) -> np.ndarray:
    return np.ascontiguousarray(array, dtype=np.float32)


def _plain_model(colorizer) -> bool:
    """A :class:`ModelColorizer` whose ab is its :meth:`~ModelColorizer.small_ab` upsampled."""
    return isinstance(colorizer, ModelColorizer) and type(colorizer).__call__ is ModelColorizer.__call__


def colorize_photo(colorizer, rgb: np.ndarray) -> np.ndarray:
    """The colorized uint8 sRGB photo at full resolution: the photo's L, the colorizer's ab.

    For a :class:`ModelColorizer`, L is shrunk to the network's size while it is converted, and
    ab upsampled strip by strip as it is joined (:func:`join_upsampled_in_strips`)."""
    if not _plain_model(colorizer):
        lightness = lightness_in_strips(rgb)
        return join_in_strips(lightness, colorizer(lightness))
    lightness, small_l = _lightness_and_shrunk(rgb, colorizer.input_size(*np.shape(rgb)[:2]))
    return join_upsampled_in_strips(lightness, colorizer.small_ab(lightness, small_l=small_l))


# --- the TensorFlow path the functions above replace (tests, make bench) -------------------------


def lightness_reference(rgb: np.ndarray, rows: int | None = None) -> np.ndarray:
    """:func:`lightness_in_strips` with :func:`colorize.lab.lightness` (XLA-compiled TensorFlow)."""
    return _in_strips(lab.lightness_graph, np.empty(rgb.shape[:2], np.float32), rgb, rows=rows)


def join_reference(lightness: np.ndarray, ab: np.ndarray, rows: int | None = None) -> np.ndarray:
    """:func:`join_in_strips` with :func:`colorize.lab.lab_to_uint8` (XLA-compiled TensorFlow)."""
    return _in_strips(lab.join_to_uint8_graph, np.empty(lightness.shape + (3,), np.uint8), lightness, ab, rows=rows)


def colorize_photo_reference(colorizer, rgb: np.ndarray) -> np.ndarray:
    """:func:`colorize_photo` as it was before :mod:`colorize.fast_lab`: TensorFlow conversions, L
    shrunk by TensorFlow and a full-size ab (:meth:`ModelColorizer.__call__`)."""
    lightness = lightness_reference(rgb)
    return join_reference(lightness, colorizer(lightness))


def gallery_rows(colorizers: dict, paths, max_side: int | None = None,
                 captions: dict[str, "pandas.DataFrame"] | None = None) -> list[tuple]:
    """Rows for :func:`colorize.plots.colorization_gallery`: (photo name, truth, {model: picture}).

    ``captions``: per-image score tables by model (from :func:`colorize.metrics.score_models`);
    each picture is then captioned with its PSNR.
    """
    from colorize.data.images import fit_within, read_rgb

    rows = []
    for path in paths:
        truth = fit_within(read_rgb(path), max_side)
        pictures = {}
        for name, colorizer in colorizers.items():
            picture = colorize_photo(colorizer, truth)
            if captions is not None and name in captions:
                table = captions[name].set_index("photo")
                picture = (picture, f"PSNR {table.loc[path.name, 'psnr']:.1f} dB")
            pictures[name] = picture
        rows.append((path.name, truth, pictures))
    return rows


def realness_rows(discriminator, colorizers: dict, rgb: np.ndarray, work_side: int) -> list[tuple]:
    """For :func:`colorize.plots.realness_maps`: the photo and each colorizer's version of it at
    the working size, with the discriminator's per-patch probability that it is real."""
    from colorize.data.images import fit_within
    from colorize.models.gan import realness

    small = fit_within(rgb, work_side)
    pictures = {"ground truth": small, **{name: colorize_photo(c, small) for name, c in colorizers.items()}}
    rows = []
    for name, picture in pictures.items():
        picture_lab = lab_in_strips(picture)
        verdict = realness(discriminator, lab.normalize_l(picture_lab[..., :1]), lab.normalize_ab(picture_lab[..., 1:]))
        rows.append((name, picture, verdict))
    return rows


def best_worst_images(colorizers: dict, extremes: "pandas.DataFrame", paths, max_side: int | None = None
                      ) -> tuple[list[np.ndarray], list[str]]:
    """For :func:`colorize.plots.image_grid` with 4 columns: per model, its best and worst photo
    (from :func:`colorize.evaluation.extremes`), each as prediction then truth."""
    from pathlib import Path

    from colorize.data.images import fit_within, read_rgb

    by_name = {Path(path).name: path for path in paths}
    images, titles = [], []
    for row in extremes.itertuples():
        truth = fit_within(read_rgb(by_name[row.photo]), max_side)
        images += [colorize_photo(colorizers[row.model], truth), truth]
        titles += [f"{row.which}: {row.photo} ({row.psnr:.1f} dB)", "truth"]
    return images, titles
