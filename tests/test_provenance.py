"""What a colorized file says about itself, read back from the files: the provenance marks (XMP
Digital Source Type, EXIF Software and ImageDescription) in JPEG, PNG and TIFF, the source's own
EXIF (text byte for byte, GPS included) and ICC profile kept with or without them, and the
command's audit trail ``<out>/manifest.csv`` (one row per photo, the source's SHA-256, appended
by each run without touching earlier rows)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import xml.etree.ElementTree as ElementTree
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms
from skimage import data as skimage_data

from colorize import catalog, cli, manifest, models, photo_files, provenance
from colorize.photo_files import Job
from colorize.provenance import DIGITAL_SOURCE_TYPE, Provenance

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")

SOFTWARE, DESCRIPTION, MAKE, MODEL, DATE_TIME, COPYRIGHT = 0x0131, 0x010E, 0x010F, 0x0110, 0x0132, 0x8298
EXIF_IFD, GPS_IFD, DATE_TIME_ORIGINAL = 0x8769, 0x8825, 0x9003
NAMESPACES = {"x": "adobe:ns:meta/", "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
              "Iptc4xmpExt": "http://iptc.org/std/Iptc4xmpExt/2008-02-29/", "xmp": "http://ns.adobe.com/xap/1.0/",
              "dc": "http://purl.org/dc/elements/1.1/"}
SUFFIXES = (".jpg", ".png", ".tif")
VERSION = metadata.version("colorize")


@pytest.fixture
def home(in_tiny_course) -> Path:
    return in_tiny_course


def _rgb(height: int = 72, width: int = 108) -> np.ndarray:
    return np.asarray(Image.fromarray(skimage_data.astronaut()).resize((width, height), Image.Resampling.BOX))


def _srgb_profile() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _source_exif() -> dict:
    """A scan's EXIF with non-ASCII text (UTF-8, as cameras and editors write it) and GPS."""
    return {MAKE: "Epson".encode(), MODEL: "Perfection V600".encode(), DATE_TIME: b"1952:07:14 10:00:00",
            COPYRIGHT: "© Familie Müller".encode(), DESCRIPTION: "Oma in München".encode(),
            SOFTWARE: b"EPSON Scan"}


def _save_with_metadata(path: Path, rgb: np.ndarray, icc: bytes | None = None) -> None:
    """``rgb`` saved with :func:`_source_exif`, a date in the EXIF sub-directory, GPS and ``icc``."""
    exif = Image.Exif()
    for tag, value in _source_exif().items():
        exif[tag] = value
    exif.get_ifd(EXIF_IFD)[DATE_TIME_ORIGINAL] = "1952:07:14 10:00:00"
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (48.0, 8.0, 0.0), 3: "E", 4: (11.0, 34.0, 0.0)})
    options = {"icc_profile": icc} if icc else {}
    if path.suffix == ".tif":  # Pillow's TIFF writer keeps text bytes only from tags, not from an EXIF block
        tags = dict(_source_exif())
        tags[EXIF_IFD] = {DATE_TIME_ORIGINAL: "1952:07:14 10:00:00"}
        tags[GPS_IFD] = dict(exif.get_ifd(GPS_IFD))
        Image.fromarray(rgb).save(path, exif=tags, **options)
    else:
        Image.fromarray(rgb).save(path, exif=exif.tobytes(), **options)


def _text(value) -> str:
    """An EXIF text Pillow read (as Latin-1) back to what was written (UTF-8)."""
    return value.encode("latin-1").decode("utf-8") if isinstance(value, str) else value


def _xmp_root(image: Image.Image) -> ElementTree.Element | None:
    packet = image.info.get("xmp")
    if packet is None:
        return None
    text = packet.decode("utf-8") if isinstance(packet, bytes) else packet
    return ElementTree.fromstring(text.strip("\x00 "))  # a packet that is not well-formed XML fails here


