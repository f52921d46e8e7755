"""The ``colorize`` command under faults: every promised format and bit depth read back by two
decoders, racing runs, signals mid-folder, unwritable and full output, vanishing inputs, options
checked before any work, and the permission bits of results. Each test plants the fault itself."""

from __future__ import annotations

import errno
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image
from skimage import color
from skimage import data as skimage_data

from colorize import cli, config, photo_files, predict, results
from colorize.data.images import read_image

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")
AS_ROOT = os.geteuid() == 0


@pytest.fixture
def home(in_tiny_course) -> Path:
    return in_tiny_course


def _rgb(height: int = 96, width: int = 144) -> np.ndarray:
    return np.asarray(Image.fromarray(skimage_data.astronaut()).resize((width, height), Image.Resampling.BOX))


def _run(args: list, capsys) -> tuple[int, list[str]]:
    status = cli.main([str(a) for a in args])
    return status, [line for line in capsys.readouterr().err.splitlines() if line.strip()]


def _lightness(rgb: np.ndarray) -> np.ndarray:
    return color.rgb2lab(rgb[..., :3])[..., 0]


def _environment(home: Path) -> dict:
    return {**os.environ, config.HOME_ENV: str(home), "TF_CPP_MIN_LOG_LEVEL": "3"}


# --- every format x bit depth x mode round-trips to a file two decoders read ----------------------

def _write_kinds(folder: Path) -> dict[str, np.ndarray]:
    """One file per format, bit depth and mode the README promises; returns name -> 8-bit RGB
    of what it shows (for its lightness)."""
    rgb = _rgb()
    gray = np.asarray(Image.fromarray(rgb).convert("L"))
    gray16 = gray.astype(np.uint16) * 257
    alpha = np.tile(np.linspace(0, 255, rgb.shape[1]).astype(np.uint8), (rgb.shape[0], 1))
    exif = Image.Exif()
    exif[0x010F] = "Test camera"  # a descriptive tag, carried over
    writers = {
        "gray8.tif": lambda p: Image.fromarray(gray).save(p, exif=exif.tobytes()),
        "gray16.tif": lambda p: tifffile.imwrite(p, gray16),
        "gray8_lzw.tif": lambda p: Image.fromarray(gray).save(p, compression="tiff_lzw"),
        "rgb8.tif": lambda p: Image.fromarray(rgb).save(p, exif=exif.tobytes()),
        "rgb16.tif": lambda p: tifffile.imwrite(p, rgb.astype(np.uint16) * 257),
        "rgba8.tif": lambda p: Image.fromarray(np.dstack([rgb, alpha])).save(p),
        "gray16_alpha.tif": lambda p: tifffile.imwrite(p, np.dstack([gray16, alpha.astype(np.uint16) * 257]),
                                                       photometric="minisblack", extrasamples=[2]),
        "rgb8_lzw.tif": lambda p: Image.fromarray(rgb).save(p, compression="tiff_lzw"),
        "gray.jpg": lambda p: Image.fromarray(gray).save(p, quality=95),
        "rgb.jpg": lambda p: Image.fromarray(rgb).save(p, quality=95, exif=exif.tobytes()),
        "gray8.png": lambda p: Image.fromarray(gray).save(p),
        "gray16.png": lambda p: Image.fromarray(gray16).save(p),
        "rgba.png": lambda p: Image.fromarray(np.dstack([rgb, alpha])).save(p),
        "palette.png": lambda p: Image.fromarray(rgb).quantize(64).save(p),
        "rgb.bmp": lambda p: Image.fromarray(rgb).save(p),
        "gray.bmp": lambda p: Image.fromarray(gray).save(p),
    }
    shown = {}
    for name, write in writers.items():
        write(folder / name)
        shown[name] = read_image(folder / name, flatten_alpha=False)[0]
    return shown


