"""A user's photo files in and colorized files out, for the ``colorize`` command.

What a user hands over is never changed: every result is a new file under the output folder,
written to a temporary name first and renamed into place, so an interrupted run leaves no
half-written picture. Each refusal (not an image, too small, too large, output exists) is a
:class:`PhotoProblem` whose message is the one line the command prints for that file.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from colorize.config import ColorizeError
from colorize.data.images import UnreadableImage, is_image_name, read_image

#: Photos above this are refused: memory grows with pixels (~25 MB per megapixel at peak), and
#: the network only sees ~0.01 MP anyway, so downscaling first loses nothing.
MAX_MEGAPIXELS = 50.0
#: Below this a photo has no structure for the network to read.
MIN_SIDE = 8
#: JPEG quality of colorized JPEG photos (visually lossless; the input's own compression stays).
JPEG_QUALITY = 95
EXIF_ORIENTATION = 0x0112


class PhotoProblem(ColorizeError):
    """Why one photo was not colorized, in one line."""


@dataclass(frozen=True)
class Job:
    """One photo to colorize: where it is, where its result goes, or why it cannot be done."""

    source: Path
    target: Path | None
    problem: str | None = None


@dataclass
class Photo:
    rgb: np.ndarray  # uint8 [H, W, 3], upright (EXIF orientation applied)
    alpha: np.ndarray | None  # uint8 [H, W] or None
    exif: bytes | None  # the original EXIF, orientation tag removed (the pixels are upright now)


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def plan_jobs(inputs: list[str | Path], out_dir: str | Path) -> list[Job]:
    """Every photo named by ``inputs`` (files, or folders searched recursively) with its output
    path: ``OUT/<file name>`` for a file, ``OUT/<folder name>/<path inside it>`` for a folder.

    Nothing is read or written here. Files in ``out_dir`` itself are never inputs (a second run
    would otherwise colorize its own results), and non-image files inside folders are ignored.
    """
    out_dir = Path(out_dir).expanduser().resolve()
    jobs: list[Job] = []
    claimed: dict[Path, Path] = {}

    def add(source: Path, target: Path) -> None:
        resolved = source.resolve()
        if target == resolved:
            jobs.append(Job(source, None, "the output would replace the input itself; choose another --out"))
        elif target in claimed:
            jobs.append(Job(source, None, f"another input ({claimed[target]}) has the same output name {target}"))
        else:
            claimed[target] = source
            jobs.append(Job(source, target))

    for given in map(Path, inputs):
        path = given.expanduser()
        if path.is_dir():
            folder = path.resolve()
            photos = sorted(p for p in folder.rglob("*") if p.is_file() and is_image_name(p)
                            and not _inside(p.resolve(), out_dir))
            if not photos:
                jobs.append(Job(given, None, "folder holds no photos (.jpg .jpeg .png .tif .tiff .bmp)"))
            for photo in photos:
                add(photo, out_dir / folder.name / photo.relative_to(folder))
        elif path.is_file():
            if not is_image_name(path):
                jobs.append(Job(given, None, "not a photo file name (use .jpg .jpeg .png .tif .tiff .bmp)"))
            else:
                add(path, out_dir / path.name)
        elif path.exists() or path.is_symlink():
            jobs.append(Job(given, None, "not a readable file or folder"))
        else:
            jobs.append(Job(given, None, "no such file or folder"))
    return jobs


def _check_size(width: int, height: int) -> None:
    if min(width, height) < MIN_SIDE:
        raise PhotoProblem(f"too small ({width}x{height} px): a photo needs at least {MIN_SIDE} px per side")
    megapixels = width * height / 1e6
    if megapixels > MAX_MEGAPIXELS:
        raise PhotoProblem(f"too large ({width}x{height} px = {megapixels:.0f} MP): the colorizer takes up to "
                           f"{MAX_MEGAPIXELS:.0f} MP, so downscale it first (the network sees ~0.01 MP anyway)")


def _exif_without_orientation(image: Image.Image) -> bytes | None:
    exif = image.getexif()
    if not exif:
        return None
    exif.pop(EXIF_ORIENTATION, None)
    return exif.tobytes()


def read_photo(path: Path) -> Photo:
    """A user's photo, checked before it is decoded (size from the header), as upright RGB."""
    exif = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as header:
                _check_size(*header.size)
                exif = _exif_without_orientation(header)
    except PhotoProblem:
        raise
    except Image.DecompressionBombError:
        raise PhotoProblem(f"too large: over {MAX_MEGAPIXELS:.0f} MP; downscale it first") from None
    except PermissionError:
        raise PhotoProblem("cannot be read (permission denied)") from None
    except Exception:  # noqa: BLE001 - read_image below gives the precise reason (or reads it via tifffile)
        pass
    try:
        rgb, alpha = read_image(path, flatten_alpha=False)  # the alpha is written back unchanged
    except UnreadableImage as error:
        reason = str(error).removeprefix(f"{path}: ")
        raise PhotoProblem(f"{reason} - is the file complete and really a photo?") from None
    _check_size(rgb.shape[1], rgb.shape[0])
    return Photo(rgb, alpha, exif)


def write_photo(rgb: np.ndarray, alpha: np.ndarray | None, target: Path, exif: bytes | None = None,
                overwrite: bool = False) -> Path:
    """Write a colorized photo in the format its name says, keeping alpha where the format can.

    Written to a temporary file beside ``target`` and renamed, so ``target`` is either the old
    file or the complete new one; an existing ``target`` is kept unless ``overwrite``.
    """
    if target.exists() and not overwrite:
        raise PhotoProblem(f"{target} exists; pass --overwrite to replace it")
    target.parent.mkdir(parents=True, exist_ok=True)
    suffix = target.suffix.lower()
    image = Image.fromarray(rgb)
    if alpha is not None and suffix not in (".jpg", ".jpeg"):
        image = Image.fromarray(np.dstack([rgb, alpha]))  # H x W x 4 uint8 is RGBA
    options: dict = {"format": {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".tif": "TIFF", ".tiff": "TIFF",
                                ".bmp": "BMP"}[suffix]}
    if options["format"] == "JPEG":
        options["quality"] = JPEG_QUALITY
    if exif and options["format"] in ("JPEG", "PNG", "TIFF"):
        options["exif"] = exif
    handle, temporary = tempfile.mkstemp(prefix=".colorizing-", suffix=target.suffix, dir=target.parent)
    os.close(handle)
    try:
        image.save(temporary, **options)
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return target
