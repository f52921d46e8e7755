"""The audit trail of the ``colorize`` command: one CSV row per photo in ``<out>/manifest.csv``.

An archive that colorizes its scans must be able to say, years later, which file a colorized
copy came from (its SHA-256, not only its name, which may since have been reused), with which
model and hints, and what happened to every other photo of the run. Each run appends; nothing
already written is rewritten:

- the file appears with its header in one step (written aside and linked into place by
  :func:`colorize.results.write_result`), so two runs starting at once never write two headers;
- each row is one ``write`` on a file opened for appending (synced to the disk with
  ``durable``), so a crash loses at most the row being written and never damages earlier rows,
  and rows of two runs on one folder do not interleave;
- a manifest that cannot be written is a warning, never a failed photo: the photos matter more
  than their record.

Paths are absolute (as named, links not resolved), so rows appended by runs started from
different folders mean the same thing.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import stat
from pathlib import Path

from colorize import results

NAME = "manifest.csv"
COLUMNS = ("source", "source_sha256", "output", "model", "hints", "seconds", "outcome", "message")
_CHUNK = 1 << 20


def sha256_of(path: Path) -> str:
    """The SHA-256 of a regular file, read in chunks (a photo may be hundreds of megabytes);
    empty for anything else: a file that vanished or cannot be read, a folder, or a pipe (whose
    reading could wait forever)."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return ""
        digest = hashlib.sha256()
        with open(path, "rb") as file:
            while chunk := file.read(_CHUNK):
                digest.update(chunk)
        return digest.hexdigest()
    except OSError:
        return ""


def _row(values) -> bytes:
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerow(values)
    return text.getvalue().encode("utf-8")


class Manifest:
    """``folder``/manifest.csv, appended to one row at a time; see the module's promises."""

    def __init__(self, folder: Path, durable: bool = True):
        self.path = Path(folder) / NAME
        self.durable = durable

    def _ensure_header(self) -> None:
        if self.path.exists():
            return
        try:
            results.write_result(self.path, lambda file: file.write(_row(COLUMNS)), durable=self.durable)
        except results.ResultExists:
            pass  # another run created it meanwhile, header and all

    def add(self, source: Path, output: Path | None, model: str, hints: int, seconds: float | None, outcome: str,
            message: str = "") -> None:
        """Append one photo's row; raises :class:`colorize.results.ResultError` (one line) if
        the manifest cannot be written."""
        row = _row([os.path.abspath(source), sha256_of(source), os.path.abspath(output) if output else "", model,
                    hints, "" if seconds is None else f"{seconds:.3f}", outcome, message])
        try:
            self._ensure_header()
            handle = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, results.NEW_FILE_MODE)
            try:
                size = os.fstat(handle).st_size
                if size and os.pread(handle, 1, size - 1) != b"\n":
                    row = b"\n" + row  # the last row was cut short (a full disk): this one starts on its own line
                os.write(handle, row)
                if self.durable:
                    os.fsync(handle)
            finally:
                os.close(handle)
        except OSError as error:
            raise results.explain(error, self.path) from None
