"""Reading image files of any common kind into 8-bit sRGB arrays, the way a viewer shows them.

Why not ``tf.io.decode_image``: it ignores EXIF orientation (phone photos come out sideways),
cannot read TIFF, and treats palette and 16-bit files differently from every viewer. Pillow gets
all of these right; files are decoded once, outside the training loop.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

#: File endings the course reads (compared case-insensitively).
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp")


class UnreadableImage(ValueError):
    """A file that is not a readable image (corrupt, truncated, or not an image at all)."""


def is_image_name(path: Path) -> bool:
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


def _to_8bit(array: np.ndarray) -> np.ndarray:
    """16-bit (or 32-bit integer) samples to 8-bit by their full range, not by truncation."""
    if array.dtype == np.uint8:
        return array
    if array.dtype == np.uint16 or array.dtype.kind in "iu":
        return np.round(array.astype(np.float64) / 65535.0 * 255.0).clip(0, 255).astype(np.uint8)
    if array.dtype.kind == "f":
        scale = 255.0 if array.max(initial=0.0) <= 1.0 else 1.0
        return np.round(array * scale).clip(0, 255).astype(np.uint8)
    if array.dtype == bool:
        return array.astype(np.uint8) * 255
    raise UnreadableImage(f"unsupported sample type {array.dtype}")


def _flatten_alpha(rgba: Image.Image, background=(255, 255, 255)) -> Image.Image:
    """Composite over white: transparent areas of a photo read as paper, not as black."""
    base = Image.new("RGBA", rgba.size, background + (255,))
    return Image.alpha_composite(base, rgba.convert("RGBA")).convert("RGB")


def _pillow_to_rgb(image: Image.Image, flatten_alpha: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
    """A Pillow image in any mode -> (uint8 RGB, uint8 alpha or None)."""
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        gray = _to_8bit(np.asarray(image))
        return np.repeat(gray[..., None], 3, axis=-1), None
    if mode == "F":
        gray = _to_8bit(np.asarray(image, dtype=np.float32))
        return np.repeat(gray[..., None], 3, axis=-1), None
    has_alpha = mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in image.info)
    if has_alpha:
        rgba = image.convert("RGBA")
        alpha = np.asarray(rgba)[..., 3].copy()
        return np.asarray(_flatten_alpha(rgba) if flatten_alpha else rgba.convert("RGB")), alpha
    return np.asarray(image if mode == "RGB" else image.convert("RGB")), None  # convert() copies even an RGB image


def _read_with_tifffile(path: Path, flatten_alpha: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
    """TIFFs Pillow cannot read properly (16-bit colour, 16-bit gray with alpha...) through
    tifffile (ships with scikit-image): (uint8 RGB, uint8 alpha or None), as :func:`read_image`."""
    import tifffile

    array = np.asarray(tifffile.imread(path))
    if array.ndim == 3 and array.shape[0] in (2, 3, 4) and array.shape[-1] not in (2, 3, 4):
        array = np.moveaxis(array, 0, -1)  # planar samples (one plane per channel)
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3 or array.shape[-1] not in (1, 2, 3, 4):
        raise UnreadableImage(f"{path}: unsupported TIFF layout {array.shape}")
    samples = _to_8bit(array)
    colour = samples[..., :1].repeat(3, axis=-1) if samples.shape[-1] in (1, 2) else samples[..., :3]
    alpha = samples[..., -1] if samples.shape[-1] in (2, 4) else None
    if alpha is not None and flatten_alpha:
        colour, alpha = np.asarray(_flatten_alpha(Image.fromarray(np.dstack([colour, alpha])))), None
    return np.ascontiguousarray(colour), alpha


def _is_16bit_colour_tiff(image: Image.Image) -> bool:
    """Pillow opens 16-bit colour TIFFs by keeping only the high byte; tifffile scales properly."""
    if image.format != "TIFF" or image.mode not in ("RGB", "RGBA"):
        return False
    bits = getattr(image, "tag_v2", {}).get(258, (8,))
    return max(bits if isinstance(bits, tuple) else (bits,)) > 8


def read_image(path: str | Path, flatten_alpha: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
    """Read ``path`` as (uint8 RGB ``[H, W, 3]``, uint8 alpha ``[H, W]`` or None).

    EXIF orientation is applied, palettes are expanded, grayscale becomes three equal channels,
    16-bit samples are scaled to 8 bits. Raises :class:`UnreadableImage` for anything else.
    ``flatten_alpha``: RGB composited over white (as a viewer shows it), else the stored colours
    under the alpha (what to colorize when the alpha is kept).
    """
    path = Path(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                if _is_16bit_colour_tiff(image):
                    return _read_with_tifffile(path, flatten_alpha)
                image.load()
                # in place: without an orientation to undo, a copy of the photo (~0.03 s at 12 MP) for nothing
                ImageOps.exif_transpose(image, in_place=True)
                rgb, alpha = _pillow_to_rgb(image, flatten_alpha)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        if path.suffix.lower() in (".tif", ".tiff") and path.is_file():
            try:
                return _read_with_tifffile(path, flatten_alpha)
            except Exception:  # noqa: BLE001 - not a TIFF tifffile can read either: Pillow's reason below
                pass
        raise UnreadableImage(f"{path}: not a readable image ({error.__class__.__name__}: {error})") from None
    if rgb.ndim != 3 or rgb.shape[0] < 1 or rgb.shape[1] < 1:
        raise UnreadableImage(f"{path}: empty image")
    return np.ascontiguousarray(rgb), alpha


def read_rgb(path: str | Path) -> np.ndarray:
    """Read ``path`` as uint8 sRGB ``[H, W, 3]`` (transparency flattened onto white)."""
    return read_image(path)[0]


def fit_within(rgb: np.ndarray, max_side: int | None) -> np.ndarray:
    """Downscale (never upscale) so the longer side is at most ``max_side``; area-averaging."""
    if max_side is None or max(rgb.shape[:2]) <= max_side:
        return rgb
    height, width = rgb.shape[:2]
    scale = max_side / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.BOX))
