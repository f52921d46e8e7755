"""The web page in a real browser: headless Chromium (Debian's, which ``make test`` installs when it
can) driven by Playwright against ``colorize serve`` on loopback. A user's whole path: open the
page, upload a photo, place a hint, see the result change where the hint is, download the result.

Set ``COLORIZE_REQUIRE_BROWSER=1`` (CI does) to fail instead of skipping when there is no Chromium.
``COLORIZE_SCREENSHOT_DIR``: also save the page's screenshots there (the README's come from here).
"""

from __future__ import annotations

import io
import os
import shutil
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data as skimage_data

CHROMIUM = os.environ.get("COLORIZE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
HINT_LABEL = "tiny hint U-Net (test)"

if not Path(CHROMIUM).is_file():
    if os.environ.get("COLORIZE_REQUIRE_BROWSER"):
        pytest.fail(f"no Chromium at {CHROMIUM}: `make test` installs Debian's chromium package when run as root",
                    pytrace=False)
    pytest.skip(f"no Chromium at {CHROMIUM} (install Debian's chromium package, or run `make test` as root)",
                allow_module_level=True)

from playwright.sync_api import expect, sync_playwright  # noqa: E402 - only where a browser can run


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    """A course with two tiny trained runs: an automatic U-Net (the default) and a hint U-Net."""
    from colorize import reporting
    from colorize import train as training
    from colorize.data.sources import sample_dataset

    from conftest import enter_course

    home = tmp_path_factory.mktemp("browser-course")
    with pytest.MonkeyPatch.context() as patch:
        enter_course(patch, home)
        runs = {}
        for label, family in (("tiny U-Net (test)", "unet"), (HINT_LABEL, "hint_unet")):
            settings = training.TrainSettings(model=family, model_params={"base_filters": 4, "depth": 2}, crop_size=32,
                                              work_side=64, batch_size=2, epochs=1, steps_per_epoch=2)
            runs[label] = training.train(sample_dataset(), settings, profile="smoke", verbose=0)
        reporting.record_runs(runs, notebook="05_unet", profile="smoke")
    return home


@pytest.fixture(scope="module")
def address(course):
    """``colorize serve`` on a free loopback port, in this process, for the module's tests."""
    import uvicorn

    from colorize import config, server

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(config.HOME_ENV, str(course))
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        running = uvicorn.Server(uvicorn.Config(server.create_app(), host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=running.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 60
        while not running.started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert running.started, "the server did not start within 60 s"
        yield f"http://127.0.0.1:{port}"
        running.should_exit = True
        thread.join(30)


@pytest.fixture
def photo(tmp_path) -> Path:
    path = tmp_path / "harbour.jpg"
    Image.fromarray(skimage_data.astronaut()).convert("L").resize((240, 160)).save(path, quality=92)
    return path


def _download(page, folder: Path, name: str) -> Image.Image:
    with page.expect_download() as waiting:
        page.click("#download")
    saved = folder / name
    waiting.value.save_as(saved)
    return Image.open(io.BytesIO(saved.read_bytes()))


def _wait_for_new_result(page, previous: str) -> str:
    page.wait_for_function("old => { const r = document.getElementById('result'); "
                           "return r.src && r.src !== old && r.complete && r.naturalWidth > 0; }",
                           arg=previous, timeout=60_000)
    return page.get_attribute("#result", "src")


def test_upload_place_a_hint_see_it_change_and_download(address, photo, tmp_path):
    shots = os.environ.get("COLORIZE_SCREENSHOT_DIR")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1200, "height": 800}, accept_downloads=True)
        problems = []
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.goto(address)
        expect(page.locator("#model option")).to_have_count(2)
        page.select_option("#model", label=f"{HINT_LABEL} — takes hints")
        page.set_input_files("#file", str(photo))
        first = _wait_for_new_result(page, "")
        expect(page.locator("#status")).to_contain_text("Done")
        before = _download(page, tmp_path, "before.jpg")
        assert before.size == Image.open(photo).size

        box = page.locator("#original").bounding_box()
        hint_x, hint_y = 60, 100  # in the photo's pixels
        page.locator("#original").click(position={"x": (hint_x + 0.5) * box["width"] / 240,
                                                   "y": (hint_y + 0.5) * box["height"] / 160})
        expect(page.locator(".marker")).to_have_count(1)
        expect(page.locator("#hint-list li")).to_have_count(1)
        _wait_for_new_result(page, first)
        expect(page.locator("#status")).to_contain_text("Done")
        after = _download(page, tmp_path, "after.jpg")
        assert after.size == before.size == (240, 160)
        near = np.abs(np.asarray(after, float) - np.asarray(before, float)).sum(axis=-1)
        assert near[hint_y - 2: hint_y + 3, hint_x - 2: hint_x + 3].mean() > 1.0, "the hint changed nothing there"
        if shots:
            Path(shots).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(shots) / "serve-page.png"), full_page=True)
        page.click("#hint-list button")  # remove the hint: back to the automatic colours
        expect(page.locator(".marker")).to_have_count(0)
        browser.close()
    assert problems == [], problems
