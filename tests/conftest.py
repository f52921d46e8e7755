"""Shared fixtures: where the real BSDS500 photos are (read-only, never copied into the repo)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# TensorFlow's C++ start-up chatter would otherwise fill stderr (and the CLI tests read stderr).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

#: The course folders a test must never write into (each test trains into its own COLORIZE_HOME).
CHECKOUT = Path(__file__).resolve().parents[1]
GUARDED_FOLDERS = ("models", "data", "reports")


def _checkout_state() -> list[tuple[str, int, int]]:
    return sorted((str(path.relative_to(CHECKOUT)), path.stat().st_size, path.stat().st_mtime_ns)
                  for folder in GUARDED_FOLDERS if (CHECKOUT / folder).is_dir()
                  for path in (CHECKOUT / folder).rglob("*") if path.is_file())


@pytest.fixture(scope="session", autouse=True)
def checkout_untouched():
    """Fails the session if any test wrote into the checkout's models/, data/ or reports/."""
    before = _checkout_state()
    yield
    after = _checkout_state()
    changed = sorted(set(before) ^ set(after))
    assert not changed, f"tests wrote into the course checkout: {[entry[0] for entry in changed][:10]}"


#: The shared read-only BSDS500 copy next to the checkout (``../shared/data/bsds500``).
DEFAULT_BSDS_DIR = Path(__file__).resolve().parents[1].parent / "shared/data/bsds500"


@pytest.fixture(scope="session")
def bsds_dir() -> Path:
    """A BSDS500 copy with train/ val/ test/ of .jpg photos: ``$COLORIZE_DATA_DIR`` or the shared one."""
    folder = Path(os.environ.get("COLORIZE_DATA_DIR") or DEFAULT_BSDS_DIR).expanduser()
    if not all(any((folder / split).glob("*.jpg")) for split in ("train", "val", "test")):
        pytest.skip(f"no BSDS500 copy at {folder} (set COLORIZE_DATA_DIR to a folder with train/ val/ test/ photos)")
    return folder.resolve()


def enter_course(patch: pytest.MonkeyPatch, home: Path) -> Path:
    """Make ``home`` the course checkout (``$COLORIZE_HOME``) with its own reports/ and each
    lesson's own profile, whatever the calling shell set (nbval forces smoke and a scratch reports dir)."""
    from colorize import config

    patch.setenv(config.HOME_ENV, str(home))
    patch.delenv(config.FORCE_PROFILE_ENV, raising=False)
    patch.delenv(config.REPORTS_DIR_ENV, raising=False)
    return home


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """An empty course checkout (``$COLORIZE_HOME``) to train into, never the repo's models/."""
    return enter_course(monkeypatch, tmp_path)


@pytest.fixture(scope="session")
def dataset():
    """The embedded sample photos (ship with scikit-image and friends), split as the course does."""
    from colorize.data.sources import sample_dataset

    return sample_dataset()


#: The label lessons would give the model of :func:`tiny_course`.
TINY_LABEL = "tiny U-Net (test)"


@pytest.fixture(scope="session")
def tiny_course(tmp_path_factory) -> Path:
    """A course checkout (``$COLORIZE_HOME``) with one tiny trained U-Net, recorded by lesson 05
    as the lessons record theirs; trained once per test session (a few seconds)."""
    from colorize import reporting
    from colorize import train as training
    from colorize.data.sources import sample_dataset

    home = tmp_path_factory.mktemp("course")
    with pytest.MonkeyPatch.context() as patch:
        enter_course(patch, home)
        settings = training.TrainSettings(model="unet", model_params={"base_filters": 4, "depth": 2}, crop_size=32,
                                          work_side=64, batch_size=2, epochs=1, steps_per_epoch=2)
        run = training.train(sample_dataset(), settings, profile="smoke", verbose=0)
        reporting.record_runs({TINY_LABEL: run}, notebook="05_unet", profile="smoke")
    return home


@pytest.fixture
def in_tiny_course(tiny_course, monkeypatch) -> Path:
    """Run the test inside :func:`tiny_course`."""
    return enter_course(monkeypatch, tiny_course)
