"""Datasets by name: ``sample``, ``bsds500``, ``folder:PATH`` and ``auto``.

A dataset here is only a list of files per split; decoding happens in :mod:`colorize.data.images`
and batching in :mod:`colorize.data.pipeline`. Splits are always by photo, never by crop, so no
test photo is ever seen in training.
"""

from __future__ import annotations

import os
import random
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from colorize import config
from colorize.config import ColorizeError
from colorize.config import progress as progress_bar
from colorize.data import download
from colorize.data.images import UnreadableImage, fit_within, is_image_name, read_rgb

SPLITS = ("train", "val", "test")
#: Fractions of a folder without its own split folders, as in seed 004 (64 % / 16 % / 20 %).
FOLDER_SPLIT = (0.64, 0.16, 0.20)


@dataclass(frozen=True)
class Dataset:
    """Photo files per split, and where they came from (shown at the top of every report)."""

    name: str
    origin: str
    splits: dict[str, list[Path]]
    skipped: tuple[Path, ...] = ()
    note: str = ""
    credits: dict[Path, str] = field(default_factory=dict)

    def paths(self, split: str) -> list[Path]:
        if split not in self.splits:
            raise ColorizeError(f"No split {split!r}: choose one of {', '.join(self.splits)}.")
        return list(self.splits[split])

    def counts(self) -> dict[str, int]:
        return {split: len(paths) for split, paths in self.splits.items()}

    def describe(self) -> str:
        """One line: which dataset, from where, how many photos per split."""
        sizes = " / ".join(f"{n} {split}" for split, n in self.counts().items())
        line = f"Dataset: {self.name} ({self.origin}): {sizes} photos."
        return f"{line} {self.note}" if self.note else line

    def limited(self, max_per_split: int | None) -> "Dataset":
        """The first ``max_per_split`` photos of each split (the order is already shuffled/fixed)."""
        if max_per_split is None:
            return self
        splits = {split: paths[:max_per_split] for split, paths in self.splits.items()}
        return replace(self, splits=splits, origin=f"{self.origin}, at most {max_per_split} per split")

    def load(self, split: str, max_side: int | None = None, progress: bool = True) -> list[np.ndarray]:
        """Decode a split into uint8 RGB arrays (longer side capped at ``max_side``)."""
        paths = self.paths(split)

        def read(path: Path) -> np.ndarray:
            return fit_within(read_rgb(path), max_side)

        with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
            images = pool.map(read, paths)
            return list(progress_bar(images, total=len(paths), desc=f"{self.name} {split}", disable=not progress))

    def table(self):
        """A pandas table with one row per photo: split, file, size (for the data lesson)."""
        import pandas as pd
        from PIL import Image

        rows = []
        for split, paths in self.splits.items():
            for path in paths:
                with Image.open(path) as image:
                    width, height = image.size
                rows.append({"split": split, "file": path.name, "width": width, "height": height,
                             "megapixels": width * height / 1e6, "source": self.credits.get(path, "")})
        return pd.DataFrame(rows)


# --- sample: the photos that ship inside installed packages --------------------------------

def _package_file(module: str, *parts: str) -> Path:
    import importlib

    return Path(importlib.import_module(module).__file__).parent.joinpath(*parts)


def _sample_catalogue() -> dict[str, list[tuple[Path, str]]]:
    """Fixed split by photo: natural scenes and objects in train, a cat, a portrait and a flower
    kept for test (familiar subjects a learner can judge by eye)."""
    import matplotlib

    skimage_dir = _package_file("skimage.data")
    sklearn_dir = _package_file("sklearn.datasets", "images")
    mpl_dir = Path(matplotlib.get_data_path()) / "sample_data"
    return {
        "train": [
            (skimage_dir / "astronaut.png", "scikit-image: astronaut (NASA)"),
            (skimage_dir / "coffee.png", "scikit-image: coffee (Rachel Michetti)"),
            (skimage_dir / "rocket.jpg", "scikit-image: rocket (SpaceX)"),
            (sklearn_dir / "china.jpg", "scikit-learn: china"),
            (skimage_dir / "retina.jpg", "scikit-image: retina (Häggström)"),
            (skimage_dir / "ihc.png", "scikit-image: immunohistochemistry"),
        ],
        "val": [
            (skimage_dir / "motorcycle_left.png", "scikit-image: motorcycle (Middlebury stereo)"),
            (skimage_dir / "hubble_deep_field.jpg", "scikit-image: Hubble deep field (NASA)"),
        ],
        "test": [
            (skimage_dir / "chelsea.png", "scikit-image: chelsea the cat (Stefan van der Walt)"),
            (mpl_dir / "grace_hopper.jpg", "matplotlib: Grace Hopper (US Navy)"),
            (sklearn_dir / "flower.jpg", "scikit-learn: flower"),
        ],
    }