def _second_decoder(path: Path) -> np.ndarray:
    """An independent reader for TIFF (tifffile); for the other formats Pillow is the reference
    decoder, read here in its strict, fully-loading mode."""
    if path.suffix == ".tif":
        return tifffile.imread(path)
    with Image.open(path) as image:
        image.load()
        return np.asarray(image)


def test_every_promised_kind_reads_back_in_two_decoders_with_its_size_and_lightness(home, tmp_path, capsys, caplog):
    inputs, out = tmp_path / "kinds", tmp_path / "out"
    inputs.mkdir()
    shown = _write_kinds(inputs)
    status, lines = _run([inputs, "--out", out], capsys)
    assert status == cli.EXIT_OK, lines
    assert lines[-1].startswith(f"colorized {len(shown)}, skipped 0, failed 0")
    caplog.clear()
    for name, truth in shown.items():
        result = out / "kinds" / name
        with Image.open(result) as image:
            image.load()
            pillow = np.asarray(image.convert("RGB"))
            assert image.mode in ("RGB", "RGBA"), f"{name}: written as {image.mode}"
        other = _second_decoder(result)
        assert pillow.shape[:2] == truth.shape[:2] == other.shape[:2], name
        assert other.ndim == 3 and other.shape[2] in (3, 4), f"{name}: second decoder sees {other.shape}"
        np.testing.assert_array_equal(np.asarray(other)[..., :3], pillow, err_msg=name)
        assert not caplog.records, f"{name}: a decoder complained: {caplog.records[0].getMessage()}"
        error = np.abs(_lightness(pillow) - _lightness(truth[..., :3]))
        assert error.mean() < (1.0 if name.endswith(".jpg") else 0.3), f"{name}: L moved by {error.mean():.2f}"
    with Image.open(out / "kinds" / "gray8.tif") as image:
        assert image.getexif().get(0x010F) == "Test camera"  # description kept, structure new
        assert image.getexif().get(0x0106) == 2  # photometric: RGB, not the source's MinIsBlack


def test_structural_tiff_tags_are_not_carried_into_the_new_file(tmp_path):
    gray = np.asarray(Image.fromarray(_rgb()).convert("L"))
    source = tmp_path / "gray.tif"
    exif = Image.Exif()
    exif[0x010F] = "Test camera"
    exif.get_ifd(0x8769)[0x9003] = "2001:02:03 04:05:06"
    Image.fromarray(gray).save(source, exif=exif.tobytes())
    photo = photo_files.read_photo(source)
    kept = Image.Exif()
    kept.load(photo.exif)
    assert kept.get(0x010F) == "Test camera" and kept.get_ifd(0x8769).get(0x9003) == "2001:02:03 04:05:06"
    assert not set(kept) & photo_files.STRUCTURAL_TAGS


# --- one write layer: never replaced, never partial, permissions from the umask -------------------

def test_a_result_that_appears_meanwhile_is_never_replaced(tmp_path):
    target = tmp_path / "photo.png"

    def racing_writer(file):  # another run puts its result in place while this one encodes
        target.write_bytes(b"the other run's result")
        file.write(b"this run's result")

    with pytest.raises(results.ResultExists):
        results.write_result(target, racing_writer)
    assert target.read_bytes() == b"the other run's result"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["photo.png"]  # no temporary file left
    results.write_result(target, lambda file: file.write(b"new"), overwrite=True)
    assert target.read_bytes() == b"new"


def test_without_hard_links_an_exclusive_reservation_still_refuses_to_replace(tmp_path, monkeypatch):
    def no_links(source, destination):
        raise OSError(errno.EPERM, "hard links not supported here")

    monkeypatch.setattr(os, "link", no_links)
    target = tmp_path / "photo.png"
    results.write_result(target, lambda file: file.write(b"first"))
    assert target.read_bytes() == b"first"

    raced = tmp_path / "raced.png"

    def racing_writer(file):
        raced.write_bytes(b"the other run's result")
        file.write(b"second")

    with pytest.raises(results.ResultExists):
        results.write_result(raced, racing_writer)
    assert raced.read_bytes() == b"the other run's result"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["photo.png", "raced.png"]


