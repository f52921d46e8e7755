"""Colour hints a user gives the ``colorize`` command, read and checked before any work.

* ``--hints hints.json``: a list of points ``{"x": 120, "y": 45, "color": "#a0522d"}`` in the
  photo's pixel coordinates (0-based, x to the right, y down), each optionally with ``"size"``, the
  side of the square it colours (default :data:`DEFAULT_SIZE` px), centred on the point;
* ``--hints-image marks.png``: an image the size of the photo whose non-transparent pixels are
  hints, as a user paints them on a layer in any image editor.

Every problem is a :class:`colorize.config.ColorizeError` with one line that says what to fix.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from colorize.config import ColorizeError
from colorize.data.hints import HintPoint

#: Side of the square a JSON point colours, in the photo's pixels, when it gives no ``size``.
DEFAULT_SIZE = 5
_HEX = re.compile(r"^#?([0-9a-fA-F]{6})$")


def _ab_of(rgb: np.ndarray) -> np.ndarray:
    """ab (Lab units) of sRGB colours ``[N, 3]`` in 0..255."""
    from colorize import lab

    return np.asarray(lab.rgb_to_lab(np.asarray(rgb, np.float32)[None] / 255.0))[0][..., 1:]


def _color(value, where: str) -> tuple[int, int, int]:
    match = _HEX.match(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise ColorizeError(f"{where}: colour {value!r} is not #rrggbb (e.g. \"#a0522d\")")
    digits = match.group(1)
    return tuple(int(digits[i: i + 2], 16) for i in (0, 2, 4))


def read_hints_json(path: Path | str, width: int, height: int) -> list[HintPoint]:
    """The points of a hints file for a ``width`` x ``height`` photo."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ColorizeError(f"--hints {path}: no such file") from None
    except UnicodeDecodeError as error:
        raise ColorizeError(f"--hints {path}: not valid JSON ({error.__class__.__name__}); expected a list like "
                            "[{\"x\": 10, \"y\": 20, \"color\": \"#a0522d\"}]") from None
    return hints_from_json_text(text, width, height, source=f"--hints {path}")


def hints_from_json_text(text: str, width: int, height: int, source: str = "hints") -> list[HintPoint]:
    """The points of a JSON text (as in a hints file, or the web API's ``hints`` field) for a
    ``width`` x ``height`` photo; ``source`` starts each error line (which file or field)."""
    try:
        points = json.loads(text)
    except json.JSONDecodeError as error:
        raise ColorizeError(f"{source}: not valid JSON ({error.__class__.__name__}: "
                            f"{str(error).splitlines()[0][:120]}); expected a list like "
                            "[{\"x\": 10, \"y\": 20, \"color\": \"#a0522d\"}]") from None
    if not isinstance(points, list):
        raise ColorizeError(f"{source}: expected a list of points, got a JSON {type(points).__name__}")
    colours, places = [], []
    for number, point in enumerate(points, start=1):
        where = f"{source}, point {number}"
        if not isinstance(point, dict) or not {"x", "y", "color"} <= set(point):
            raise ColorizeError(f"{where}: needs \"x\", \"y\" and \"color\" (and may have \"size\")")
        unknown = set(point) - {"x", "y", "color", "size"}
        if unknown:
            raise ColorizeError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}; use x, y, color, size")
        numbers = {key: point[key] for key in ("x", "y", "size") if key in point}
        if any(isinstance(value, bool) or not isinstance(value, (int, float)) for value in numbers.values()):
            raise ColorizeError(f"{where}: x, y and size must be numbers (pixels)")
        x, y, size = int(point["x"]), int(point["y"]), int(point.get("size", DEFAULT_SIZE))
        if not (0 <= x < width and 0 <= y < height):
            raise ColorizeError(f"{where}: ({x}, {y}) is outside the photo ({width} x {height} pixels, "
                                f"x 0..{width - 1}, y 0..{height - 1})")
        if size < 1:
            raise ColorizeError(f"{where}: size {size} must be at least 1 pixel")
        colours.append(_color(point["color"], where))
        first_col, first_row = x - size // 2, y - size // 2  # the square centred on the point
        left, top = max(0, first_col), max(0, first_row)
        # clipped by the photo's edges, it stays a square: the smaller of its two clipped sides
        places.append((left, top, min(min(first_col + size, width) - left, min(first_row + size, height) - top)))
    ab = _ab_of(np.array(colours, np.float32).reshape(-1, 3)) if colours else np.zeros((0, 2))
    return [HintPoint(x=left, y=top, size=size, a=float(a), b=float(b)) for (left, top, size), (a, b) in zip(places, ab)]


def read_hints_image(path: Path | str, width: int, height: int) -> list[HintPoint]:
    """One 1-pixel hint per non-transparent pixel of a marks image the photo's size."""
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    try:
        with Image.open(path) as image:
            size, has_alpha = image.size, image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
            marks = np.asarray(image.convert("RGBA"))
    except FileNotFoundError:
        raise ColorizeError(f"--hints-image {path}: no such file") from None
    except (UnidentifiedImageError, OSError) as error:
        raise ColorizeError(f"--hints-image {path}: not a readable image ({error.__class__.__name__})") from None
    if size != (width, height):
        raise ColorizeError(f"--hints-image {path}: {size[0]} x {size[1]} pixels, but the photo is {width} x {height}; "
                            "paint the hints on a layer the photo's size")
    if not has_alpha:
        raise ColorizeError(f"--hints-image {path}: has no transparency, so every pixel would be a hint; save the "
                            "marks on a transparent layer (PNG with alpha)")
    rows, cols = np.nonzero(marks[..., 3] > 0)
    ab = _ab_of(marks[rows, cols, :3].astype(np.float32)) if len(rows) else np.zeros((0, 2))
    return [HintPoint(x=int(col), y=int(row), size=1, a=float(a), b=float(b)) for row, col, (a, b) in zip(rows, cols, ab)]
