"""``colorize serve``'s HTTP API through the framework's test client: every endpoint, every error
(as JSON with the command line's one line), the result byte for byte the command's, the busy
answer (503 + Retry-After) and the page and its documentation."""

from __future__ import annotations

import io
import json
import threading
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from skimage import data as skimage_data

from colorize import cli, models, server

from conftest import TINY_LABEL

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")


@pytest.fixture
def home(in_tiny_course) -> Path:
    return in_tiny_course


@pytest.fixture
def client(home) -> TestClient:
    with TestClient(server.create_app()) as test_client:
        yield test_client


def _photo_bytes(kind: str = "JPEG", size=(180, 120), gray: bool = True) -> bytes:
    image = Image.fromarray(skimage_data.astronaut()).resize(size, Image.Resampling.BOX)
    if gray:
        image = image.convert("L")
    buffer = io.BytesIO()
    image.save(buffer, format=kind, **({"quality": 90} if kind == "JPEG" else {}))
    return buffer.getvalue()


def _post(client, content: bytes, name: str = "photo.jpg", **fields):
    return client.post("/api/colorize", files={"photo": (name, content, "application/octet-stream")},
                       data={key: str(value) for key, value in fields.items()})


def _command_result(tmp_path: Path, content: bytes, name: str, *options) -> bytes:
    source = tmp_path / "in" / name
    source.parent.mkdir(exist_ok=True)
    source.write_bytes(content)
    out = tmp_path / "out"
    assert cli.main([str(source), "--out", str(out), "--overwrite", *map(str, options)]) == 0
    return (out / name).read_bytes()


def test_health_and_models_say_what_the_server_has(client):
    health = client.get("/api/health").json()
    assert health["status"] == "ok" and health["in_flight"] == 0 and health["max_in_flight"] == server.MAX_IN_FLIGHT
    listed = client.get("/api/models").json()["models"]
    assert [model["name"] for model in listed] == [TINY_LABEL]
    assert listed[0]["default"] is True and listed[0]["takes_hints"] is False


@pytest.mark.parametrize("kind, name, media", [("JPEG", "old.jpg", "image/jpeg"), ("PNG", "old.png", "image/png")])
def test_a_photo_comes_back_colorized_byte_for_byte_as_the_command_writes_it(client, tmp_path, kind, name, media):
    content = _photo_bytes(kind)
    response = _post(client, content, name)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == media
    assert 'filename="old-colorized' in response.headers["content-disposition"]
    result = Image.open(io.BytesIO(response.content))
    assert result.size == (180, 120) and result.mode == "RGB" and result.format == kind
    assert np.asarray(result).std(axis=-1).mean() > 0.0  # the tiny model paints some colour: not gray
    assert response.content == _command_result(tmp_path, content, name)
    assert _post(client, content, name).content == response.content  # the second request: the same bytes


def test_alpha_is_kept_and_the_format_follows_the_content_not_the_name(client):
    rgba = np.dstack([np.asarray(Image.fromarray(skimage_data.astronaut()).resize((64, 48)).convert("RGB")),
                      np.tile(np.linspace(0, 255, 64).astype(np.uint8), (48, 1))])
    buffer = io.BytesIO()
    Image.fromarray(rgba).save(buffer, format="PNG")
    response = _post(client, buffer.getvalue(), "named-wrongly.jpg")
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    result = Image.open(io.BytesIO(response.content))
    assert result.mode == "RGBA" and np.array_equal(np.asarray(result)[..., 3], rgba[..., 3])


@pytest.mark.parametrize("content, status, words", [
    (b"hello, I am text", 400, "not an image"),
    (b"", 400, "empty"),
    (_photo_bytes("JPEG")[:300], 400, "damaged"),  # cut inside its header
    (_photo_bytes("JPEG")[:2000], 400, "is the file complete"),  # header whole, pixels cut
    (_photo_bytes("GIF"), 400, "GIF images are not taken"),
    (_photo_bytes("PNG", size=(4, 4)), 400, "too small"),
])
def test_what_is_not_a_photo_gets_400_with_one_line(client, content, status, words):
    response = _post(client, content)
    assert response.status_code == status and words in response.json()["error"], response.text
    assert "\n" not in response.json()["error"]


def test_over_50_megapixels_gets_413_before_it_is_decoded(client):
    buffer = io.BytesIO()
    Image.new("1", (8000, 6400)).save(buffer, format="PNG")  # 51.2 MP in a few kB
    response = _post(client, buffer.getvalue(), "huge.png")
    assert response.status_code == 413 and "megapixels" in response.json()["error"]


def test_over_the_upload_limit_gets_413(home):
    with TestClient(server.create_app(max_upload_bytes=2000)) as small:
        response = _post(small, _photo_bytes("PNG", gray=False))
    assert response.status_code == 413 and "over" in response.json()["error"]


@pytest.mark.parametrize("fields, words", [
    ({"size": 4}, "size 4 is outside"),
    ({"temperature": 3}, "temperature 3.0 is outside"),
    ({"size": "big"}, "size"),
    ({"model": "no such model"}, "no model called"),
    ({"hints": '[{"x": 1, "y": 2, "color": "#ff0000"}]'}, "takes no colour hints"),
])
def test_bad_options_get_422_with_the_commands_words(client, fields, words):
    response = _post(client, _photo_bytes(), **fields)
    assert response.status_code == 422 and words in response.json()["error"], response.text