def _marks(path: Path) -> dict:
    """What a reader finds in ``path``: EXIF texts, GPS, date, ICC profile, XMP fields."""
    with Image.open(path) as image:
        exif = image.getexif()
        found = {name: _text(exif.get(tag)) for name, tag in
                 (("software", SOFTWARE), ("description", DESCRIPTION), ("make", MAKE), ("model", MODEL),
                  ("date", DATE_TIME), ("copyright", COPYRIGHT))}
        found["gps"] = dict(exif.get_ifd(GPS_IFD))
        found["original_date"] = exif.get_ifd(EXIF_IFD).get(DATE_TIME_ORIGINAL)
        found["icc"] = image.info.get("icc_profile")
        root = _xmp_root(image)
    found["xmp"] = root is not None
    if root is not None:
        found["source_type"] = root.findtext(".//Iptc4xmpExt:DigitalSourceType", namespaces=NAMESPACES)
        found["creator_tool"] = root.findtext(".//xmp:CreatorTool", namespaces=NAMESPACES)
        found["xmp_description"] = root.findtext(".//dc:description/rdf:Alt/rdf:li", namespaces=NAMESPACES)
    return found


def _assert_source_metadata_kept(found: dict, icc: bytes, path: Path) -> None:
    assert found["icc"] == icc, f"{path.name}: ICC profile lost"
    assert (found["make"], found["model"], found["date"]) == ("Epson", "Perfection V600", "1952:07:14 10:00:00")
    assert found["copyright"] == "© Familie Müller", path.name  # not "?? Familie M??ller"
    assert found["original_date"] == "1952:07:14 10:00:00", path.name
    assert found["gps"] == {1: "N", 2: (48.0, 8.0, 0.0), 3: "E", 4: (11.0, 34.0, 0.0)}, path.name


# --- the marks themselves --------------------------------------------------------------------------

def test_the_xmp_packet_is_well_formed_and_escapes_the_model_name():
    marks = Provenance('U-Net <"L2"> & co', hints=1)
    root = ElementTree.fromstring(marks.xmp("a <b> & c").decode("utf-8"))
    assert root.tag == "{adobe:ns:meta/}xmpmeta"
    assert root.findtext(".//Iptc4xmpExt:DigitalSourceType", namespaces=NAMESPACES) == DIGITAL_SOURCE_TYPE
    assert root.findtext(".//xmp:CreatorTool", namespaces=NAMESPACES) == f"colorize {VERSION}"
    description = root.findtext(".//dc:description/rdf:Alt/rdf:li", namespaces=NAMESPACES)
    assert description == marks.description("a <b> & c")
    assert 'with the model U-Net <"L2"> & co (1 colour hint);' in description
    assert description.endswith("Original description: a <b> & c")
    assert "\x07" not in Provenance("bell\x07model").xmp().decode()  # XML 1.0 cannot hold control characters


def test_the_description_names_the_model_the_hints_and_what_the_source_said():
    assert provenance.version() == VERSION
    plain = Provenance("U-Net, L2 loss").description()
    assert plain == (f"Colorized by colorize {VERSION} with the model U-Net, L2 loss; the colours are a model's "
                     "estimate, not a record of the original colours.")
    assert "(3 colour hints)" in Provenance("m", hints=3).description()
    kept = Provenance("m").description("Oma\nin München", original_software="EPSON Scan")
    assert kept.endswith("Original description: Oma in München (source software: EPSON Scan)")
    assert Provenance("m").exif_tags() == {SOFTWARE: f"colorize {VERSION}", DESCRIPTION: plain.replace(
        "U-Net, L2 loss", "m")}


# --- write_photo: marks in every format that can carry them, the source's metadata kept ---------

