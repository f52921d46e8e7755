"""download_bsds500 against a tiny BSDS500-shaped archive served from 127.0.0.1 (no internet)."""

from __future__ import annotations

import functools
import hashlib
import io
import socket
import tarfile
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from colorize.config import ColorizeError
from colorize.data import download
from colorize.data.download import ARCHIVE_IMAGES, download_bsds500, is_complete_copy

PHOTOS = {"train": ["100075.jpg", "100080.jpg"], "val": ["101085.jpg"], "test": ["100007.jpg", "100039.jpg"]}
DECOYS = [
    "BSR/BSDS500/data/groundTruth/train/x.mat",
    f"{ARCHIVE_IMAGES}/train/Thumbs.db",
    f"{ARCHIVE_IMAGES}/train/old/val/deep.jpg",
    f"{ARCHIVE_IMAGES}/train/../../../../../escape.jpg",
    "BSR/README.jpg",
]


def _jpeg_bytes(seed: int) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, size=(32, 48, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG")
    return buffer.getvalue()


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def _make_archive(path: Path, files: dict[str, bytes], links: dict[str, str] | None = None) -> str:
    """Write a .tgz with the given members; return its pooch-style md5 hash."""
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            _add(tar, name, data)
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            tar.addfile(info)
    return "md5:" + hashlib.md5(path.read_bytes()).hexdigest()


def _bsds_files() -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for i, (split, names) in enumerate(PHOTOS.items()):
        for j, name in enumerate(names):
            files[f"{ARCHIVE_IMAGES}/{split}/{name}"] = _jpeg_bytes(10 * i + j)
    for name in DECOYS:
        files[name] = b"not a photo"
    return files


class Server:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.gets = 0
        server = self

        class Handler(SimpleHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                server.gets += 1
                super().do_GET()

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def url(self, name: str) -> str:
        return f"{self.base}/{name}"


@pytest.fixture
def server(tmp_path: Path):
    root = tmp_path / "served"
    root.mkdir()
    srv = Server(root)
    srv.thread.start()
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()
    srv.thread.join(timeout=5)


@pytest.fixture
def bsds(server: Server):
    """(url, md5 hash) of a BSDS500-shaped archive with decoys and a symlink member."""
    links = {f"{ARCHIVE_IMAGES}/val/link.jpg": "/etc/passwd"}
    md5 = _make_archive(server.root / "BSR_bsds500.tgz", _bsds_files(), links)
    return server.url("BSR_bsds500.tgz"), md5


def _partials(folder: Path) -> list[Path]:
    return list(folder.glob(".bsds500-partial-*"))


def _tree(folder: Path) -> dict[str, list[str]]:
    return {split: sorted(p.name for p in (folder / split).iterdir()) for split in sorted(p.name for p in folder.iterdir())}


def _assert_one_line(err: pytest.ExceptionInfo) -> str:
    message = str(err.value)
    assert "\n" not in message and message.strip() == message and message
    # raised "from None" (or outside any except): users see no chained traceback
    assert err.value.__cause__ is None
    assert err.value.__context__ is None or err.value.__suppress_context__
    return message


def test_downloads_and_extracts_only_the_split_photos(tmp_path, server, bsds, capsys):
    url, md5 = bsds
    dest = tmp_path / "data" / "bsds500"
    result = download_bsds500(dest, url=url, known_hash=md5, progress=False)

    assert result == dest
    assert _tree(dest) == {split: sorted(names) for split, names in PHOTOS.items()}
    with Image.open(dest / "train" / "100075.jpg") as img:
        assert img.size == (48, 32)
    assert not list(tmp_path.rglob("*.mat")) and not list(tmp_path.rglob("*.db"))
    assert not list(tmp_path.rglob("escape.jpg")) and not list(tmp_path.rglob("deep.jpg"))
    assert _partials(dest.parent) == []
    assert (tmp_path / "data" / "downloads" / "BSR_bsds500.tgz").is_file()  # default cache location
    assert capsys.readouterr().out.strip() == f"BSDS500: 2 train / 1 val / 2 test photos in {dest}"
    assert server.gets == 1


def test_second_call_uses_the_copy_then_the_cached_archive(tmp_path, server, bsds):
    url, md5 = bsds
    dest, cache = tmp_path / "bsds500", tmp_path / "cache"
    download_bsds500(dest, url=url, known_hash=md5, cache_dir=cache, progress=False)
    assert server.gets == 1

    assert download_bsds500(dest, url=url, known_hash=md5, cache_dir=cache, progress=False) == dest
    assert server.gets == 1  # complete copy: no network at all

    first = _tree(dest)
    for photo in dest.rglob("*.jpg"):
        photo.unlink()
    for split in PHOTOS:
        (dest / split).rmdir()
    dest.rmdir()
    assert download_bsds500(dest, url=url, known_hash=md5, cache_dir=cache, progress=False) == dest
    assert server.gets == 1  # re-extracted from the cache, not re-downloaded
    assert _tree(dest) == first


def test_checksum_mismatch_is_one_line_and_leaves_nothing(tmp_path, server, bsds):
    url, _ = bsds
    dest, cache = tmp_path / "bsds500", tmp_path / "cache"
    with pytest.raises(ColorizeError) as err:
        download_bsds500(dest, url=url, known_hash="md5:" + "0" * 32, cache_dir=cache, progress=False)
    message = _assert_one_line(err)
    assert "checksum" in message and "try again" in message
    assert server.gets == 1
    assert not dest.exists()
    assert list(cache.iterdir()) == []  # pooch discarded the bad file (and its temporary)


def test_unreachable_server_suggests_local_copy_or_sample(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/BSR_bsds500.tgz"
    dest = tmp_path / "bsds500"
    with pytest.raises(ColorizeError) as err:
        download_bsds500(dest, url=url, cache_dir=tmp_path / "cache", progress=False, timeout=2)
    message = _assert_one_line(err)
    assert url in message and "DATA_DIR" in message and "sample" in message
    assert "HTTPConnectionPool" not in message  # the reason is boiled down, not urllib3's repr
    assert not dest.exists()


def test_http_error_is_reported_like_a_network_failure(tmp_path, server):
    dest = tmp_path / "bsds500"
    with pytest.raises(ColorizeError) as err:
        download_bsds500(dest, url=server.url("missing.tgz"), cache_dir=tmp_path / "cache", progress=False)
    message = _assert_one_line(err)
    assert "HTTP 404" in message and "DATA_DIR" in message
    assert not dest.exists()


def test_failure_mid_extraction_leaves_no_partial_tree(tmp_path, server, bsds, monkeypatch):
    url, md5 = bsds
    dest = tmp_path / "bsds500"
    real_write = download._write_member
    written: list[Path] = []

    def flaky_write(source, target: Path) -> None:
        if len(written) == 2:
            raise OSError(28, "No space left on device")
        real_write(source, target)
        written.append(target)

    monkeypatch.setattr(download, "_write_member", flaky_write)
    with pytest.raises(ColorizeError) as err:
        download_bsds500(dest, url=url, known_hash=md5, cache_dir=tmp_path / "cache", progress=False)
    message = _assert_one_line(err)
    assert "No space left on device" in message
    assert len(written) == 2 and not any(p.exists() for p in written)
    assert not dest.exists()
    assert _partials(tmp_path) == []

    monkeypatch.setattr(download, "_write_member", real_write)  # the cached archive still works
    download_bsds500(dest, url=url, known_hash=md5, cache_dir=tmp_path / "cache", progress=False)
    assert is_complete_copy(dest) and server.gets == 1


@pytest.mark.parametrize("layout", ["flat", "missing_test"])
def test_archive_without_the_expected_layout(tmp_path, server, layout):
    files = {name: data for name, data in _bsds_files().items() if "/images/" in name}
    if layout == "flat":
        files = {f"photos/{Path(name).name}": data for name, data in files.items()}
    else:
        files = {name: data for name, data in files.items() if "/test/" not in name}
    md5 = _make_archive(server.root / "other.tgz", files)
    dest = tmp_path / "bsds500"
    with pytest.raises(ColorizeError) as err:
        download_bsds500(dest, url=server.url("other.tgz"), known_hash=md5, cache_dir=tmp_path / "c", progress=False)
    assert "BSR/BSDS500/data/images/{train,val,test}" in _assert_one_line(err)
    assert not dest.exists()
    assert _partials(tmp_path) == []


def test_refuses_a_non_empty_incomplete_folder(tmp_path, server, bsds):
    url, md5 = bsds
    dest = tmp_path / "bsds500"
    (dest / "train").mkdir(parents=True)
    notes = dest / "my-notes.txt"
    notes.write_text("precious")
    with pytest.raises(ColorizeError) as err:
        download_bsds500(dest, url=url, known_hash=md5, cache_dir=tmp_path / "cache", progress=False)
    message = _assert_one_line(err)
    assert str(dest) in message and "delete it" in message
    assert notes.read_text() == "precious"
    assert sorted(p.name for p in dest.iterdir()) == ["my-notes.txt", "train"]
    assert server.gets == 0  # refused before downloading 70 MB for nothing


def test_an_empty_existing_folder_is_filled(tmp_path, server, bsds):
    url, md5 = bsds
    dest = tmp_path / "bsds500"
    dest.mkdir()
    assert download_bsds500(dest, url=url, known_hash=md5, cache_dir=tmp_path / "cache", progress=False) == dest
    assert is_complete_copy(dest)


def test_is_complete_copy(tmp_path):
    folder = tmp_path / "copy"
    assert not is_complete_copy(folder)  # missing
    for split in ("train", "val"):
        (folder / split).mkdir(parents=True)
        (folder / split / "a.jpg").write_bytes(b"x")
    assert not is_complete_copy(folder)  # no test/
    (folder / "test").mkdir()
    (folder / "test" / "Thumbs.db").write_bytes(b"x")
    assert not is_complete_copy(folder)  # test/ without photos
    (folder / "test" / "b.jpg").mkdir()
    assert not is_complete_copy(folder)  # a folder named like a photo is not one
    (folder / "test" / "c.JPG").write_bytes(b"x")
    assert is_complete_copy(folder)
    assert is_complete_copy(str(folder))
