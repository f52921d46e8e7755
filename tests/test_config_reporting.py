"""Profiles, seeds, figures and the reports index; everything written goes under a tmp COLORIZE_HOME."""

from __future__ import annotations

import json
import random
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

from colorize import config, plots, reporting  # noqa: E402
from colorize.config import ColorizeError  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path):
    """No forced profile or data folder from outside, a tmp project home, and the figure folder
    and environment put back afterwards."""
    monkeypatch.delenv(config.FORCE_PROFILE_ENV, raising=False)
    monkeypatch.delenv(config.DATA_DIR_ENV, raising=False)
    monkeypatch.delenv("PYTHONHASHSEED", raising=False)  # set_seed sets it
    monkeypatch.setenv(config.HOME_ENV, str(tmp_path / "home"))
    monkeypatch.setattr(reporting, "_current", {})
    yield
    plt.close("all")


# --- profiles ----------------------------------------------------------------------------------


def test_profiles():
    smoke, full = config.get_profile("smoke"), config.get_profile("full")
    assert smoke.name == "smoke" and full.name == "full"
    assert smoke.auto_dataset == "sample" and full.auto_dataset == "bsds500"
    assert smoke.max_images_per_split == 4 and full.max_images_per_split is None
    assert smoke.crop_size < full.crop_size
    assert config.get_profile() == full and config.get_profile(None) == full
    assert set(smoke.to_dict()) >= {"name", "crop_size", "batch_size", "eval_max_side", "gallery_size"}


def test_unknown_profile_is_an_error():
    with pytest.raises(ColorizeError, match="medium"):
        config.get_profile("medium")


def test_forced_profile_wins(monkeypatch):
    monkeypatch.setenv(config.FORCE_PROFILE_ENV, "smoke")
    assert config.get_profile("full").name == "smoke"
    assert config.get_profile("full", batch_size=2).batch_size == 2
    monkeypatch.setenv(config.FORCE_PROFILE_ENV, "tiny")
    with pytest.raises(ColorizeError, match="tiny"):
        config.get_profile("full")


def test_profile_overrides():
    changed = config.get_profile("smoke", crop_size=16, gallery_size=1)
    assert changed.crop_size == 16 and changed.gallery_size == 1 and changed.name == "smoke"
    assert config.PROFILES["smoke"].crop_size == 32  # the table itself is untouched
    with pytest.raises(ColorizeError, match="learning_rate"):
        config.get_profile("smoke", learning_rate=0.1)


def test_paths_follow_colorize_home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    assert config.project_root() == home.resolve()
    assert config.data_dir() == home.resolve() / "data"
    assert config.reports_dir() == home.resolve() / "reports"
    assert config.models_dir() == home.resolve() / "models"
    monkeypatch.delenv(config.HOME_ENV)
    assert (config.project_root() / "pyproject.toml").is_file()
    assert config.project_root() == REPO


def test_set_seed_repeats_numpy_python_and_tensorflow():
    def draw():
        config.set_seed(123)
        return (np.random.rand(5), random.random(), tf.random.uniform([5]).numpy(),
                tf.random.normal([3], seed=1).numpy())

    first, second = draw(), draw()
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    assert config.set_seed(7) == 7
    other = np.random.rand(5)
    assert not np.array_equal(other, first[0])


# --- figures and summaries ------------------------------------------------------------------------


def _small_figure() -> plt.Figure:
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1], [1, 0])
    return fig


def test_save_fig_writes_under_reports_figures(tmp_path):
    reporting._current["notebook"] = "98_figs"
    path = reporting.save_fig(_small_figure(), "curve")
    assert path == (tmp_path / "home").resolve() / "reports" / "figures" / "98_figs" / "curve.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    summary = path.parent / reporting.SUMMARY_FILE
    assert not summary.exists()  # not a key figure

    key = reporting.save_fig(_small_figure(), "best", key=True)
    assert key.is_file()
    assert json.loads(summary.read_text())["key_figure"] == "best.png"


def test_photo_figures_are_saved_and_shown_as_jpeg_to_keep_reports_small(tmp_path):
    from IPython.core.interactiveshell import InteractiveShell

    from skimage import data as skimage_data

    photo = skimage_data.astronaut()
    gallery = plots.image_grid([photo, photo], ["a", "b"], ncols=2)
    assert plots.is_photographic(gallery) and not plots.is_photographic(_small_figure())
    reporting._current["notebook"] = "98_figs"
    path = reporting.save_fig(gallery, "gallery")
    assert path.suffix == ".jpg" and path.read_bytes()[:3] == b"\xff\xd8\xff"

    shell = InteractiveShell.instance()
    try:
        plots.use_style()
        shown, _ = shell.display_formatter.format(gallery)
        assert "image/jpeg" in shown and "image/png" not in shown
        curve, _ = shell.display_formatter.format(_small_figure())
        assert "image/png" in curve and "image/jpeg" not in curve
        assert len(shown["image/jpeg"]) < len(plots._figure_bytes(gallery, "png")) / 2
    finally:
        InteractiveShell.clear_instance()


