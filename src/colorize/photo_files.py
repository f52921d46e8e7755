"""A user's photo files in and colorized files out, for the ``colorize`` command and the web server.

What a user hands over is never changed: every result is a new file under the output folder,
written by :mod:`colorize.results` (complete or absent, never replacing a file without
``overwrite``). Each refusal (not an image, too small, too large, output exists) is a
:class:`PhotoProblem` whose message is the one line the command prints for that file.

A result keeps what the source said about itself (its descriptive EXIF, its RGB colour profile)
and, with a :class:`colorize.provenance.Provenance`, says that a model painted its colours.
:func:`colorize_file` is the one path from a source file to a result: the command line and the
web server both call it, so both give the same bytes.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, PngImagePlugin, TiffTags

from colorize import results
from colorize.config import ColorizeError
from colorize.data.images import UnreadableImage, is_image_name, read_image
from colorize.provenance import SOFTWARE, Provenance

#: Photos above this are refused: memory grows with pixels (~25 MB per megapixel at peak), and
#: the network only sees ~0.01 MP anyway, so downscaling first loses nothing.
MAX_MEGAPIXELS = 50.0
#: Below this a photo has no structure for the network to read.
MIN_SIDE = 8
#: JPEG quality of colorized JPEG photos (visually lossless; the input's own compression stays).
JPEG_QUALITY = 95
EXIF_ORIENTATION = 0x0112
#: Tags that describe how the *source* file stores its pixels (a TIFF's sample layout,
#: photometric interpretation, strips, colour map, ICC profile...). A TIFF's own tags come back
#: from Pillow as its "EXIF"; carried into the new RGB file they would describe the old gray
#: pixels and make it unreadable, so the new file's structure comes from the new image alone.
STRUCTURAL_TAGS = frozenset({
    0x00FE, 0x00FF, 0x0100, 0x0101, 0x0102, 0x0103, 0x0106, 0x0107, 0x0108, 0x0109, 0x010A, 0x0111, EXIF_ORIENTATION,
    0x0115, 0x0116, 0x0117, 0x0118, 0x0119, 0x011C, 0x0122, 0x0123, 0x0124, 0x0125, 0x013D, 0x013E, 0x013F, 0x0140,
    0x0141, 0x0142, 0x0143, 0x0144, 0x0145, 0x014A, 0x014C, 0x0152, 0x0153, 0x0154, 0x0155, 0x015B, 0x0200,
    0x0201, 0x0202, 0x0203, 0x0205, 0x0206, 0x0207, 0x0208, 0x0209, 0x0211, 0x0212, 0x0213, 0x0214, 0x8773,
})
IMAGE_DESCRIPTION = 0x010E
#: Sub-directories of the EXIF block that hold descriptions (camera settings, GPS), kept as they are.
EXIF_SUB_IFDS = (0x8769, 0x8825)
#: TIFF's tag for an XMP packet.
TIFF_XMP = 700
#: The PNG text key that holds an XMP packet (an iTXt chunk).
PNG_XMP_KEY = "XML:com.adobe.xmp"
#: Formats whose files carry EXIF, an ICC profile and XMP; a BMP carries none of them.
WITH_METADATA = ("JPEG", "PNG", "TIFF")


BROKEN_LINK = "broken link (the file it points to is missing)"
VANISHED = "vanished before it could be read (moved or deleted during the run?)"


class PhotoProblem(ColorizeError):
    """Why one photo was not colorized, in one line."""


@dataclass(frozen=True)
class Job:
    """One photo to colorize: where it is, where its result goes, or why it cannot be done
    (``problem``: a failure; ``notice``: something left out on purpose, said but not a failure)."""

    source: Path
    target: Path | None
    problem: str | None = None
    notice: str | None = None


@dataclass
class Photo:
    rgb: np.ndarray  # uint8 [H, W, 3], upright (EXIF orientation applied)
    alpha: np.ndarray | None  # uint8 [H, W] or None
    exif: bytes | None  # the original EXIF, orientation tag removed (the pixels are upright now)
    icc: bytes | None = None  # the source's RGB colour profile (None for none, or a gray/CMYK one)


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _folder_photos(folder: Path, out_dir: Path) -> tuple[list[Path], list[Job]]:
    """The photo files below ``folder`` (sorted), and a job for each thing inside it that is
    left out: an unreadable subfolder (a failure), a broken link or a linked folder (notices:
    links to folders are not followed, so no photo is found twice and no loop is walked)."""
    photos, left_out = [], []

    def unreadable(error: OSError) -> None:
        where = Path(error.filename) if error.filename else folder
        left_out.append(Job(where, None, "folder cannot be read (permission denied?); fix its permissions "
                                         "or leave it out"))

    for here, folders, files in os.walk(folder, onerror=unreadable):
        here_path = Path(here)
        walked = []
        for name in sorted(folders):
            if (here_path / name).is_symlink():
                left_out.append(Job(here_path / name, None, notice="linked folder, not followed; name it on the "
                                                                   "command line to include it"))
            elif not _inside((here_path / name).resolve(), out_dir):
                walked.append(name)
        folders[:] = walked
        for name in files:
            path = here_path / name
            if not is_image_name(path):
                continue
            if path.is_symlink() and not path.exists():
                left_out.append(Job(path, None, notice=BROKEN_LINK))
            elif not path.is_file():  # a pipe or device named like a photo: reading it could wait forever
                left_out.append(Job(path, None, "not a regular file (a pipe or device?)"))
            elif not _inside(path.resolve(), out_dir):
                photos.append(path)
    return sorted(photos), left_out


def plan_jobs(inputs: list[str | Path], out_dir: str | Path) -> list[Job]:
    """Every photo named by ``inputs`` (files, or folders searched recursively) with its output
    path: ``OUT/<file name>`` for a file, ``OUT/<folder name>/<path inside it>`` for a folder.

    Nothing is read or written here. Files in ``out_dir`` itself are never inputs (a second run
    would otherwise colorize its own results), non-image files inside folders are ignored, and a
    photo named twice (the same file) is done once.
    """
    out_dir = Path(out_dir).expanduser().resolve()
    jobs: list[Job] = []
    claimed: dict[Path, Path] = {}

    def add(source: Path, target: Path) -> None:
        resolved = source.resolve()
        if target == resolved:
            jobs.append(Job(source, None, "the output would replace the input itself; choose another --out"))
        elif target in claimed:
            if claimed[target].resolve() == resolved:
                return  # the same photo named twice (a file and its folder, or a repeated name)
            jobs.append(Job(source, None, f"another input ({claimed[target]}) has the same output name {target}; "
                                          "colorize one of them in a separate run with another --out"))
        else:
            claimed[target] = source
            jobs.append(Job(source, target))

    for given in map(Path, inputs):
        path = given.expanduser()
        if path.is_dir():
            folder = path.resolve()
            photos, left_out = _folder_photos(folder, out_dir)
            jobs.extend(left_out)
            if not photos and not left_out:
                jobs.append(Job(given, None, "folder holds no photos (.jpg .jpeg .png .tif .tiff .bmp)"))
            for photo in photos:
                add(photo, out_dir / folder.name / photo.relative_to(folder))
        elif path.is_file():
            if not is_image_name(path):
                jobs.append(Job(given, None, "not a photo file name (use .jpg .jpeg .png .tif .tiff .bmp)"))
            else:
                add(path, out_dir / path.name)
        elif path.is_symlink():
            jobs.append(Job(given, None, BROKEN_LINK))
        elif path.exists():
            jobs.append(Job(given, None, "not a readable file or folder"))
        else:
            jobs.append(Job(given, None, "no such file or folder"))
    return jobs


def _check_size(width: int, height: int) -> None:
    if min(width, height) < MIN_SIDE:
        raise PhotoProblem(f"too small ({width}x{height} px): a photo needs at least {MIN_SIDE} px per side")
    if width * height > MAX_MEGAPIXELS * 1e6:
        raise PhotoProblem(f"too large ({width}x{height} px = {width * height:,} pixels): the colorizer takes up to "
                           f"{MAX_MEGAPIXELS * 1e6:,.0f} pixels, so downscale it first (the network sees ~0.01 MP "
                           "anyway)")


def _describes_layout(tag: int, value) -> bool:
    """An image description that is really layout metadata: tifffile's ``{"shape": ...}`` and
    ImageJ's ``ImageJ=...`` describe the source's array shape, not the picture."""
    return tag == IMAGE_DESCRIPTION and str(value).lstrip().startswith(('{"shape"', "ImageJ="))


def _raw_text(tag: int, value, group: int | None = None):
    """A text tag's stored bytes. Pillow reads EXIF text as Latin-1 and writes it back as ASCII
    (``?`` for anything else), which would turn a "(c)" sign or an accented name into ``?``; its
    Latin-1 text encoded back is exactly the bytes the source held, UTF-8 or not."""
    if isinstance(value, str) and TiffTags.lookup(tag, group).type == TiffTags.ASCII:
        return value.encode("latin-1", "replace")
    return value


def _copy_exif(found: Image.Exif, keep=lambda tag, value: True) -> dict:
    """The tags of ``found`` that ``keep`` accepts, with its description sub-directories
    (:data:`EXIF_SUB_IFDS`) as they are (nested dicts), text byte for byte."""
    kept = {tag: _raw_text(tag, value) for tag, value in found.items()
            if tag not in EXIF_SUB_IFDS and keep(tag, value)}
    for group in EXIF_SUB_IFDS:
        if sub := found.get_ifd(group):
            kept[group] = {tag: _raw_text(tag, value, group) for tag, value in sub.items()}
    return kept


def _exif_bytes(tags: dict) -> bytes | None:
    """``tags`` (sub-directories as nested dicts) as an EXIF block for JPEG and PNG."""
    exif = Image.Exif()
    for tag, value in tags.items():
        if tag in EXIF_SUB_IFDS:
            exif.get_ifd(tag).update(value)
        else:
            exif[tag] = value
    return exif.tobytes() if tags else None


def _descriptive_exif(image: Image.Image) -> bytes | None:
    """The source's descriptive metadata (camera, date, GPS...) for the new file, without the
    tags that describe the source's own pixel layout (:data:`STRUCTURAL_TAGS`) or orientation
    (the pixels are upright now)."""
    return _exif_bytes(_copy_exif(image.getexif(), lambda tag, value: tag not in STRUCTURAL_TAGS
                                                                       and not _describes_layout(tag, value)))


def _rgb_profile(icc) -> bytes | None:
    """The source's ICC profile if it describes RGB: the result is RGB in the source's own
    encoding, so an RGB profile still says how to show it, but a gray or CMYK one attached to RGB
    pixels is invalid (viewers reject or misrender it) and is left out."""
    if isinstance(icc, bytes) and len(icc) >= 128 and icc[16:20] == b"RGB ":
        return icc
    return None


def read_photo(path: Path) -> Photo:
    """A user's photo, checked before it is decoded (size from the header), as upright RGB."""
    exif = icc = None
    try:
        if path.stat().st_size == 0:
            raise PhotoProblem("empty file (0 bytes) - was its copy interrupted?")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as header:
                _check_size(*header.size)
                exif = _descriptive_exif(header)
                icc = _rgb_profile(header.info.get("icc_profile"))
    except PhotoProblem:
        raise
    except FileNotFoundError:
        raise PhotoProblem(VANISHED) from None
    except Image.DecompressionBombError:
        raise PhotoProblem(f"too large: over {MAX_MEGAPIXELS:.0f} MP; downscale it first") from None
    except PermissionError:
        raise PhotoProblem("cannot be read (permission denied)") from None
    except Exception:  # noqa: BLE001 - read_image below gives the precise reason (or reads it via tifffile)
        pass
    try:
        rgb, alpha = read_image(path, flatten_alpha=False)  # the alpha is written back unchanged
    except UnreadableImage as error:
        if not path.exists():
            raise PhotoProblem(VANISHED) from None
        reason = str(error).removeprefix(f"{path}: ")
        raise PhotoProblem(f"{reason} - is the file complete and really a photo?") from None
    _check_size(rgb.shape[1], rgb.shape[0])
    return Photo(rgb, alpha, exif, icc)


