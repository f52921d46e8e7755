"""The ``colorize`` command end to end on real photo files of every format it accepts, the
bad-input corpus (one line each, the run goes on, inputs byte-identical), skipping and
overwriting, and choosing a model."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image
from skimage import data as skimage_data

from colorize import catalog, cli, config, lab, predict
from colorize.data.images import read_image

from conftest import TINY_LABEL as LABEL

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")


@pytest.fixture
def home(in_tiny_course) -> Path:
    """Here the checkout is not empty: it holds the tiny trained course."""
    return in_tiny_course


def _photo(height: int = 120, width: int = 180) -> np.ndarray:
    return np.asarray(Image.fromarray(skimage_data.astronaut()).resize((width, height), Image.Resampling.BOX))


def _write_formats(folder: Path) -> dict[str, tuple[int, int]]:
    """One file per accepted kind; returns name -> (height, width) as a viewer shows it."""
    rgb = _photo()
    gray = np.asarray(Image.fromarray(rgb).convert("L"))
    alpha = np.tile(np.linspace(0, 255, rgb.shape[1]).astype(np.uint8), (rgb.shape[0], 1))
    (folder / "nested" / "deeper").mkdir(parents=True)
    Image.fromarray(rgb).save(folder / "colour.jpg", quality=92)
    Image.fromarray(gray).save(folder / "UPPER.JPEG", quality=92)
    Image.fromarray(gray).save(folder / "gray.png")
    Image.fromarray((gray.astype(np.uint16) * 257)).save(folder / "gray16.png")
    Image.fromarray(np.dstack([rgb, alpha])).save(folder / "nested" / "alpha.png")
    Image.fromarray(rgb).quantize(64).save(folder / "palette.png")
    transparent = Image.fromarray(rgb).quantize(64)
    transparent.info["transparency"] = 0
    transparent.save(folder / "nested" / "palette_transparent.png", transparency=0)
    Image.fromarray(rgb).save(folder / "nested" / "deeper" / "photo.tif")
    tifffile.imwrite(folder / "colour16.TIFF", rgb.astype(np.uint16) * 257)
    Image.fromarray(rgb).save(folder / "photo.bmp")
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: a viewer turns it 90 degrees clockwise
    Image.fromarray(rgb).save(folder / "sideways.jpg", exif=exif.tobytes(), quality=92)
    sizes = {str(path.relative_to(folder)): rgb.shape[:2] for path in folder.rglob("*") if path.is_file()}
    sizes["sideways.jpg"] = rgb.shape[1::-1]
    return sizes


def _digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _run(args: list, capsys) -> tuple[int, list[str]]:
    status = cli.main([str(a) for a in args])
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    return status, lines


def test_every_format_is_colorized_at_full_size_with_the_photos_own_lightness(home, tmp_path, capsys):
    photos = tmp_path / "album"
    photos.mkdir()
    sizes = _write_formats(photos)
    before = _digests(photos)
    out = tmp_path / "out"

    status, lines = _run([photos, "--out", out], capsys)

    assert status == cli.EXIT_OK, lines
    assert lines[0].startswith(f"Model: {LABEL}")
    assert lines[-1].startswith(f"colorized {len(sizes)}, skipped 0, failed 0 in ")
    assert _digests(photos) == before  # inputs untouched
    for name, size in sizes.items():
        result = out / "album" / name
        rgb, alpha = read_image(result, flatten_alpha=False)
        source, source_alpha = read_image(photos / name, flatten_alpha=False)
        assert rgb.shape[:2] == tuple(size), name  # full resolution, EXIF orientation applied
        assert result.suffix == (photos / name).suffix  # same format as the input
        # The photo's own L is kept: only 8-bit rounding, clipping colours to the sRGB gamut and
        # JPEG's re-encoding move it.
        moved = np.abs(predict.lab_in_strips(rgb)[..., 0] - predict.lab_in_strips(source)[..., 0])
        jpeg = result.suffix.lower() in (".jpg", ".jpeg")
        assert moved.mean() < (1.0 if jpeg else 0.3) and np.percentile(moved, 99) < (5.0 if jpeg else 3.0), name
        if source_alpha is not None:
            np.testing.assert_array_equal(alpha, source_alpha, err_msg=name)
    # What the command wrote is what colorize.predict gives for the same photo and model.
    colorizer = catalog.choose(None).colorizer
    expected = predict.colorize_photo(colorizer, read_image(photos / "gray.png")[0])
    np.testing.assert_array_equal(read_image(out / "album" / "gray.png")[0], expected)
    assert lab.rgb_to_lab(expected)[..., 1:].numpy().std() > 0.1  # it did paint colour


def test_existing_results_are_skipped_unless_overwrite(home, tmp_path, capsys):
    photo = tmp_path / "photo.png"
    Image.fromarray(_photo()).save(photo)
    out = tmp_path / "out"
    assert _run([photo, "--out", out], capsys)[0] == cli.EXIT_OK
    result = out / "photo.png"
    result.write_bytes(b"the user's own edit")

    status, lines = _run([photo, "--out", out], capsys)
    assert status == cli.EXIT_OK
    assert any(line.startswith(f"skipped: {photo}") and "--overwrite" in line for line in lines)
    assert lines[-1].startswith("colorized 0, skipped 1, failed 0")
    assert result.read_bytes() == b"the user's own edit"

    status, lines = _run([photo, "--out", out, "--overwrite"], capsys)
    assert status == cli.EXIT_OK and lines[-1].startswith("colorized 1, skipped 0, failed 0")
    assert read_image(result)[0].shape == (120, 180, 3)


def test_results_never_replace_an_input_and_the_output_folder_is_not_read_back(home, tmp_path, capsys):
    album = tmp_path / "album"
    album.mkdir()
    Image.fromarray(_photo()).save(album / "photo.png")
    before = _digests(album)

    status, lines = _run([album / "photo.png", "--out", album, "--overwrite"], capsys)
    assert status == cli.EXIT_SOME_FAILED
    assert [line for line in lines if line.startswith("failed:")] == [
        f"failed: {album / 'photo.png'}: the output would replace the input itself; choose another --out"]
    assert _digests(album) == before

    inner = album / "colorized"
    for _ in range(2):  # the second run must not colorize the first run's results
        status, lines = _run([album, "--out", inner], capsys)
        assert status == cli.EXIT_OK
    assert lines[-1].startswith("colorized 0, skipped 1, failed 0")
    assert sorted(str(p.relative_to(album)) for p in album.rglob("*.png")) == [
        "colorized/album/photo.png", "photo.png"]


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory) -> dict[str, tuple[Path, str]]:
    """The bad-input corpus: name -> (path, words its one-line message must contain)."""
    folder = tmp_path_factory.mktemp("bad")
    good = folder / "good.jpg"
    Image.fromarray(_photo()).save(good, quality=90)
    data = good.read_bytes()
    (folder / "truncated.jpg").write_bytes(data[: len(data) // 2])
    (folder / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n" + np.random.default_rng(0).bytes(4000))
    (folder / "notes.jpg").write_text("Grandma's photos, box 3: scan these next week.\n")
    Image.fromarray(np.zeros((1, 1, 3), np.uint8)).save(folder / "dot.png")
    Image.fromarray(np.zeros((8000, 10000), np.uint8)).save(folder / "huge.png", compress_level=1)  # 80 MP
    (folder / "empty_folder").mkdir()
    (folder / "zero.jpg").write_bytes(b"")
    (folder / "clip.gif").write_bytes(b"GIF89a")
    return {
        "truncated": (folder / "truncated.jpg", "not a readable image"),
        "corrupt": (folder / "corrupt.png", "not a readable image"),
        "text named .jpg": (folder / "notes.jpg", "not a readable image"),
        "missing path": (folder / "no_such_photo.jpg", "no such file or folder"),
        "1x1 image": (folder / "dot.png", "too small (1x1 px)"),
        "80 megapixels": (folder / "huge.png", "too large (10000x8000 px = 80,000,000 pixels)"),
        "folder without photos": (folder / "empty_folder", "folder holds no photos"),
        "zero bytes": (folder / "zero.jpg", "empty file (0 bytes)"),
        "unsupported format": (folder / "clip.gif", "not a photo file name"),
        "good": (good, ""),
    }


@pytest.mark.parametrize("case", ["truncated", "corrupt", "text named .jpg", "missing path", "1x1 image",
                                  "80 megapixels", "folder without photos", "unsupported format", "zero bytes"])
def test_bad_input_is_one_line_and_the_run_goes_on(case, bad_files, home, tmp_path, capsys):
    bad, expected = bad_files[case]
    good = bad_files["good"][0]
    folder = good.parent
    before = _digests(folder)
    out = tmp_path / "out"

    status, lines = _run([bad, good, "--out", out], capsys)

    failures = [line for line in lines if line.startswith("failed:")]
    assert status == cli.EXIT_SOME_FAILED
    assert len(failures) == 1 and failures[0].startswith(f"failed: {bad}: ") and expected in failures[0], lines
    assert not any("Traceback" in line for line in lines)
    assert lines[-1].startswith("colorized 1, skipped 0, failed 1")
    assert (out / "good.jpg").is_file() and not (out / bad.name).exists()
    assert _digests(folder) == before
    assert not list(out.glob(".colorizing-*"))  # no half-written files left behind


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_unreadable_file_is_one_line(home, tmp_path, capsys):
    locked = tmp_path / "locked.jpg"
    Image.fromarray(_photo()).save(locked)
    locked.chmod(0)
    try:
        status, lines = _run([locked, "--out", tmp_path / "out"], capsys)
    finally:
        locked.chmod(0o644)
    assert status == cli.EXIT_SOME_FAILED
    assert [line for line in lines if line.startswith("failed:")] == [
        f"failed: {locked}: cannot be read (permission denied)"]


def test_without_a_trained_model_it_says_how_to_train_one(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(config.HOME_ENV, str(tmp_path / "fresh_checkout"))
    photo = tmp_path / "photo.jpg"
    Image.fromarray(_photo()).save(photo)
    status, lines = _run([photo, "--out", tmp_path / "out"], capsys)
    assert status == cli.EXIT_CANNOT_START
    assert lines == [f"error: {catalog.NO_MODEL_HINT}"] and "make all" in lines[0]
    assert not (tmp_path / "out").exists()


def test_models_are_listed_and_chosen_by_label_or_path(home, tmp_path, capsys):
    assert cli.main(["--list-models"]) == cli.EXIT_OK
    listed = capsys.readouterr().out
    run = catalog.recommended()[1]
    assert listed.splitlines()[0] == f"* {LABEL}" and run.name not in listed  # labels, not hashes

    photo = tmp_path / "photo.png"
    Image.fromarray(_photo()).save(photo)
    status, lines = _run([photo, "--out", tmp_path / "a", "--model", LABEL.upper(), "--size", 32], capsys)
    assert status == cli.EXIT_OK and lines[0] == f"Model: {LABEL} [{run.name}] (working side 32 px)"
    status, lines = _run([photo, "--out", tmp_path / "b", "--model", run.directory / "model.keras"], capsys)
    assert status == cli.EXIT_OK and lines[0].startswith(f"Model: {run.name}")
    status, lines = _run([photo, "--out", tmp_path / "c", "--model", "resnet"], capsys)
    assert status == cli.EXIT_CANNOT_START
    assert lines == ["error: no model called 'resnet': run `colorize --list-models` to see the 1 trained ones, "
                     "or pass a path"]


def test_the_installed_command_runs_as_a_program(home, tmp_path):
    photo = tmp_path / "old photo.jpg"
    Image.fromarray(np.asarray(Image.fromarray(_photo()).convert("L"))).save(photo)
    done = subprocess.run([sys.executable, "-m", "colorize", str(photo), "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, env={**os.environ, config.HOME_ENV: str(home)}, timeout=300)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.strip().splitlines()
    assert lines[0].startswith(f"Model: {LABEL}") and lines[-1].startswith("colorized 1, skipped 0, failed 0")
    assert len(lines) == 2  # nothing else: no TensorFlow start-up chatter
    assert read_image(tmp_path / "out" / "old photo.jpg")[0].shape == (120, 180, 3)


def test_help_and_the_model_list_start_without_tensorflow_or_matplotlib(home):
    # The package root imports lazily and a run's record is read without TensorFlow, so these
    # answer in a fraction of a second (TensorFlow alone takes seconds to import).
    script = ("import sys\nfrom colorize import cli\n"
              "for argv in (['--help'], ['--list-models']):\n"
              "    try:\n        cli.main(argv)\n    except SystemExit:\n        pass\n"
              "print(sorted(name for name in ('tensorflow', 'keras', 'matplotlib') if name in sys.modules))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env={**os.environ, config.HOME_ENV: str(home)}, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "usage: colorize" in done.stdout and LABEL in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_tensorflow_imported_through_the_package_prints_nothing():
    done = subprocess.run([sys.executable, "-c", "import colorize.lab, tensorflow, logging; "
                                                 "print(tensorflow.get_logger().level == logging.ERROR)"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "True" and done.stderr == ""


def test_a_run_trained_outside_the_lessons_is_used_when_none_is_recorded(in_tiny_course, tmp_path, monkeypatch,
                                                                          capsys):
    import shutil

    run = catalog.recommended()[1]
    other = tmp_path / "other_checkout"
    shutil.copytree(run.directory, other / "models" / run.name)
    monkeypatch.setenv(config.HOME_ENV, str(other))
    photo = tmp_path / "photo.png"
    Image.fromarray(_photo()).save(photo)
    status, lines = _run([photo, "--out", tmp_path / "out"], capsys)
    assert status == cli.EXIT_OK and lines[0].startswith(f"Model: {run.name} [{run.name}]")


def test_runs_no_lesson_recorded_are_counted_and_listed_readably_on_request(in_tiny_course, capsys):
    import shutil

    run = catalog.recommended()[1]
    copy = run.directory.parent / "unet-copy-for-test"
    shutil.copytree(run.directory, copy)
    try:
        assert cli.main(["--list-models"]) == cli.EXIT_OK
        short = capsys.readouterr().out
        assert "unet-copy-for-test" not in short and "(1 other runs in models/" in short
        assert cli.main(["--list-models", "--all"]) == cli.EXIT_OK
        full = capsys.readouterr().out.splitlines()
        at = full.index("  unet-copy-for-test")
        assert full[at + 1].strip() == "unet, mse loss, 1 epochs, seed 42 (sample, smoke profile)"
    finally:
        shutil.rmtree(copy)