def sample_dataset() -> Dataset:
    """The embedded offline default: colour photos from scikit-image, scikit-learn, matplotlib."""
    splits: dict[str, list[Path]] = {}
    credits: dict[Path, str] = {}
    missing = []
    for split, entries in _sample_catalogue().items():
        splits[split] = []
        for path, credit in entries:
            if path.is_file():
                splits[split].append(path)
                credits[path] = credit
            else:
                missing.append(path.name)
    if not splits["train"] or not splits["test"]:
        raise ColorizeError("The sample photos are missing from the installed packages: reinstall with `make all`.")
    note = f"Not found in this install: {', '.join(missing)}." if missing else ""
    return Dataset("sample", "photos shipped inside scikit-image, scikit-learn and matplotlib",
                   splits, note=note, credits=credits)


# --- bsds500 ---------------------------------------------------------------------------------

#: Photos per split that are decoded to check a local copy before any lesson relies on it.
CHECKED_PER_SPLIT = 8


def _check_photos(splits: dict[str, list[Path]], named: str) -> None:
    """Decode an evenly spread sample of each split: a folder of files named .jpg that are not
    photos (or are truncated) is refused here, in one line, rather than deep inside a lesson."""
    for split, paths in splits.items():
        step = max(1, len(paths) // CHECKED_PER_SPLIT)
        for path in paths[::step][:CHECKED_PER_SPLIT]:
            try:
                read_rgb(path)
            except UnreadableImage as error:
                reason = str(error).removeprefix(f"{path}: ")
                raise ColorizeError(f"{named} is not a usable BSDS500 copy: {split}/{path.name} is not a readable "
                                    f"photo ({reason}); fix or replace that copy") from None


def _bsds500_from(folder: Path, origin: str, named: str | None = None) -> Dataset:
    splits = {split: sorted((folder / split).glob("*.jpg")) for split in SPLITS}
    if named:
        _check_photos(splits, named)
    return Dataset("bsds500", f"{origin} {config.display_path(folder)}", splits)


def bsds500_dataset(data_dir: str | Path | None = None, allow_download: bool = True) -> Dataset:
    """BSDS500 from ``data_dir`` (a folder with train/ val/ test/), ``$COLORIZE_DATA_DIR``, the
    course's ``data/bsds500`` cache, or else the official archive (hash-checked)."""
    if data_dir:
        folder = Path(data_dir).expanduser()
        if not download.is_complete_copy(folder):
            raise ColorizeError(
                f"DATA_DIR={data_dir} is not a BSDS500 copy: it needs train/, val/ and test/ folders "
                "of .jpg photos (or leave DATA_DIR empty to download, or use DATASET=sample)."
            )
        return _bsds500_from(folder.resolve(), "local copy at", named=f"DATA_DIR={data_dir}")
    env_dir = os.environ.get(config.DATA_DIR_ENV, "").strip()
    if env_dir:  # set on purpose: a wrong one is an error, not a silent download
        if not download.is_complete_copy(Path(env_dir).expanduser()):
            raise ColorizeError(f"{config.DATA_DIR_ENV}={env_dir} is not a BSDS500 copy: it needs train/, val/ and "
                                f"test/ folders of .jpg photos (fix it, or unset {config.DATA_DIR_ENV} to download)")
        return _bsds500_from(Path(env_dir).expanduser().resolve(), "local copy at",
                             named=f"{config.DATA_DIR_ENV}={env_dir}")
    cache = config.data_dir() / "bsds500"
    if download.is_complete_copy(cache):
        return _bsds500_from(cache, "downloaded copy at")
    if not allow_download:
        raise ColorizeError("BSDS500 is not downloaded yet: run `make data`, or set DATA_DIR to a local copy.")
    download.download_bsds500(cache, cache_dir=config.data_dir() / "downloads")
    return _bsds500_from(cache, "downloaded from the Berkeley archive to")


# --- folder:PATH -----------------------------------------------------------------------------

def _is_readable(path: Path) -> bool:
    try:
        read_rgb(path)
        return True
    except UnreadableImage:
        return False


def _split_by_fraction(paths: list[Path], seed: int) -> dict[str, list[Path]]:
    shuffled = sorted(paths)
    random.Random(seed).shuffle(shuffled)
    n_train = round(len(shuffled) * FOLDER_SPLIT[0])
    n_val = round(len(shuffled) * FOLDER_SPLIT[1])
    return {"train": shuffled[:n_train], "val": shuffled[n_train:n_train + n_val],
            "test": shuffled[n_train + n_val:]}


def _find_split_folders(root: Path) -> dict[str, Path] | None:
    children = {child.name.lower(): child for child in root.iterdir() if child.is_dir()}
    if all(split in children for split in SPLITS):
        return {split: children[split] for split in SPLITS}
    return None


def _image_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and is_image_name(p))


