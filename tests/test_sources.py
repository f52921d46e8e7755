"""Datasets by name (sample, bsds500, folder:PATH, auto) and the ``python -m colorize.data`` CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from colorize import config, lab
from colorize.config import ColorizeError
from colorize.data import download, sources
from colorize.data.images import fit_within, read_rgb
from colorize.data.sources import SPLITS, load_dataset, sample_dataset


@pytest.fixture(autouse=True)
def _no_forced_settings(monkeypatch):
    """The notebook tests force a profile and a data folder through the environment; not here."""
    monkeypatch.delenv(config.FORCE_PROFILE_ENV, raising=False)
    monkeypatch.delenv(config.DATA_DIR_ENV, raising=False)


def _assert_disjoint(dataset) -> None:
    seen: set[Path] = set()
    for split in SPLITS:
        paths = set(dataset.paths(split))
        assert len(paths) == len(dataset.paths(split)), f"duplicates in {split}"
        assert not seen & paths, f"{split} shares photos with another split"
        seen |= paths


# --- sample ------------------------------------------------------------------------------------


def test_sample_dataset_is_disjoint_readable_colour_photos():
    dataset = sample_dataset()
    assert dataset.name == "sample"
    assert set(dataset.splits) == set(SPLITS)
    _assert_disjoint(dataset)
    counts = dataset.counts()
    assert sum(counts.values()) >= 8 and counts["train"] >= 1 and counts["test"] >= 1
    for split in SPLITS:
        for path in dataset.paths(split):
            assert path.is_file()
            rgb = fit_within(read_rgb(path), 128)
            ab = np.asarray(lab.rgb_to_lab(rgb))[..., 1:]
            mean_abs = np.abs(ab).reshape(-1, 2).mean(axis=0)
            assert mean_abs.max() > 1.0, f"{path.name} is (nearly) gray: mean |a|, |b| = {mean_abs}"
            assert dataset.credits[path]


def test_auto_smoke_uses_the_sample_capped_at_four():
    dataset = load_dataset("auto", profile="smoke")
    assert dataset.name == "sample"
    assert "smoke" in dataset.note and "smoke" in dataset.describe()
    assert all(0 < n <= 4 for n in dataset.counts().values()), dataset.counts()
    _assert_disjoint(dataset)


def test_unknown_split_is_a_colorize_error():
    with pytest.raises(ColorizeError, match="valid"):
        sample_dataset().paths("valid")


# --- bsds500 -----------------------------------------------------------------------------------


def test_bsds500_from_a_local_copy(bsds_dir):
    dataset = load_dataset("bsds500", data_dir=bsds_dir, profile="full")
    assert dataset.name == "bsds500"
    assert dataset.counts() == {"train": 200, "val": 100, "test": 200}
    _assert_disjoint(dataset)
    line = dataset.describe()
    assert "bsds500" in line and "200 train" in line and "100 val" in line and "200 test" in line
    assert "\n" not in line
    assert all(p.suffix == ".jpg" and p.parent.name == "test" for p in dataset.paths("test"))


def test_bsds500_smoke_profile_caps_each_split(bsds_dir):
    dataset = load_dataset("bsds500", data_dir=str(bsds_dir), profile="smoke")
    assert dataset.counts() == {"train": 4, "val": 4, "test": 4}


def test_auto_full_with_a_local_copy_is_bsds500(bsds_dir):
    dataset = load_dataset("auto", data_dir=bsds_dir, profile="full")
    assert dataset.name == "bsds500"
    assert dataset.counts() == {"train": 200, "val": 100, "test": 200}


def test_auto_full_finds_the_copy_in_the_environment(bsds_dir, monkeypatch, tmp_path):
    monkeypatch.setenv(config.HOME_ENV, str(tmp_path))
    monkeypatch.setenv(config.DATA_DIR_ENV, str(bsds_dir))
    assert load_dataset("auto", profile="full").name == "bsds500"


@pytest.mark.parametrize("spec", ["bsds500", "auto"])
def test_wrong_data_dir_is_a_one_line_error(tmp_path, spec):
    (tmp_path / "train").mkdir()  # half a copy is still not a copy
    with pytest.raises(ColorizeError) as info:
        load_dataset(spec, data_dir=tmp_path, profile="full")
    message = str(info.value)
    assert "DATA_DIR" in message and str(tmp_path) in message
    assert "\n" not in message


def test_unknown_dataset_name_is_an_error():
    with pytest.raises(ColorizeError, match="imagenet"):
        load_dataset("imagenet", profile="full")


def test_auto_offline_falls_back_to_the_sample(monkeypatch, tmp_path):
    monkeypatch.setenv(config.HOME_ENV, str(tmp_path))  # so no data/bsds500 cache exists
    calls = []

    def offline(*args, **kwargs):
        calls.append(args)
        raise ColorizeError("offline")

    monkeypatch.setattr(download, "download_bsds500", offline)
    dataset = load_dataset("auto", profile="full")
    assert calls, "auto should have tried to download BSDS500"
    assert dataset.name == "sample"
    assert "sample" in dataset.note and "offline" in dataset.note
    assert dataset.note in dataset.describe()
    assert not (tmp_path / "data" / "bsds500").exists()


def test_auto_without_download_permission_does_not_download(monkeypatch, tmp_path):
    monkeypatch.setenv(config.HOME_ENV, str(tmp_path))
    monkeypatch.setattr(download, "download_bsds500", lambda *a, **k: pytest.fail("must not download"))
    dataset = load_dataset("auto", profile="full", allow_download=False)
    assert dataset.name == "sample" and "sample" in dataset.note
    with pytest.raises(ColorizeError, match="make data"):
        load_dataset("bsds500", profile="full", allow_download=False)


# --- folder:PATH ---------------------------------------------------------------------------------

FOLDER_SUFFIXES = [(".jpg", "JPEG"), (".JPEG", "JPEG"), (".png", "PNG"), (".tif", "TIFF"), (".bmp", "BMP")]


def _photo(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, size=3)
    return np.clip(base + rng.integers(-30, 30, size=(12, 16, 3)), 0, 255).astype(np.uint8)


def _make_photo_tree(root: Path) -> list[Path]:
    """25 photos nested up to three deep, every suffix in several cases, plus three bad files."""
    folders = [root, root / "Holiday", root / "Holiday" / "day 2", root / "misc"]
    good = []
    for index in range(25):
        suffix, fmt = FOLDER_SUFFIXES[index % len(FOLDER_SUFFIXES)]
        folder = folders[index % len(folders)]
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"img_{index:02d}{suffix}"
        Image.fromarray(_photo(index)).save(path, format=fmt)
        good.append(path)
    (root / "misc" / "corrupt.jpg").write_bytes(np.random.default_rng(99).bytes(2000))
    whole = root / "whole.png"
    Image.fromarray(_photo(100)).save(whole)
    (root / "Holiday" / "truncated.png").write_bytes(whole.read_bytes()[: len(whole.read_bytes()) // 2])
    whole.unlink()
    (root / "Holiday" / "notes.txt").write_text("not a photo, and not named like one\n")
    return good


def test_folder_dataset_splits_nested_photos_and_skips_bad_files(tmp_path):
    root = tmp_path / "My Photos"
    good = _make_photo_tree(root)
    with pytest.warns(UserWarning) as record:
        dataset = load_dataset(f"folder:{root}", profile="full")
    assert len(record) == 1, [str(w.message) for w in record]
    message = str(record[0].message)
    assert "Skipped 2 " in message and "corrupt.jpg" in message and "truncated.png" in message
    assert "notes.txt" not in message
    assert sorted(p.name for p in dataset.skipped) == ["corrupt.jpg", "truncated.png"]

    assert dataset.name == "folder"
    assert dataset.counts() == {"train": 16, "val": 4, "test": 5}  # 64/16/20 of 25
    _assert_disjoint(dataset)
    assert {p.resolve() for split in SPLITS for p in dataset.paths(split)} == {p.resolve() for p in good}

    with pytest.warns(UserWarning):
        again = load_dataset(f"folder:{root}", profile="full")
    assert again.splits == dataset.splits  # the seeded split is the same every run
    assert "64/16/20" in dataset.describe()


def test_folder_split_depends_on_the_seed_only(tmp_path):
    root = tmp_path / "photos"
    root.mkdir()
    for index in range(10):
        Image.fromarray(_photo(index)).save(root / f"p{index}.png")
    first = sources.folder_dataset(root, seed=1, progress=False)
    assert sources.folder_dataset(root, seed=1, progress=False).splits == first.splits
    assert sources.folder_dataset(root, seed=2, progress=False).splits != first.splits
    assert first.counts() == {"train": 6, "val": 2, "test": 2}


def test_folder_with_its_own_split_folders(tmp_path):
    root = tmp_path / "mine"
    layout = {"Train": 3, "VAL": 1, "test": 2}
    expected = {}
    for folder_name, count in layout.items():
        folder = root / folder_name / "nested"
        folder.mkdir(parents=True)
        expected[folder_name.lower()] = []
        for index in range(count):
            path = folder / f"{folder_name}_{index}.Png"
            Image.fromarray(_photo(index + 10 * count)).save(path, format="PNG")
            expected[folder_name.lower()].append(path)
    Image.fromarray(_photo(7)).save(root / "loose.png")  # outside the split folders: not used
    dataset = load_dataset(f"folder:{root}", profile="full")
    assert dataset.counts() == {"train": 3, "val": 1, "test": 2}
    for split in SPLITS:
        assert sorted(dataset.paths(split)) == sorted(expected[split])
    assert "own train/val/test" in dataset.origin


def test_folder_with_too_few_photos_is_an_error(tmp_path):
    for index in range(2):
        Image.fromarray(_photo(index)).save(tmp_path / f"p{index}.jpg")
    (tmp_path / "readme.txt").write_text("two photos only")
    with pytest.raises(ColorizeError, match="2 readable"):
        load_dataset(f"folder:{tmp_path}", profile="full")


def test_missing_folder_is_an_error(tmp_path):
    with pytest.raises(ColorizeError, match="no such folder"):
        load_dataset(f"folder:{tmp_path / 'absent'}", profile="full")


# --- python -m colorize.data ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def cli_runs(tmp_path_factory):
    """Run the CLI twice at once (each start imports TensorFlow): a good and a wrong --data-dir."""
    bsds = Path(os.environ.get(config.DATA_DIR_ENV) or Path(__file__).resolve().parents[1].parent
                / "shared/data/bsds500")
    env = {k: v for k, v in os.environ.items() if k not in (config.FORCE_PROFILE_ENV, config.DATA_DIR_ENV)}
    env["COLORIZE_HOME"] = str(tmp_path_factory.mktemp("home"))
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    cwd = tmp_path_factory.mktemp("cwd")
    runs = {}
    for name, data_dir in (("good", str(bsds)), ("bad", "/nonexistent")):
        runs[name] = subprocess.Popen([sys.executable, "-m", "colorize.data", "--data-dir", data_dir],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=cwd)
    return {name: (proc, *proc.communicate(timeout=120)) for name, proc in runs.items()}


def test_cli_with_a_local_copy(bsds_dir, cli_runs):
    proc, out, err = cli_runs["good"]
    assert proc.returncode == 0, err
    lines = out.strip().splitlines()
    assert any("bsds500" in line and "200 train" in line for line in lines), out


def test_cli_with_a_wrong_folder_says_so_in_one_line(cli_runs):
    proc, out, err = cli_runs["bad"]
    assert proc.returncode == 2
    assert "Traceback" not in err and "Traceback" not in out
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error:") and "DATA_DIR" in lines[0] and "/nonexistent" in lines[0]
