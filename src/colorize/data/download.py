"""Fetch the BSDS500 photos once, verified, and never leave a half-written copy behind.

The lessons only need the colour photos, so of the official 70 MB archive we keep just the
``*.jpg`` files of ``train/``, ``val/`` and ``test/``: ground-truth ``.mat`` files and stray
``Thumbs.db`` entries are skipped. The archive itself is fetched by pooch, which checks its
checksum and keeps it in a cache folder, so running the data step again costs no download.

Everything is extracted into a hidden temporary folder next to ``dest`` and moved into place with
one ``os.replace``: a crash, a full disk or Ctrl-C mid-way leaves either no ``dest`` or a complete
one, never a folder that a later run would mistake for the dataset.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import tarfile
import tempfile
from pathlib import Path, PurePosixPath
from typing import IO

import requests

from colorize.config import ColorizeError

BSDS500_URL = "http://www.eecs.berkeley.edu/Research/Projects/CS/vision/grouping/BSR/BSR_bsds500.tgz"
#: checksum of the official archive (70,763,455 bytes); pooch refuses anything else
BSDS500_HASH = "md5:0b17383ff0b21fe43d2f28e624203169"
#: where the split folders sit inside the archive
ARCHIVE_IMAGES = "BSR/BSDS500/data/images"
SPLITS = ("train", "val", "test")

ARCHIVE_NAME = "BSR_bsds500.tgz"
PARTIAL_PREFIX = ".bsds500-partial-"

_OFFLINE_HINT = (
    "Offline? Point DATA_DIR at a local copy with train/ val/ test/ folders "
    "(e.g. make all DATA_DIR=../shared/data/bsds500) or use DATASET=sample."
)


def _photos(folder: Path) -> list[Path]:
    """The photos of one split folder; the suffix test ignores case because Windows copies vary."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ".jpg")


def is_complete_copy(folder: Path) -> bool:
    """True if ``folder`` has train/, val/ and test/ subfolders, each with at least one .jpg.

    This is the only test of "already downloaded", so a user's own copy (for example on a shared
    drive) is accepted as it is, without a checksum of the archive it came from.
    """
    folder = Path(folder)
    return all(_photos(folder / split) for split in SPLITS)


def _one_line(text: str) -> str:
    """Collapse whitespace: the CLI prints these messages as single lines."""
    return " ".join(str(text).split())


def _short_reason(exc: BaseException, timeout: float) -> str:
    """Boil a requests/urllib3 error (which nests several reprs) down to a few words."""
    if isinstance(exc, requests.exceptions.HTTPError) and exc.response is not None:
        return _one_line(f"HTTP {exc.response.status_code} {exc.response.reason or ''}")
    if isinstance(exc, (requests.exceptions.Timeout, socket.timeout, TimeoutError)):
        return f"no answer within {timeout:g} s"
    text = str(exc)
    errno_match = re.search(r"\[Errno -?\d+\] ([^'\"()\[\]]+)", text)
    if errno_match:
        return _one_line(errno_match.group(1))
    if "Failed to resolve" in text or "NameResolutionError" in text:
        return "host name not found"
    return type(exc).__name__


def _is_network_error(exc: OSError) -> bool:
    """Tell a dropped connection from a local disk problem, which deserves a different hint."""
    return isinstance(
        exc,
        (requests.exceptions.RequestException, ConnectionError, TimeoutError, socket.gaierror, socket.herror),
    )


def _fetch_archive(url: str, known_hash: str | None, cache: Path, progress: bool, timeout: float) -> Path:
    """Download (or reuse) the archive via pooch, translating its errors into one-line advice."""
    import pooch  # only here: it pulls in tqdm.auto, which complains inside a kernel without widgets

    try:
        path = pooch.retrieve(
            url,
            known_hash=known_hash,
            fname=ARCHIVE_NAME,
            path=cache,
            progressbar=progress,
            downloader=pooch.HTTPDownloader(progressbar=progress, timeout=timeout),
        )
    except ValueError as exc:
        # pooch has already deleted the mismatching temporary file when it raises this.
        if "does not match" in str(exc):
            raise ColorizeError(
                f"The BSDS500 download from {url} is corrupt: it does not match the official archive's "
                f"checksum ({known_hash}). The bad file was discarded; please try again."
            ) from None
        raise ColorizeError(_one_line(f"Could not download BSDS500 from {url}: {exc}")) from None
    except OSError as exc:  # requests' exceptions are OSErrors too
        if _is_network_error(exc):
            raise ColorizeError(
                f"Could not download BSDS500 from {url} ({_short_reason(exc, timeout)}). {_OFFLINE_HINT}"
            ) from None
        raise ColorizeError(
            _one_line(f"Could not save the BSDS500 archive in {cache}: {exc.strerror or exc}")
        ) from None
    return Path(path)


