"""Changing resolution the colorization way: sharp L from the photo, smooth ab from a model.

Colour is perceived at a much lower spatial resolution than lightness, so ab can be predicted
small and upsampled while L keeps every detail of the original. Lesson 02 measures why that
works; full-resolution prediction uses the same two functions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import tensorflow as tf

from colorize import lab, metrics
from colorize.data.images import fit_within, read_rgb


def resize(array: np.ndarray, height: int, width: int, method: str = "bilinear") -> np.ndarray:
    """Resize a float ``[H, W, C]`` array (``method="area"`` to shrink without aliasing)."""
    return np.asarray(tf.image.resize(np.asarray(array, dtype=np.float32), (height, width), method=method))


def shrink_and_restore(array: np.ndarray, factor: int) -> np.ndarray:
    """Downscale by ``factor`` (area average) and upscale back (bilinear): detail finer than
    ``factor`` pixels is gone, as in a network's low-resolution output."""
    height, width = array.shape[:2]
    small = resize(array, max(1, height // factor), max(1, width // factor), method="area")
    return resize(small, height, width)


def with_lowres_ab(rgb: np.ndarray, factor: int) -> np.ndarray:
    """The photo with its own sharp L and its ab at 1/``factor`` resolution (uint8 sRGB)."""
    photo_lab = np.asarray(lab.rgb_to_lab(rgb), dtype=np.float32)
    ab = shrink_and_restore(photo_lab[..., 1:], factor)
    return lab.lab_to_uint8(np.concatenate([photo_lab[..., :1], ab], axis=-1))


def with_lowres_rgb(rgb: np.ndarray, factor: int) -> np.ndarray:
    """The photo with all three RGB channels at 1/``factor`` resolution (uint8 sRGB)."""
    restored = shrink_and_restore(rgb.astype(np.float32), factor)
    return np.round(restored).clip(0, 255).astype(np.uint8)


def compare_lowres(photos, factors=(2, 4, 8, 16), max_side: int | None = None) -> pd.DataFrame:
    """PSNR and SSIM of 'low-res ab + sharp L' against 'low-res RGB', per photo and factor."""
    rows = []
    for path in photos:
        truth = fit_within(read_rgb(path), max_side)
        for factor in factors:
            for kind, rebuild in (("ab only (L kept)", with_lowres_ab), ("RGB", with_lowres_rgb)):
                rebuilt = rebuild(truth, factor)
                rows.append({"photo": path.name, "factor": factor, "low resolution": kind,
                             "psnr": metrics.psnr(truth, rebuilt), "ssim": metrics.ssim(truth, rebuilt)})
    return pd.DataFrame(rows)


def rgb_at_size(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The photo's own RGB shrunk to ``size`` (height, width; area average) and upsampled back
    (bilinear), uint8: what a *perfect* RGB network working at that size would deliver."""
    small = resize(rgb.astype(np.float32), *size, method="area")
    restored = resize(small, *rgb.shape[:2])
    return np.round(restored).clip(0, 255).astype(np.uint8)


def rgb_output_detail(colorizer, photos, max_side: int | None = None, keep_pictures: bool = False):
    """Where an RGB-output network's blur comes from, per photo: the picture it draws (at its
    working size, upsampled), the photo's own RGB at that working size upsampled
    (:func:`rgb_at_size`), and the network's colour on the photo's own L. For each: PSNR and
    SSIM against the photo, and ``l_mse``, the mean squared error of lightness L (how much
    detail is lost). ``share_of_l_error``: the working size's L error over the network's.

    Returns the table, or with ``keep_pictures`` ``(table, rows)`` with rows ``(photo name, truth,
    {kind: picture})`` for :func:`colorize.plots.colorization_gallery`."""
    from colorize.predict import colorize_photo, lightness_in_strips

    rows, kept = [], []
    for path in photos:
        truth = fit_within(read_rgb(path), max_side)
        size = colorizer.input_size(*truth.shape[:2])
        lightness = lightness_in_strips(truth)
        pictures = {"RGB as predicted": colorizer.network_rgb(truth),
                    "true RGB at the working size": rgb_at_size(truth, size),
                    "its ab + the photo's L": colorize_photo(colorizer, truth)}
        row = {"photo": path.name, "working size": f"{size[1]}x{size[0]}"}
        for name, picture in pictures.items():
            row[f"psnr: {name}"] = metrics.psnr(truth, picture)
            row[f"ssim: {name}"] = metrics.ssim(truth, picture)
            row[f"l_mse: {name}"] = float(np.mean((lightness_in_strips(picture) - lightness) ** 2))
        row["share_of_l_error"] = row["l_mse: true RGB at the working size"] / row["l_mse: RGB as predicted"]
        rows.append(row)
        if keep_pictures:
            kept.append((path.name, truth, pictures))
    return (pd.DataFrame(rows), kept) if keep_pictures else pd.DataFrame(rows)
