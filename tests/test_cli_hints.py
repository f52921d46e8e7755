"""Colour hints in the ``colorize`` command: the JSON and image parsers with their one-line
errors, and the command refusing (exit 2, nothing written) what it cannot honour."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from colorize import cli, hint_files, lab, models
from colorize.config import ColorizeError


@pytest.fixture
def home(in_tiny_course) -> Path:
    return in_tiny_course


def _write_json(path: Path, points) -> Path:
    path.write_text(json.dumps(points))
    return path


def test_json_points_become_centred_squares_with_their_colours_ab(tmp_path):
    path = _write_json(tmp_path / "h.json", [{"x": 10, "y": 20, "color": "#ff0000"},
                                             {"x": 0, "y": 0, "color": "a0522d", "size": 3}])
    red, sienna = hint_files.read_hints_json(path, width=64, height=48)
    expected = np.asarray(lab.rgb_to_lab(np.array([[[1.0, 0.0, 0.0]]], np.float32)))[0, 0, 1:]
    assert (red.x, red.y, red.size) == (10 - hint_files.DEFAULT_SIZE // 2, 20 - hint_files.DEFAULT_SIZE // 2,
                                        hint_files.DEFAULT_SIZE)
    np.testing.assert_allclose((red.a, red.b), expected, atol=0.01)
    assert red.a > 70 and red.b > 50  # sRGB red: strongly +a, +b
    assert (sienna.x, sienna.y, sienna.size) == (0, 0, 2)  # clipped at the corner


@pytest.mark.parametrize("content, message", [
    ('[{"x": 64, "y": 1, "color": "#ffffff"}]', "outside the photo"),
    ('[{"x": 1, "y": 1, "color": "red"}]', "is not #rrggbb"),
    ('[{"x": 1, "y": 1}]', "needs \"x\", \"y\" and \"color\""),
    ('[{"x": 1, "y": 1, "color": "#ffffff", "colour": 2}]', "unknown key"),
    ('[{"x": "1", "y": 1, "color": "#ffffff"}]', "must be numbers"),
    ('{"x": 1}', "expected a list"),
    ('[{"x": 1, "y": 1, "color": "#ffffff",}]', "not valid JSON"),
])
def test_bad_json_hints_get_one_line_that_says_what_to_fix(tmp_path, content, message):
    path = tmp_path / "h.json"
    path.write_text(content)
    with pytest.raises(ColorizeError, match=message) as error:
        hint_files.read_hints_json(path, width=64, height=48)
    assert "\n" not in str(error.value)


def test_a_hints_image_gives_one_hint_per_painted_pixel(tmp_path):
    marks = np.zeros((48, 64, 4), np.uint8)
    marks[5, 7] = (0, 0, 255, 255)
    marks[30, 40] = (0, 200, 0, 128)
    Image.fromarray(marks).save(tmp_path / "marks.png")
    points = hint_files.read_hints_image(tmp_path / "marks.png", width=64, height=48)
    assert sorted((p.x, p.y) for p in points) == [(7, 5), (40, 30)]
    blue = next(p for p in points if p.x == 7)
    assert blue.b < -50  # sRGB blue: strongly -b


def test_a_hints_image_of_another_size_or_without_transparency_is_refused(tmp_path):
    Image.fromarray(np.zeros((48, 60, 4), np.uint8)).save(tmp_path / "small.png")
    Image.fromarray(np.zeros((48, 64, 3), np.uint8)).save(tmp_path / "opaque.png")
    with pytest.raises(ColorizeError, match="but the photo is 64 x 48"):
        hint_files.read_hints_image(tmp_path / "small.png", width=64, height=48)
    with pytest.raises(ColorizeError, match="no transparency"):
        hint_files.read_hints_image(tmp_path / "opaque.png", width=64, height=48)
    (tmp_path / "text.png").write_text("not an image")
    with pytest.raises(ColorizeError, match="not a readable image"):
        hint_files.read_hints_image(tmp_path / "text.png", width=64, height=48)


def _photo(tmp_path: Path, name: str = "photo.png") -> Path:
    rgb = np.random.default_rng(0).integers(0, 255, (48, 64, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / name)
    return tmp_path / name


def _run(args, capsys):
    status = cli.main([str(a) for a in args])
    return status, [line for line in capsys.readouterr().err.splitlines() if line.strip()]


def test_the_command_refuses_hints_it_cannot_honour_and_writes_nothing(home, tmp_path, capsys):
    photo = _photo(tmp_path)
    hints = _write_json(tmp_path / "h.json", [{"x": 3, "y": 3, "color": "#a0522d"}])
    out = tmp_path / "out"
    status, lines = _run([photo, "--hints", hints, "--out", out], capsys)  # the course's model takes no hints
    assert status == 2 and lines == [lines[0]] and "takes no colour hints" in lines[0]
    hint_model = tmp_path / "hint.keras"
    models.build("hint_unet", base_filters=4, depth=2).save(hint_model)
    for args, message in [([photo, _photo(tmp_path, "other.png"), "--hints", hints], "exactly one photo"),
                          ([photo, "--hints", tmp_path / "missing.json"], "no such file"),
                          ([photo, "--hints", _write_json(tmp_path / "far.json", [{"x": 99, "y": 3, "color": "#000000"}])],
                           "outside the photo")]:
        status, lines = _run([*args, "--model", hint_model, "--out", out], capsys)
        assert status == 2 and message in lines[-1], lines
    assert not out.exists()


def test_the_command_colorizes_one_photo_with_hints_and_one_without(home, tmp_path, capsys):
    photo = _photo(tmp_path)
    hint_model = tmp_path / "hint.keras"
    models.build("hint_unet", base_filters=4, depth=2).save(hint_model)
    hints = _write_json(tmp_path / "h.json", [{"x": 3, "y": 3, "color": "#a0522d", "size": 9}])
    status, _ = _run([photo, "--model", hint_model, "--hints", hints, "--out", tmp_path / "a"], capsys)
    assert status == 0 and (tmp_path / "a" / "photo.png").is_file()
    status, _ = _run([photo, "--model", hint_model, "--out", tmp_path / "b"], capsys)  # no hints: automatic
    assert status == 0 and (tmp_path / "b" / "photo.png").is_file()