@pytest.mark.parametrize("suffix", SUFFIXES)
def test_results_carry_the_marks_and_keep_the_sources_exif_and_icc(tmp_path, suffix):
    icc = _srgb_profile()
    source = tmp_path / f"scan{suffix}"
    _save_with_metadata(source, _rgb(), icc)
    photo = photo_files.read_photo(source)
    assert photo.icc == icc
    marks = Provenance("U-Net, L2 loss", hints=3)
    target = tmp_path / "out" / source.name
    photo_files.write_photo(photo.rgb, photo.alpha, target, exif=photo.exif, icc=photo.icc, provenance=marks)

    found = _marks(target)
    assert found["software"] == f"colorize {VERSION}"
    assert found["description"] == found["xmp_description"] == marks.description("Oma in München", "EPSON Scan")
    assert "the model U-Net, L2 loss (3 colour hints)" in found["description"]
    assert found["description"].endswith("Original description: Oma in München (source software: EPSON Scan)")
    assert found["source_type"] == DIGITAL_SOURCE_TYPE
    assert found["creator_tool"] == f"colorize {VERSION}"
    _assert_source_metadata_kept(found, icc, target)
    with Image.open(target) as image:
        if hasattr(image, "getxmp"):  # Pillow's own XMP reader (needs defusedxml) agrees
            try:
                parsed = image.getxmp()
            except Exception:  # noqa: BLE001 - no defusedxml: the ElementTree check above stands
                parsed = None
            if parsed:
                assert parsed["xmpmeta"]["RDF"]["Description"]["DigitalSourceType"] == DIGITAL_SOURCE_TYPE


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_without_provenance_nothing_is_added_and_the_source_metadata_stays(tmp_path, suffix):
    icc = _srgb_profile()
    source = tmp_path / f"scan{suffix}"
    _save_with_metadata(source, _rgb(), icc)
    photo = photo_files.read_photo(source)
    target = tmp_path / "out" / source.name
    photo_files.write_photo(photo.rgb, photo.alpha, target, exif=photo.exif, icc=photo.icc)
    found = _marks(target)
    assert not found["xmp"]
    assert found["software"] == "EPSON Scan" and found["description"] == "Oma in München"  # the source's own
    _assert_source_metadata_kept(found, icc, target)


def test_a_photo_without_metadata_gets_only_the_marks(tmp_path):
    source = tmp_path / "bare.png"
    Image.fromarray(_rgb()).save(source)
    photo = photo_files.read_photo(source)
    assert photo.exif is None and photo.icc is None
    target = tmp_path / "out.png"
    photo_files.write_photo(photo.rgb, None, target, exif=photo.exif, icc=photo.icc, provenance=Provenance("m"))
    found = _marks(target)
    assert found["software"] == f"colorize {VERSION}" and found["source_type"] == DIGITAL_SOURCE_TYPE
    assert found["icc"] is None and found["make"] is None
    assert found["description"] == Provenance("m").description()  # no "Original description" invented


def test_a_bmp_carries_no_metadata_and_is_still_written(tmp_path):
    source = tmp_path / "scan.bmp"
    Image.fromarray(_rgb()).save(source)
    photo = photo_files.read_photo(source)
    target = tmp_path / "out.bmp"
    photo_files.write_photo(photo.rgb, None, target, exif=photo.exif, icc=_srgb_profile(), provenance=Provenance("m"))
    with Image.open(target) as image:
        assert image.format == "BMP" and image.size == (108, 72)


def test_a_gray_or_cmyk_profile_is_not_attached_to_rgb_pixels(tmp_path):
    rgb_profile = _srgb_profile()
    for space in (b"GRAY", b"CMYK"):
        source = tmp_path / f"{space.decode().lower()}.png"
        foreign = rgb_profile[:16] + space + rgb_profile[20:]  # a profile for another colour space
        Image.fromarray(_rgb()).convert("L").save(source, icc_profile=foreign)
        assert photo_files.read_photo(source).icc is None, space


# --- the command: marks on by default, --no-provenance, and the same bytes as colorize_file ------

def _run(args: list, capsys) -> tuple[int, list[str]]:
    status = cli.main([str(a) for a in args])
    return status, [line for line in capsys.readouterr().err.splitlines() if line.strip()]


def _manifest(out: Path) -> list[dict]:
    with open(out / manifest.NAME, newline="", encoding="utf-8") as file:
        reader = csv.DictReader(file)
        assert tuple(reader.fieldnames) == manifest.COLUMNS
        return list(reader)


def _album(folder: Path) -> tuple[Path, bytes]:
    """A folder with one photo per format that carries metadata (with EXIF and ICC), a BMP and a
    text file named like a photo."""
    icc = _srgb_profile()
    folder.mkdir()
    for index, suffix in enumerate(SUFFIXES):
        _save_with_metadata(folder / f"scan{suffix}", np.roll(_rgb(), 9 * index, axis=1), icc)
    Image.fromarray(_rgb()).save(folder / "plain.bmp")
    (folder / "notes.jpg").write_text("box 3: scan these next week\n")
    return folder, icc