def folder_dataset(root: str | Path, seed: int = config.SEED, progress: bool = True) -> Dataset:
    """Any folder of photos, nested or not. With train/ val/ test/ subfolders those are the
    splits; otherwise a seeded 64/16/20 split by photo. Unreadable files are skipped, listed once."""
    root = Path(root).expanduser()
    if not root.is_dir():
        raise ColorizeError(f"DATASET=folder:{root}: no such folder; give the path of a folder of photos.")
    split_folders = _find_split_folders(root)
    candidates = [p for folder in split_folders.values() for p in _image_files(folder)] if split_folders \
        else _image_files(root)
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        readable = list(progress_bar(pool.map(_is_readable, candidates), total=len(candidates),
                             desc=f"checking {root.name}", disable=not progress))
    good = [p for p, ok in zip(candidates, readable) if ok]
    skipped = tuple(p for p, ok in zip(candidates, readable) if not ok)
    if skipped:
        names = ", ".join(str(p.relative_to(root)) for p in skipped[:10])
        more = f" and {len(skipped) - 10} more" if len(skipped) > 10 else ""
        warnings.warn(f"Skipped {len(skipped)} unreadable file(s) in {config.display_path(root)}: {names}{more}.",
                      stacklevel=2)
    if len(good) < 3:
        raise ColorizeError(f"{root} has {len(good)} readable photo(s); a dataset needs at least 3 "
                            f"({', '.join(s.lstrip('.') for s in ('.jpg', '.png', '.tif', '.bmp'))}, any case).")
    if split_folders:
        good_set = set(good)
        splits = {split: [p for p in _image_files(folder) if p in good_set] for split, folder in split_folders.items()}
        origin = f"folder {config.display_path(root)} with its own train/val/test folders"
    else:
        splits = _split_by_fraction(good, seed)
        origin = f"folder {config.display_path(root)}, split 64/16/20 by photo with seed {seed}"
    return Dataset("folder", origin, splits, skipped=skipped)


# --- by name ---------------------------------------------------------------------------------

def load_dataset(spec: str = "auto", data_dir: str | Path | None = None,
                 profile: config.Profile | str | None = None, allow_download: bool = True) -> Dataset:
    """The dataset a lesson asked for: ``auto`` | ``sample`` | ``bsds500`` | ``folder:PATH``.

    ``auto`` is BSDS500 when a local copy or the download is available and the sample photos
    otherwise; the returned :attr:`Dataset.note` says which and why. The profile caps photos per
    split (``smoke``) and decides whether ``auto`` tries BSDS500 at all.
    """
    profile = config.get_profile(profile) if not isinstance(profile, config.Profile) else profile
    spec = (spec or "auto").strip()
    if spec == "sample":
        dataset = sample_dataset()
    elif spec == "bsds500":
        dataset = bsds500_dataset(data_dir, allow_download=allow_download)
    elif spec.startswith("folder:"):
        dataset = folder_dataset(spec.split(":", 1)[1])
    elif spec == "auto":
        dataset = _auto_dataset(data_dir, profile, allow_download)
    else:
        raise ColorizeError(f"Unknown DATASET={spec!r}: use auto, sample, bsds500 or folder:PATH.")
    return dataset.limited(profile.max_images_per_split)


def _auto_dataset(data_dir, profile: config.Profile, allow_download: bool) -> Dataset:
    if profile.auto_dataset == "sample":
        return replace(sample_dataset(), note=f"The {profile.name} profile uses the embedded sample photos.")
    if data_dir or os.environ.get(config.DATA_DIR_ENV, "").strip():
        return bsds500_dataset(data_dir)  # an explicit folder that is wrong is an error, not a silent fallback
    try:
        return bsds500_dataset(None, allow_download=allow_download)
    except ColorizeError as reason:
        return replace(sample_dataset(), note=f"BSDS500 is not available ({reason}) "
                                              "so this run uses the embedded sample photos instead.")