def test_a_failing_encoder_leaves_no_file(tmp_path):
    def broken(file):
        file.write(b"half a picture")
        raise ValueError("encoder broke")

    with pytest.raises(ValueError):
        results.write_result(tmp_path / "photo.png", broken)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
def test_results_get_the_permissions_of_any_new_file(home, tmp_path, capsys, umask):
    photo = tmp_path / "photo.png"
    Image.fromarray(_rgb()).save(photo)
    previous = os.umask(umask)
    try:
        status, _ = _run([photo, "--out", tmp_path / "out"], capsys)
    finally:
        os.umask(previous)
    assert status == cli.EXIT_OK
    assert (tmp_path / "out" / "photo.png").stat().st_mode & 0o777 == 0o666 & ~umask


def test_two_runs_on_one_folder_at_once_write_each_result_once(home, tmp_path):
    inputs, out = tmp_path / "album", tmp_path / "out"
    inputs.mkdir()
    rgb = _rgb(160, 240)
    for index in range(10):
        Image.fromarray(np.roll(rgb, index * 7, axis=1)).save(inputs / f"photo_{index:02d}.png")
    command = [sys.executable, "-m", "colorize", str(inputs), "--out", str(out)]
    runs = [subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=_environment(home)) for _ in range(2)]
    outputs = [run.communicate(timeout=300)[1] for run in runs]
    assert [run.returncode for run in runs] == [cli.EXIT_OK, cli.EXIT_OK], outputs
    summaries = [next(line for line in text.splitlines() if line.startswith("colorized ")) for text in outputs]
    done = [int(summary.split()[1].rstrip(",")) for summary in summaries]
    assert sum(done) == 10, summaries  # every result written by exactly one of the two runs
    assert not any("failed" in line for text in outputs for line in text.splitlines()[:-1])
    assert sorted(path.name for path in (out / "album").iterdir()) == [f"photo_{i:02d}.png" for i in range(10)]


# --- signals: only complete results, a summary, no traceback ---------------------------------------

@pytest.mark.parametrize("signum, status", [(signal.SIGINT, cli.EXIT_INTERRUPTED),
                                            (signal.SIGTERM, cli.EXIT_TERMINATED)])