def test_the_command_marks_results_keeps_metadata_and_writes_what_colorize_file_writes(home, tmp_path, capsys):
    album, icc = _album(tmp_path / "album")
    out = tmp_path / "out"
    status, lines = _run([album, "--out", out], capsys)
    assert status == cli.EXIT_SOME_FAILED, lines  # notes.jpg is not a photo
    chosen = catalog.choose(None)
    for suffix in SUFFIXES:
        found = _marks(out / "album" / f"scan{suffix}")
        assert found["software"] == f"colorize {VERSION}", suffix
        assert found["source_type"] == DIGITAL_SOURCE_TYPE, suffix
        assert f"with the model {chosen.description};" in found["description"], suffix
        assert "the colours are a model's estimate" in found["description"]
        assert found["description"].endswith("Original description: Oma in München (source software: EPSON Scan)")
        _assert_source_metadata_kept(found, icc, out / "album" / f"scan{suffix}")
    # The web server calls colorize_file; the command line gives the very same bytes.
    for suffix in (*SUFFIXES, ".bmp"):
        name = f"scan{suffix}" if suffix != ".bmp" else "plain.bmp"
        again = tmp_path / "again" / name
        outcome = photo_files.colorize_file(chosen.colorizer, Job(album / name, again),
                                            provenance=Provenance(chosen.description))
        assert outcome == "done"
        assert again.read_bytes() == (out / "album" / name).read_bytes(), name
    assert photo_files.colorize_file(chosen.colorizer, Job(album / "scan.png", again.parent / "scan.png")) == "skipped"


def test_no_provenance_leaves_the_marks_out_and_keeps_the_sources_metadata(home, tmp_path, capsys):
    album, icc = _album(tmp_path / "album")
    (album / "notes.jpg").unlink()
    out = tmp_path / "out"
    status, lines = _run([album, "--out", out, "--no-provenance"], capsys)
    assert status == cli.EXIT_OK, lines
    for suffix in SUFFIXES:
        result = out / "album" / f"scan{suffix}"
        found = _marks(result)
        assert not found["xmp"], suffix
        assert found["software"] == "EPSON Scan" and found["description"] == "Oma in München", suffix
        assert b"colorize" not in result.read_bytes() and b"TrainedAlgorithmic" not in result.read_bytes()
        _assert_source_metadata_kept(found, icc, result)
    assert len(_manifest(out)) == 4  # the audit trail is kept either way


def test_hints_are_counted_in_the_marks_and_the_manifest(home, tmp_path, capsys):
    photo = tmp_path / "photo.png"
    Image.fromarray(_rgb(48, 64)).save(photo)
    hint_model = tmp_path / "hint.keras"
    models.build("hint_unet", base_filters=4, depth=2).save(hint_model)
    hints = tmp_path / "hints.json"
    hints.write_text(json.dumps([{"x": 3, "y": 3, "color": "#a0522d"}, {"x": 40, "y": 30, "color": "#336699"}]))
    out = tmp_path / "out"
    status, lines = _run([photo, "--model", hint_model, "--hints", hints, "--out", out], capsys)
    assert status == cli.EXIT_OK, lines
    assert "(2 colour hints)" in _marks(out / "photo.png")["description"]
    assert [row["hints"] for row in _manifest(out)] == ["2"]


# --- the manifest ------------------------------------------------------------------------------------

