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