def _text(value) -> str | None:
    """An EXIF text as the user wrote it (UTF-8 where it decodes, else Latin-1)."""
    if isinstance(value, str):
        value = value.encode("latin-1", "replace")
    if not isinstance(value, bytes):
        return None
    try:
        return value.rstrip(b"\0").decode("utf-8")
    except UnicodeDecodeError:
        return value.rstrip(b"\0").decode("latin-1")


def _marked(exif: bytes | None, provenance: Provenance | None) -> tuple[dict, bytes | None]:
    """The EXIF tags for the result (the source's, with ``provenance``'s Software and
    ImageDescription, the source's own description kept inside it; sub-directories as nested
    dicts) and the XMP packet to go with them (None without provenance)."""
    found = Image.Exif()
    if exif:
        found.load(exif)
    kept = _copy_exif(found)
    if provenance is None:
        return kept, None
    original = (_text(found.get(IMAGE_DESCRIPTION)), _text(found.get(SOFTWARE)))
    for tag, value in provenance.exif_tags(*original).items():
        kept[tag] = value.encode("utf-8")  # ASCII by the letter of EXIF; readers take UTF-8
    return kept, provenance.xmp(*original)


def write_photo(rgb: np.ndarray, alpha: np.ndarray | None, target: Path, exif: bytes | None = None,
                overwrite: bool = False, durable: bool = True, icc: bytes | None = None,
                provenance: Provenance | None = None) -> Path:
    """Write a colorized photo in the format its name says, keeping alpha where the format can,
    through :func:`colorize.results.write_result` (complete or absent; an existing ``target`` is
    kept unless ``overwrite``; :class:`colorize.results.ResultError` says why it could not be).

    JPEG, PNG and TIFF get the source's ``exif`` and ``icc`` profile and, with ``provenance``,
    its marks (EXIF Software and ImageDescription; XMP in a JPEG APP1 segment, a PNG iTXt chunk or
    TIFF tag 700). A BMP cannot carry metadata: it gets the pixels alone, marks or not.
    """
    suffix = target.suffix.lower()
    image = Image.fromarray(rgb)
    if alpha is not None and suffix not in (".jpg", ".jpeg"):
        image = Image.fromarray(np.dstack([rgb, alpha]))  # H x W x 4 uint8 is RGBA
    options: dict = {"format": {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".tif": "TIFF", ".tiff": "TIFF",
                                ".bmp": "BMP"}[suffix]}
    fmt = options["format"]
    if fmt == "JPEG":
        options["quality"] = JPEG_QUALITY
    if fmt in WITH_METADATA:
        tags, xmp = _marked(exif, provenance)
        if icc:
            options["icc_profile"] = icc
        if fmt == "TIFF":
            if xmp:
                tags[TIFF_XMP] = xmp
            if tags:
                options["exif"] = tags  # the tags themselves: from bytes, Pillow's TIFF writer would turn text to ASCII
        elif tags:
            options["exif"] = _exif_bytes(tags)
        if xmp and fmt == "JPEG":
            options["xmp"] = xmp
        elif xmp and fmt == "PNG":
            options["pnginfo"] = PngImagePlugin.PngInfo()
            options["pnginfo"].add_itxt(PNG_XMP_KEY, xmp.decode("utf-8"))
    return results.write_result(target, lambda file: image.save(file, **options), overwrite=overwrite,
                                durable=durable)


def colorize_file(colorizer, job: Job, overwrite: bool = False, durable: bool = True,
                  provenance: Provenance | None = None) -> str:
    """Colorize one planned photo (``job.source`` to ``job.target``) with its metadata kept and,
    with ``provenance``, marked; returns 'done' or 'skipped' (its result exists, perhaps written
    by another run meanwhile), raises :class:`PhotoProblem` or
    :class:`colorize.results.ResultError` for a failure."""
    from colorize import predict  # TensorFlow: only once a photo is really colorized

    if job.target.exists() and not overwrite:
        return "skipped"
    photo = read_photo(job.source)
    colorized = predict.colorize_photo(colorizer, photo.rgb)
    try:
        write_photo(colorized, photo.alpha, job.target, exif=photo.exif, overwrite=overwrite, durable=durable,
                    icc=photo.icc, provenance=provenance)
    except results.ResultExists:
        return "skipped"
    return "done"