def test_a_signal_mid_folder_leaves_complete_results_and_a_summary(home, tmp_path, signum, status):
    inputs, out = tmp_path / "album", tmp_path / "out"
    inputs.mkdir()
    rgb = _rgb(480, 720)
    for index in range(40):
        Image.fromarray(np.roll(rgb, index * 5, axis=0)).save(inputs / f"photo_{index:02d}.tif")
    # A job started in the background (nohup, `&`) inherits SIGINT as ignored, and Python then
    # rightly leaves Ctrl-C ignored; the command under test gets the default, as in a terminal.
    run = subprocess.Popen([sys.executable, "-m", "colorize", str(inputs), "--out", str(out), "--no-fsync"],
                           stderr=subprocess.PIPE, text=True, env=_environment(home),
                           preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 240
    while not (out / "album").is_dir() or not any((out / "album").glob("photo_*.tif")):
        assert run.poll() is None and time.monotonic() < deadline, "no result appeared"
        time.sleep(0.05)
    run.send_signal(signum)
    stderr = run.communicate(timeout=120)[1]
    assert run.returncode == status, stderr
    assert "Traceback" not in stderr
    summary = stderr.strip().splitlines()[-1]
    word = "interrupted" if signum == signal.SIGINT else "terminated"
    assert summary.startswith(f"{word}: colorized ") and summary.endswith("run the same command again to do the rest")
    written = sorted((out / "album").iterdir())
    assert 0 < len(written) < 40 and all(path.name.startswith("photo_") for path in written)  # no temporary file
    for path in written:
        with Image.open(path) as image:
            image.load()
            assert image.size == (720, 480)
    done = int(summary.split()[2].rstrip(","))
    assert done == len(written)


# --- output that cannot be written, a full disk, an input that vanishes ----------------------------

def test_an_out_below_a_file_is_refused_before_any_work(home, tmp_path, capsys, monkeypatch):
    photo = tmp_path / "photo.png"
    Image.fromarray(_rgb()).save(photo)
    (tmp_path / "a_file").write_text("not a folder")
    monkeypatch.setattr(predict, "colorize_photo", lambda *args: pytest.fail("colorized before checking --out"))
    status, lines = _run([photo, "--out", tmp_path / "a_file" / "out"], capsys)
    assert status == cli.EXIT_CANNOT_START and len(lines) == 1
    assert lines[0].startswith(f"error: --out {tmp_path / 'a_file' / 'out'}: ") and "a file, not a folder" in lines[0]
    assert results.TEMPORARY_PREFIX not in lines[0]


@pytest.mark.skipif(AS_ROOT, reason="root writes into read-only folders")
def test_a_read_only_out_is_refused_before_any_work(home, tmp_path, capsys):
    photo = tmp_path / "photo.png"
    Image.fromarray(_rgb()).save(photo)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        status, lines = _run([photo, "--out", locked], capsys)
    finally:
        locked.chmod(0o755)
    assert status == cli.EXIT_CANNOT_START
    assert lines == [f"error: --out {locked}: cannot write in {locked}: permission denied; choose an --out folder "
                     "you can write to"]


def test_a_read_only_file_system_is_refused_before_any_work(home, tmp_path, capsys, monkeypatch):
    photo = tmp_path / "photo.png"
    Image.fromarray(_rgb()).save(photo)
    out = tmp_path / "out"
    real_open = os.open

    def read_only(path, flags, *args, **kwargs):  # what a read-only mount answers, even to root
        if str(path).startswith(str(out)) and flags & os.O_CREAT:
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", read_only)
    status, lines = _run([photo, "--out", out], capsys)
    assert status == cli.EXIT_CANNOT_START
    assert lines == [f"error: --out {out}: cannot write in {out}: the file system is read-only; choose another "
                     "--out folder"]


def test_a_full_disk_stops_the_run_with_no_partial_file(home, tmp_path):
    inputs, out = tmp_path / "album", tmp_path / "out"
    inputs.mkdir()
    for index in range(3):
        Image.fromarray(np.roll(_rgb(240, 360), index, axis=1)).save(inputs / f"photo_{index}.png")

    def small_file_limit():  # a result bigger than 64 KiB is refused by the kernel (EFBIG)
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, resource.RLIM_INFINITY))

    done = subprocess.run([sys.executable, "-m", "colorize", str(inputs), "--out", str(out)], capture_output=True,
                          text=True, env=_environment(home), preexec_fn=small_file_limit, timeout=300)
    assert done.returncode == cli.EXIT_SOME_FAILED, done.stderr
    lines = done.stderr.strip().splitlines()
    assert "Traceback" not in done.stderr
    assert any(line.startswith(f"failed: {inputs / 'photo_0.png'}: photo_0.png would be larger than this system "
                               "allows") for line in lines), lines
    assert lines[-1].startswith("stopped (the disk is full): colorized 0, skipped 0, failed 1")
    assert list((out / "album").iterdir()) == []