def test_start_lesson_and_record_summary(tmp_path, capsys):
    lesson = reporting.start_lesson("99_test", profile="smoke")
    assert isinstance(lesson, reporting.Lesson)
    assert lesson.name == "99_test" and lesson.profile.name == "smoke" and lesson.seed == config.SEED
    assert lesson.dataset.name == "sample"
    assert all(n <= 4 for n in lesson.dataset.counts().values())
    assert reporting._current["notebook"] == "99_test"
    printed = capsys.readouterr().out
    assert "Dataset: sample" in printed and "smoke" in printed

    summary_path = (tmp_path / "home").resolve() / "reports" / "figures" / "99_test" / "summary.json"
    summary = json.loads(summary_path.read_text())
    assert summary["dataset"] == lesson.dataset.describe() and summary["profile"] == "smoke"

    reporting.record_summary("Gray baseline: PSNR 23.4 dB, AuC 0.89.")
    summary = json.loads(summary_path.read_text())
    assert summary["summary"] == "Gray baseline: PSNR 23.4 dB, AuC 0.89."
    assert summary["dataset"] == lesson.dataset.describe()  # earlier fields are kept
    assert "Summary:" in capsys.readouterr().out

    reporting.record_summary("elsewhere", notebook="97_other")
    other = summary_path.parent.parent / "97_other" / "summary.json"
    assert json.loads(other.read_text()) == {"summary": "elsewhere"}


def test_start_lesson_overrides_the_profile():
    lesson = reporting.start_lesson("96_small", profile="smoke", seed=5, crop_size=16)
    assert lesson.profile.crop_size == 16 and lesson.seed == 5


# --- the reports index ---------------------------------------------------------------------------


def _notebook(path: Path, title: str, failed: bool) -> None:
    nb = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell("1 / 0" if failed else "print('hi')", execution_count=1)
    code.outputs = [nbformat.v4.new_output("error", ename="ZeroDivisionError", evalue="division by zero",
                                           traceback=[])] if failed else \
        [nbformat.v4.new_output("stream", name="stdout", text="hi\n")]
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {title}\n\nIntro."), code]
    nbformat.write(nb, path)


def _reports_tree(reports: Path) -> None:
    reports.mkdir(parents=True)
    _notebook(reports / "01_x.ipynb", "Lesson one: colour spaces", failed=False)
    _notebook(reports / "02_y.ipynb", "Lesson two: baseline", failed=True)
    _notebook(reports / "scratch.ipynb", "Not a lesson", failed=False)
    figures = reports / "figures" / "01_x"
    figures.mkdir(parents=True)
    (figures / "summary.json").write_text(json.dumps({
        "summary": "sRGB fills 34% of the ab square at L=50.", "dataset": "Dataset: sample (test).",
        "key_figure": "gamut.png"}))


def _check_index(reports: Path, page: Path, readme: Path) -> None:
    assert page == reports / "index.html" and readme == reports / "README.md"
    text = readme.read_text()
    assert "[Lesson one: colour spaces](01_x.ipynb)" in text
    assert "sRGB fills 34% of the ab square at L=50." in text
    assert "figures/01_x/gamut.png" in text
    assert "Dataset: sample (test)." in text
    lines = text.splitlines()
    first = next(line for line in lines if "01_x.ipynb" in line)
    second = next(line for line in lines if "02_y.ipynb" in line)
    assert "FAILED" not in first and "FAILED" in second
    assert "Lesson two: baseline" in second
    assert "no summary recorded" in text
    assert "scratch" not in text and "Not a lesson" not in text
    assert text.index("01_x.ipynb") < text.index("02_y.ipynb")
    html = page.read_text()
    assert 'href="01_x.html"' in html and 'href="02_y.html"' in html and "FAILED" in html
    assert 'src="figures/01_x/gamut.png"' in html and "34% of the ab square" in html


def test_build_index_from_a_reports_folder(tmp_path):
    reports = tmp_path / "reports"
    _reports_tree(reports)
    page, readme = reporting.build_index(reports)
    _check_index(reports, page, readme)
    entries = reporting.lesson_entries(reports)
    assert [e["failed"] for e in entries] == [False, True]


def test_build_index_defaults_to_the_project_reports(tmp_path, capsys):
    reports = (tmp_path / "home").resolve() / "reports"
    _reports_tree(reports)
    assert reporting.main([]) == 0
    assert "2 lesson(s), 1 failed" in capsys.readouterr().out
    _check_index(reports, reports / "index.html", reports / "README.md")


# --- gamut figures -------------------------------------------------------------------------------


def test_gamut_slices_has_one_panel_per_lightness():
    fig = plots.gamut_slices()
    assert len(fig.axes) == 5
    assert all("L = " in ax.get_title() for ax in fig.axes)
    assert len(plots.gamut_slices((30, 70)).axes) == 2


def test_ab_plane_colors():
    rgba, inside, extent = plots.ab_plane_colors(50, resolution=255, limit=127.0)  # 1 ab unit per pixel
    assert rgba.shape == (255, 255, 4) and inside.shape == (255, 255) and extent == (-127.0, 127.0, -127.0, 127.0)
    centre = 127  # a = 0, b = 0; rows run from b = +127 (top) to -127, columns from a = -127 to +127
    assert inside[centre, centre]
    assert not inside[254, 254]  # a = +127, b = -127
    np.testing.assert_array_equal(rgba[..., 3], inside.astype(np.float32))
    np.testing.assert_allclose(rgba[centre, centre, :3], 0.466, atol=0.005)  # mid-gray of L = 50
    red = rgba[centre, centre + 40, :3]  # a = +40
    assert red[0] > red[1] + 0.2 and red[0] > red[2] + 0.1
    yellow = rgba[centre - 40, centre, :3]  # b = +40
    assert min(yellow[0], yellow[1]) > yellow[2] + 0.2
    assert 0.2 < inside.mean() < 0.6
