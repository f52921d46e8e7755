"""Shared fixtures: where the real BSDS500 photos are (read-only, never copied into the repo)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# TensorFlow's C++ start-up chatter would otherwise fill stderr (and the CLI tests read stderr).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

#: The shared read-only BSDS500 copy next to the checkout (``../shared/data/bsds500``).
DEFAULT_BSDS_DIR = Path(__file__).resolve().parents[1].parent / "shared/data/bsds500"


@pytest.fixture(scope="session")
def bsds_dir() -> Path:
    """A BSDS500 copy with train/ val/ test/ of .jpg photos: ``$COLORIZE_DATA_DIR`` or the shared one."""
    folder = Path(os.environ.get("COLORIZE_DATA_DIR") or DEFAULT_BSDS_DIR).expanduser()
    if not all(any((folder / split).glob("*.jpg")) for split in ("train", "val", "test")):
        pytest.skip(f"no BSDS500 copy at {folder} (set COLORIZE_DATA_DIR to a folder with train/ val/ test/ photos)")
    return folder.resolve()