def test_no_space_left_is_one_line_and_stops(home, tmp_path, capsys, monkeypatch):
    inputs = tmp_path / "album"
    inputs.mkdir()
    for index in range(3):
        Image.fromarray(_rgb()).save(inputs / f"photo_{index}.png")

    def full_disk(file):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", lambda self, file, **options: full_disk(file))
    status, lines = _run([inputs, "--out", tmp_path / "out"], capsys)
    assert status == cli.EXIT_SOME_FAILED
    assert [line.split(": ", 2)[2] for line in lines if line.startswith("failed:")] == [
        f"no space left on the disk that holds {tmp_path / 'out' / 'album'} (or its quota is used up); free some "
        "space and run the same command again"]
    assert lines[-1].startswith("stopped (the disk is full): colorized 0, skipped 0, failed 1")
    assert list((tmp_path / "out" / "album").iterdir()) == []


def test_a_photo_deleted_mid_run_is_reported_as_vanished(home, tmp_path, capsys, monkeypatch):
    inputs = tmp_path / "album"
    inputs.mkdir()
    for index in range(3):
        Image.fromarray(_rgb()).save(inputs / f"photo_{index}.png")
    real = predict.colorize_photo

    def delete_the_next(colorizer, rgb):
        (inputs / "photo_1.png").unlink(missing_ok=True)
        return real(colorizer, rgb)

    monkeypatch.setattr(predict, "colorize_photo", delete_the_next)
    status, lines = _run([inputs, "--out", tmp_path / "out"], capsys)
    assert status == cli.EXIT_SOME_FAILED
    assert [line for line in lines if line.startswith("failed:")] == [
        f"failed: {inputs / 'photo_1.png'}: vanished before it could be read (moved or deleted during the run?)"]
    assert lines[-1].startswith("colorized 2, skipped 0, failed 1")


# --- options and inputs checked before any work ----------------------------------------------------

@pytest.mark.parametrize("options, message", [
    (["--size", "100000"], "--size 100000 is outside 16..1024"),
    (["--size", "8"], "--size 8 is outside 16..1024"),
    (["--model", ""], "--model is empty"),
    (["--temperature", "2"], "--temperature 2.0 is outside 0..1"),
    (["--out", ""], "--out is empty"),
])
def test_bad_options_are_one_line_and_exit_2(home, tmp_path, capsys, options, message):
    photo = tmp_path / "photo.png"
    Image.fromarray(_rgb()).save(photo)
    with pytest.raises(SystemExit) as stop:
        cli.main([str(photo), "--out", str(tmp_path / "out"), *options])  # a later --out wins
    assert stop.value.code == cli.EXIT_CANNOT_START
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith("colorize: error: ") and message in error


def test_the_same_photo_named_twice_is_done_once(home, tmp_path, capsys):
    photo = tmp_path / "photo.png"
    Image.fromarray(_rgb()).save(photo)
    status, lines = _run([photo, photo, str(tmp_path / "." / "photo.png"), "--out", tmp_path / "out"], capsys)
    assert status == cli.EXIT_OK and lines[-1].startswith("colorized 1, skipped 0, failed 0")


def test_a_name_collision_says_how_to_resolve_it(home, tmp_path, capsys):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        Image.fromarray(_rgb()).save(tmp_path / folder / "photo.png")
    status, lines = _run([tmp_path / "a" / "photo.png", tmp_path / "b" / "photo.png", "--out", tmp_path / "out"],
                         capsys)
    assert status == cli.EXIT_SOME_FAILED
    failed = [line for line in lines if line.startswith("failed:")]
    assert len(failed) == 1 and failed[0].endswith("colorize one of them in a separate run with another --out")


def test_links_inside_a_folder_are_said_not_skipped_silently(home, tmp_path, capsys):
    album = tmp_path / "album"
    album.mkdir()
    Image.fromarray(_rgb()).save(album / "photo.png")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    Image.fromarray(_rgb()).save(elsewhere / "linked_folder_photo.png")
    (album / "linked").symlink_to(elsewhere, target_is_directory=True)
    (album / "broken.jpg").symlink_to(tmp_path / "missing.jpg")
    (album / "loop").symlink_to(album, target_is_directory=True)
    os.mkfifo(album / "pipe.jpg")  # reading a pipe would wait forever
    status, lines = _run([album, "--out", tmp_path / "out"], capsys)
    assert status == cli.EXIT_SOME_FAILED
    assert f"failed: {album / 'pipe.jpg'}: not a regular file (a pipe or device?)" in lines
    assert f"skipped: {album / 'broken.jpg'}: broken link (the file it points to is missing)" in lines
    assert (f"skipped: {album / 'linked'}: linked folder, not followed; name it on the command line to include it"
            in lines)
    assert f"skipped: {album / 'loop'}: linked folder, not followed; name it on the command line to include it" in lines
    assert lines[-1].startswith("colorized 1, skipped 3, failed 1")


