"""The one place that writes a result for a user: never a half-written file, never a replaced one.

Everything the course hands a user (the ``colorize`` command, the web server) is written here:

- to a hidden temporary file beside the target, flushed (and with ``durable``, synced to the disk)
  before it is put in place in one step, so the target is either absent, the old file or the
  complete new one, even when the machine stops mid-write;
- without ``overwrite``, put in place by a hard link, which the operating system refuses when the
  target exists: of two runs racing for one result, exactly one writes it and the other learns
  that it exists, and nothing is ever replaced (where a file system has no hard links, an exclusive
  creation of the target reserves it instead);
- with the permissions of any new file (``0o666`` less the umask), so others can read results
  where the umask allows it;
- with errors as one line that names the target or its folder (never the temporary file) and
  says what to do; a full disk or a file-size limit is :class:`OutOfSpace`, after which every
  other result would fail the same way.
"""

from __future__ import annotations

import errno
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from colorize.config import ColorizeError

TEMPORARY_PREFIX = ".colorizing-"
NEW_FILE_MODE = 0o666  # the umask takes away what the user does not want others to have


class ResultError(ColorizeError):
    """A result could not be written; the message is the one line to show."""


class ResultExists(ResultError):
    """The target exists (perhaps written by another run meanwhile) and ``overwrite`` is off."""

    def __init__(self, target: Path):
        super().__init__(f"{target} exists; pass --overwrite to replace it")


class OutOfSpace(ResultError):
    """The disk is full or a file-size limit was reached: later results would fail the same way."""


def explain(error: OSError, path: Path) -> ResultError:
    """An operating-system error while writing ``path``, as a one-line :class:`ResultError`."""
    folder = path.parent
    code = error.errno
    if code in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        return OutOfSpace(f"no space left on the disk that holds {folder} (or its quota is used up); "
                          "free some space and run the same command again")
    if code == errno.EFBIG:
        return OutOfSpace(f"{path.name} would be larger than this system allows for one file (a file-size limit "
                          "such as `ulimit -f`, or the file system's maximum)")
    if code in (errno.EACCES, errno.EPERM):
        return ResultError(f"cannot write in {folder}: permission denied; choose an --out folder you can write to")
    if code == errno.EROFS:
        return ResultError(f"cannot write in {folder}: the file system is read-only; choose another --out folder")
    if code == errno.ENOTDIR or isinstance(error, NotADirectoryError):
        return ResultError(f"cannot write {path}: a part of that path is a file, not a folder; choose another --out")
    if code == errno.ENAMETOOLONG:
        return ResultError(f"cannot write {path}: the name is too long for this file system")
    return ResultError(f"cannot write {path}: {error.strerror or error}")


def ensure_folder(folder: Path) -> Path:
    """Create ``folder`` (and its parents) and prove that files can be created in it, before any
    work is done; raises :class:`ResultError` saying why not."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ResultError(f"{folder} is a file, not a folder; choose a folder for the results")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f"{TEMPORARY_PREFIX}probe-{secrets.token_hex(4)}"
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, NEW_FILE_MODE))
        os.unlink(probe)
    except OSError as error:
        raise explain(error, folder / "result") from None
    return folder


def _sync_folder(folder: Path) -> None:
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass  # some file systems cannot sync a folder; the file itself is synced already
    finally:
        os.close(handle)


def _place_without_replacing(temporary: Path, target: Path) -> None:
    try:
        os.link(temporary, target)
        return
    except FileExistsError:
        raise ResultExists(target) from None
    except OSError as error:
        if error.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK, errno.ENOSYS,
                               errno.EXDEV):
            raise
    # No hard links here (FAT, some network shares): reserve the name exclusively, then fill it in
    # one step. The reservation is what makes a second run see "exists" instead of replacing.
    try:
        os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, NEW_FILE_MODE))
    except FileExistsError:
        raise ResultExists(target) from None
    os.replace(temporary, target)


def write_result(target: Path, write: Callable[[BinaryIO], None], overwrite: bool = False,
                 durable: bool = True) -> Path:
    """Write ``target`` by calling ``write(binary_file)``, atomically and without replacing an
    existing file unless ``overwrite`` (see the module's promises). Returns ``target``."""
    target = Path(target)
    if target.exists() and not overwrite:
        raise ResultExists(target)
    temporary = target.parent / f"{TEMPORARY_PREFIX}{secrets.token_hex(6)}{target.suffix}"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, NEW_FILE_MODE)
        with os.fdopen(handle, "wb") as file:
            write(file)
            file.flush()
            if durable:
                os.fsync(file.fileno())
        if overwrite:
            os.replace(temporary, target)
        else:
            _place_without_replacing(temporary, target)
        if durable:
            _sync_folder(target.parent)
    except OSError as error:
        raise explain(error, target) from None
    finally:
        try:
            os.unlink(temporary)
        except OSError:
            pass  # gone already: renamed into place, or never created
    return target