def test_the_manifest_has_a_row_per_photo_and_a_second_run_appends(home, tmp_path, capsys):
    album, _ = _album(tmp_path / "album")
    missing = tmp_path / "gone.jpg"
    out = tmp_path / "out"
    _run([album, missing, "--out", out], capsys)
    first_bytes = (out / manifest.NAME).read_bytes()
    rows = _manifest(out)
    model = catalog.choose(None).description
    by_name = {Path(row["source"]).name: row for row in rows}
    assert sorted(by_name) == ["gone.jpg", "notes.jpg", "plain.bmp", "scan.jpg", "scan.png", "scan.tif"]
    for name in ("plain.bmp", "scan.jpg", "scan.png", "scan.tif"):
        row = by_name[name]
        assert row["source"] == str(album / name)  # absolute
        assert row["source_sha256"] == hashlib.sha256((album / name).read_bytes()).hexdigest()
        assert row["output"] == str(out / "album" / name) and (out / "album" / name).is_file()
        assert (row["outcome"], row["model"], row["hints"], row["message"]) == ("done", model, "0", "")
        assert float(row["seconds"]) > 0
    notes = by_name["notes.jpg"]
    assert notes["outcome"] == "failed" and "not a readable image" in notes["message"]
    assert notes["source_sha256"] == hashlib.sha256((album / "notes.jpg").read_bytes()).hexdigest()
    gone = by_name["gone.jpg"]
    assert (gone["outcome"], gone["source_sha256"], gone["output"], gone["seconds"]) == ("failed", "", "", "")
    assert gone["message"] == "no such file or folder"

    _run([album, "--out", out], capsys)  # everything exists now: skipped, and the first rows untouched
    assert (out / manifest.NAME).read_bytes().startswith(first_bytes)
    later = _manifest(out)[len(rows):]
    assert sorted((Path(row["source"]).name, row["outcome"]) for row in later) == [
        ("notes.jpg", "failed"), ("plain.bmp", "skipped"), ("scan.jpg", "skipped"), ("scan.png", "skipped"),
        ("scan.tif", "skipped")]
    assert all(row["source_sha256"] == by_name[Path(row["source"]).name]["source_sha256"] for row in later)
    assert not list(out.glob(".colorizing-*"))
    # the manifest is never an input, and a run over the output folder does not read it
    assert photo_files.plan_jobs([out], tmp_path / "elsewhere") and all(
        job.source.suffix != ".csv" for job in photo_files.plan_jobs([out], tmp_path / "elsewhere"))


def test_a_manifest_that_cannot_be_written_is_one_warning_and_the_photos_go_on(home, tmp_path, capsys):
    photo = tmp_path / "photo.png"
    Image.fromarray(_rgb()).save(photo)
    out = tmp_path / "out"
    (out / manifest.NAME).mkdir(parents=True)  # unwritable even for root
    second = tmp_path / "second.png"
    Image.fromarray(_rgb()[::-1]).save(second)
    status, lines = _run([photo, second, "--out", out], capsys)
    assert status == cli.EXIT_OK, lines
    warnings = [line for line in lines if line.startswith("warning:")]
    assert len(warnings) == 1 and str(out / manifest.NAME) in warnings[0], lines
    assert lines[-1].startswith("colorized 2, skipped 0, failed 0")
    assert (out / "photo.png").is_file() and (out / "second.png").is_file()


def test_rows_are_appended_whole_after_a_row_cut_short(tmp_path):
    book = manifest.Manifest(tmp_path, durable=False)
    photo = tmp_path / "a.png"
    photo.write_bytes(b"not really a photo")
    book.add(photo, tmp_path / "out" / "a.png", "model, with a comma", 0, 1.5, "done")
    with open(book.path, "ab") as file:
        file.write(b"/half/a/row,abc")  # what a full disk can leave of a row
    book.add(photo, None, 'model "quoted"', 2, None, "failed", "why, in one line")
    rows = list(csv.reader(io.StringIO(book.path.read_text(encoding="utf-8"))))
    assert rows[0] == list(manifest.COLUMNS)
    assert rows[1] == [str(photo), hashlib.sha256(b"not really a photo").hexdigest(), str(tmp_path / "out" / "a.png"),
                       "model, with a comma", "0", "1.500", "done", ""]
    assert rows[2] == ["/half/a/row", "abc"]
    assert rows[3] == [str(photo), rows[1][1], "", 'model "quoted"', "2", "", "failed", "why, in one line"]


def test_the_hash_of_a_pipe_or_a_missing_file_is_empty_and_never_waits(tmp_path):
    os.mkfifo(tmp_path / "pipe.jpg")
    assert manifest.sha256_of(tmp_path / "pipe.jpg") == ""  # opening a pipe would wait for a writer
    assert manifest.sha256_of(tmp_path / "missing.jpg") == ""
    assert manifest.sha256_of(tmp_path) == ""
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(3 * (1 << 20) + 17))  # more than one chunk
    assert manifest.sha256_of(big) == hashlib.sha256(big.read_bytes()).hexdigest()