def test_hints_reach_a_hint_model_and_bad_hints_get_422(client, tmp_path):
    hint_model = tmp_path / "hint.keras"
    models.build("hint_unet", base_filters=4, depth=2).save(hint_model)
    content = _photo_bytes("PNG")
    hints = [{"x": 40, "y": 30, "color": "#1060ff", "size": 9}]
    plain = _post(client, content, "p.png", model=hint_model)
    hinted = _post(client, content, "p.png", model=hint_model, hints=json.dumps(hints))
    assert plain.status_code == hinted.status_code == 200 and hinted.headers["x-colorize-hints"] == "1"
    changed = np.abs(np.asarray(Image.open(io.BytesIO(hinted.content)), float)
                     - np.asarray(Image.open(io.BytesIO(plain.content)), float)).sum(axis=-1)
    assert changed[30, 40] > 0  # the hint changed the colour where it is
    hint_file = tmp_path / "hints.json"
    hint_file.write_text(json.dumps(hints))
    assert hinted.content == _command_result(tmp_path, content, "p.png", "--model", hint_model, "--hints", hint_file)
    for bad, words in [("[{\"x\": 400, \"y\": 3, \"color\": \"#000000\"}]", "outside the photo"),
                       ("not json", "not valid JSON"), ("[{\"x\": 1, \"y\": 1, \"color\": \"red\"}]", "#rrggbb")]:
        response = _post(client, content, "p.png", model=hint_model, hints=bad)
        assert response.status_code == 422 and words in response.json()["error"], response.text


def test_suggestions_are_the_most_likely_colours_of_a_distribution_model(client, tmp_path):
    classifier = tmp_path / "classifier.keras"
    models.build("colorful_classifier", base_filters=4, depth=2).save(classifier)
    form = {"x": "20", "y": "10", "model": str(classifier)}
    response = client.post("/api/suggest", files={"photo": ("p.png", _photo_bytes("PNG"))}, data=form)
    assert response.status_code == 200, response.text
    colours = response.json()["colors"]
    probabilities = [colour["probability"] for colour in colours]
    assert 1 <= len(colours) <= 6 and probabilities == sorted(probabilities, reverse=True) and sum(probabilities) <= 1
    assert all(len(colour["color"]) == 7 and colour["color"].startswith("#") for colour in colours)
    outside = client.post("/api/suggest", files={"photo": ("p.png", _photo_bytes("PNG"))},
                          data={**form, "x": "999"})
    assert outside.status_code == 422 and "outside the photo" in outside.json()["error"]
    none = client.post("/api/suggest", files={"photo": ("p.png", _photo_bytes("PNG"))}, data={"x": "1", "y": "1"})
    assert none.status_code == 422 and "distribution" in none.json()["error"]  # the tiny course has no classifier


def test_a_busy_server_answers_503_with_retry_after_and_serves_again_when_free(home, monkeypatch):
    entered, release = threading.Event(), threading.Event()
    real = server._colorize_upload

    def held(*args):
        entered.set()
        release.wait(30)
        return real(*args)

    monkeypatch.setattr(server, "_colorize_upload", held)
    with TestClient(server.create_app(max_in_flight=1)) as client:
        first: dict = {}
        worker = threading.Thread(target=lambda: first.setdefault("response", _post(client, _photo_bytes())))
        worker.start()
        assert entered.wait(30)
        assert client.get("/api/health").json()["in_flight"] == 1
        busy = _post(client, _photo_bytes())
        release.set()
        worker.join(60)
        assert busy.status_code == 503 and busy.headers["retry-after"] == str(server.RETRY_AFTER_SECONDS)
        assert "busy" in busy.json()["error"]
        assert first["response"].status_code == 200
        assert _post(client, _photo_bytes()).status_code == 200
        assert client.get("/api/health").json()["in_flight"] == 0


def test_a_burst_of_uploads_is_all_answered_and_never_more_than_the_limit_in_flight(home):
    with TestClient(server.create_app(max_in_flight=2)) as client:
        content, answers = _photo_bytes(size=(600, 400)), []
        start = threading.Barrier(8)

        def one():
            start.wait()
            answers.append(_post(client, content).status_code)

        threads = [threading.Thread(target=one) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert len(answers) == 8 and set(answers) <= {200, 503} and 200 in answers
        assert client.get("/api/health").json()["in_flight"] == 0


def test_the_page_its_script_and_the_api_documentation_are_served(client):
    page = client.get("/")
    assert page.status_code == 200 and "/static/app.js" in page.text and "<script" in page.text
    assert "http://" not in page.text.replace("http://www.w3.org", "")  # nothing fetched from elsewhere
    assert client.get("/static/app.js").status_code == 200
    schema = client.get("/openapi.json").json()
    assert {"/api/colorize", "/api/models", "/api/health", "/api/suggest"} <= set(schema["paths"])
    assert client.get("/docs").status_code == 200


def test_the_server_starts_without_tensorflow_or_matplotlib():
    import subprocess
    import sys

    code = ("import sys; from colorize import server; app = server.create_app(); "
            "print(sorted(m for m in ('tensorflow', 'keras', 'matplotlib') if m in sys.modules))")
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert found.returncode == 0 and found.stdout.strip() == "[]", found.stdout + found.stderr