def _split_and_name(member: tarfile.TarInfo) -> tuple[str, str] | None:
    """(split, file name) for a photo directly inside ARCHIVE_IMAGES/<split>/, else None.

    Matching the exact path shape, rather than sanitising arbitrary names, is what keeps the
    extraction safe: the output path is built only from a known split and a bare file name, so
    absolute paths, ``..`` and nested folders in the archive can never escape the target.
    Links are refused because they could point anywhere.
    """
    if not member.isfile():
        return None
    parts = PurePosixPath(member.name.lstrip("/")).parts
    if parts[:1] == (".",):
        parts = parts[1:]
    prefix = PurePosixPath(ARCHIVE_IMAGES).parts
    if len(parts) != len(prefix) + 2 or parts[: len(prefix)] != prefix:
        return None
    split, name = parts[-2], parts[-1]
    if split not in SPLITS or not name.lower().endswith(".jpg") or name.startswith("."):
        return None
    return split, name


def _write_member(source: IO[bytes], target: Path) -> None:
    """Copy one archive member to disk (a separate function so tests can make it fail)."""
    with open(target, "wb") as out:
        shutil.copyfileobj(source, out)


def _extract_photos(archive: Path, target: Path) -> None:
    """Write the split photos of ``archive`` into ``target/<split>/`` and nothing else."""
    for split in SPLITS:
        (target / split).mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, mode="r:*") as tar:
        for member in tar:
            found = _split_and_name(member)
            if found is None:
                continue
            source = tar.extractfile(member)
            if source is None:
                continue
            with source:
                _write_member(source, target / found[0] / found[1])
    if not is_complete_copy(target):
        raise ColorizeError(
            f"{archive} does not contain {ARCHIVE_IMAGES}/{{train,val,test}} with .jpg photos; "
            "is it the BSDS500 archive?"
        )


def _refuse_incomplete(dest: Path) -> None:
    """Stop before touching a folder that holds something other than a complete copy.

    An empty folder is fine (it may have been made by ``mkdir``); anything else might be the
    user's own files, and we never delete those.
    """
    if dest.exists() and not dest.is_dir():
        raise ColorizeError(f"{dest} exists and is not a folder; delete it or point DATA_DIR elsewhere.")
    if dest.is_dir() and any(dest.iterdir()):
        raise ColorizeError(
            f"{dest} exists but is not a complete BSDS500 copy (needs train/ val/ test/ with .jpg photos); "
            "delete it or point DATA_DIR elsewhere."
        )


def _report(dest: Path) -> None:
    counts = [len(_photos(dest / split)) for split in SPLITS]
    print(f"BSDS500: {counts[0]} train / {counts[1]} val / {counts[2]} test photos in {dest}")


def download_bsds500(
    dest: Path,
    *,
    url: str = BSDS500_URL,
    known_hash: str | None = BSDS500_HASH,
    cache_dir: Path | None = None,
    progress: bool = True,
    timeout: float = 30.0,
) -> Path:
    """Make ``dest`` a complete BSDS500 copy (``train/ val/ test/`` of .jpg photos) and return it.

    A complete copy is returned untouched, with no network access, so this is cheap to call at
    the start of every run. The archive is cached in ``cache_dir`` (default
    ``dest.parent / "downloads"``), so re-creating a deleted ``dest`` only re-extracts.
    Every failure is a one-line :class:`ColorizeError` that says what to do next.
    """
    dest = Path(dest)
    if is_complete_copy(dest):
        _report(dest)
        return dest
    _refuse_incomplete(dest)

    cache = Path(cache_dir) if cache_dir is not None else dest.parent / "downloads"
    archive = _fetch_archive(url, known_hash, cache, progress, timeout)

    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=PARTIAL_PREFIX, dir=dest.parent))
    try:
        _extract_photos(archive, tmp)
        _refuse_incomplete(dest)  # someone may have written there while we were extracting
        if dest.is_dir():
            dest.rmdir()  # empty, checked above; os.replace cannot overwrite a folder everywhere
        os.replace(tmp, dest)
    except ColorizeError:
        raise
    except Exception as exc:
        reason = _one_line(getattr(exc, "strerror", None) or exc) or type(exc).__name__
        raise ColorizeError(
            f"Could not extract the BSDS500 photos from {archive} into {dest} ({reason}); "
            "nothing was left behind, please try again."
        ) from None
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)

    _report(dest)
    return dest