@pytest.mark.skipif(AS_ROOT, reason="root reads folders whatever their permissions")
def test_an_unreadable_subfolder_is_a_failure_line(home, tmp_path, capsys):
    album = tmp_path / "album"
    (album / "private").mkdir(parents=True)
    Image.fromarray(_rgb()).save(album / "photo.png")
    (album / "private").chmod(0)
    try:
        status, lines = _run([album, "--out", tmp_path / "out"], capsys)
    finally:
        (album / "private").chmod(0o755)
    assert status == cli.EXIT_SOME_FAILED
    assert any(line.startswith(f"failed: {album / 'private'}: folder cannot be read") for line in lines)


def test_the_pixel_limit_message_does_not_contradict_itself(tmp_path):
    with pytest.raises(photo_files.PhotoProblem) as refused:
        photo_files._check_size(8001, 6250)
    assert "50,006,250 pixels" in str(refused.value) and "up to 50,000,000 pixels" in str(refused.value)
    photo_files._check_size(8000, 6250)  # exactly at the limit is accepted


def test_a_runs_model_file_uses_the_runs_working_side(home, tmp_path, capsys):
    from colorize import catalog

    run = catalog.recommended()[1]
    photo = tmp_path / "photo.png"
    Image.fromarray(_rgb()).save(photo)
    by_folder = _run([photo, "--out", tmp_path / "a", "--model", run.directory], capsys)[1][0]
    by_file = _run([photo, "--out", tmp_path / "b", "--model", run.directory / "model.keras"], capsys)[1][0]
    side = run.record["settings"]["work_side"]
    assert by_folder.endswith(f"(working side {side} px)") and by_file.endswith(f"(working side {side} px)")


# --- the data set: a folder that is not BSDS500 is refused before a lesson uses it ----------------

def test_a_bsds500_copy_of_non_photos_is_refused(tmp_path, capsys, monkeypatch):
    from colorize.data.__main__ import main as data_main

    for split in ("train", "val", "test"):
        (tmp_path / "fake" / split).mkdir(parents=True)
        for index in range(3):
            (tmp_path / "fake" / split / f"{index}.jpg").write_text("not a photo")
    monkeypatch.delenv(config.DATA_DIR_ENV, raising=False)
    assert data_main(["bsds500", "--data-dir", str(tmp_path / "fake")]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith(f"error: DATA_DIR={tmp_path / 'fake'} is not a usable BSDS500 copy: train/0.jpg is not "
                            "a readable photo") and "\n" not in error


def test_a_wrong_colorize_data_dir_is_an_error_not_a_download(tmp_path, capsys, monkeypatch):
    from colorize.data import download
    from colorize.data.__main__ import main as data_main

    monkeypatch.setenv(config.HOME_ENV, str(tmp_path / "course"))
    monkeypatch.setenv(config.DATA_DIR_ENV, str(tmp_path / "nowhere"))
    monkeypatch.setattr(download, "download_bsds500", lambda *args, **kwargs: pytest.fail("tried a download"))
    for dataset in ("bsds500", "auto"):
        assert data_main([dataset]) == 2
        error = capsys.readouterr().err.strip()
        assert error.startswith(f"error: {config.DATA_DIR_ENV}={tmp_path / 'nowhere'} is not a BSDS500 copy")
