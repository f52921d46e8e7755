"""colorize.evaluation: the leaderboard's columns and reference rows on real photos, the seeds'
figures beside ours, the rule that picks the default model, and the reports index's table."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from colorize import catalog, evaluation, metrics, registry, reporting
from colorize.data.images import read_rgb
from colorize.data.sources import sample_dataset
from colorize.train import Run
from conftest import TINY_LABEL

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")


@pytest.fixture(scope="module")
def photos():
    return sample_dataset().paths("test")


@pytest.fixture
def board(in_tiny_course, photos):
    by_lesson = catalog.runs_by_lesson()
    runs = {label: run for lesson_runs in by_lesson.values() for label, run in lesson_runs.items()}
    tables, _ = metrics.score_runs(runs, photos, max_side=96, include_truth=True, progress=False)
    speeds = evaluation.inference_ms_per_megapixel(
        {metrics.GRAY_LABEL: metrics.gray_colorizer, **{k: r.colorizer() for k, r in runs.items()}},
        [read_rgb(photos[0])], repeats=1)
    return evaluation.leaderboard(tables, evaluation.run_facts(by_lesson), speeds), tables, runs


def test_leaderboard_has_every_column_and_both_reference_rows(board):
    board, tables, runs = board
    assert list(board.columns) == evaluation.LEADERBOARD_COLUMNS
    assert set(board.model) == {metrics.GRAY_LABEL, metrics.TRUE_AB, TINY_LABEL}
    assert list(board.psnr) == sorted(board.psnr, reverse=True)
    rows = board.set_index("model")

    truth = rows.loc[metrics.TRUE_AB]  # the Lab round trip of 8-bit photos is exact
    assert truth.psnr == np.inf and truth.auc == 1.0 and truth.colorfulness_ratio == pytest.approx(1.0)
    assert truth.lesson == "reference" and np.isnan(truth.parameters) and np.isnan(truth.inference_ms_per_megapixel)
    gray = rows.loc[metrics.GRAY_LABEL]
    assert gray.lesson == "reference" and gray.parameters == 0 and gray.colorfulness < 0.5  # 8-bit rounding only
    assert gray.inference_ms_per_megapixel > 0

    model, record = rows.loc[TINY_LABEL], runs[TINY_LABEL].record
    assert model.lesson == "05_unet" and model.parameters == record["parameters"]
    assert model.train_seconds == pytest.approx(record["train_seconds"])
    assert model.train_images_per_second == pytest.approx(record["images_per_second"])
    assert model.psnr == pytest.approx(tables[TINY_LABEL].psnr.mean())
    assert model.photos == 3 and model.inference_ms_per_megapixel > 0


def test_mse_rgb_is_the_mean_squared_error_of_rgb_on_a_0_to_1_scale():
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)
    noisy = np.clip(truth.astype(int) + rng.integers(-20, 21, truth.shape), 0, 255).astype(np.uint8)
    direct = np.mean((truth / 255.0 - noisy / 255.0) ** 2)
    table = pd.DataFrame({"psnr": [metrics.psnr(truth, noisy)]})
    assert evaluation.mse_rgb(table).iloc[0] == pytest.approx(direct, rel=1e-9)


def test_leaderboard_csv_and_the_reports_index(board, in_tiny_course):
    board, _, _ = board
    reports = in_tiny_course / "reports"
    path = evaluation.write_leaderboard(board, reports)
    again = evaluation.read_leaderboard(reports)
    assert list(again.columns) == evaluation.LEADERBOARD_COLUMNS
    assert again.parameters.dropna().tolist() == board.parameters.dropna().tolist()  # exact counts, not rounded
    pd.testing.assert_series_equal(again.psnr, board.psnr, check_exact=False)
    _, readme = reporting.build_index(reports)
    text = readme.read_text()
    assert "## Leaderboard" in text and f"| {TINY_LABEL} |" in text and path.name in text


def test_seed_figures_sit_beside_ours_only_where_comparable():
    board = pd.DataFrame({"model": ["baseline CNN (seed 000)", "U-Net, L2 loss", "best autoencoder (Polychromify conv)"],
                          "mse_rgb": [0.011, 0.009, 0.010]})
    table = evaluation.beside_seeds(board)
    assert table.our_value.iloc[:2].tolist() == [0.011, 0.009]
    assert table.our_value.iloc[2:].isna().all()  # seed 004's accuracy has no equal
    assert table.our_model.tolist()[4] == "best autoencoder (Polychromify conv)"
    assert table.our_model.tolist()[3] == "colourful classifier (not trained)"


def _board(rows):
    return pd.DataFrame(rows, columns=["model", "lesson", "psnr", "auc", "colorfulness_ratio"])


def test_the_default_is_the_most_colourful_model_close_to_the_most_faithful():
    board = _board([
        ("U-Net", "05", 23.0, 0.895, 0.49), ("GAN", "06", 22.1, 0.890, 0.63), ("classifier", "07", 21.7, 0.883, 0.98),
        ("wild", "06", 22.5, 0.860, 1.20),  # colourful but below gray on AuC
        (metrics.GRAY_LABEL, "reference", 21.5, 0.873, 0.0), (metrics.TRUE_AB, "reference", np.inf, 1.0, 1.0)])
    assert evaluation.recommend(board, margin_db=1.0) == "GAN"
    assert evaluation.recommend(board, margin_db=2.0) == "classifier"
    assert evaluation.recommend(board, margin_db=0.0) == "U-Net"
    assert evaluation.recommend(board[board.lesson == "reference"]) is None


def test_recorded_recommendation_is_the_colorize_default(in_tiny_course):
    run = catalog.recommended()[1]
    assert catalog.recommended()[0] == TINY_LABEL  # lesson 08 has not run: the fallback order
    catalog.record_recommendation("my pick", run)
    label, chosen = catalog.recommended()
    assert label == "my pick" and chosen.name == run.name
    record = json.loads(registry.registry_path().read_text())
    assert record["recommended"] == {"smoke": {"label": "my pick", "run": run.name}}  # kept with the runs
    summary = in_tiny_course / "reports" / "figures" / catalog.EVALUATION_LESSON / reporting.SUMMARY_FILE
    assert not summary.is_file() or run.name not in summary.read_text()  # reports never name run folders
    del record["recommended"]
    registry._write(record)


def test_train_seconds_include_the_run_a_gan_started_from(tmp_path, monkeypatch):
    monkeypatch.setenv("COLORIZE_HOME", str(tmp_path))
    for name, seconds, parent in (("pretrain", 50.0, None), ("gan", 20.0, "pretrain")):
        folder = tmp_path / "models" / name
        folder.mkdir(parents=True)
        (folder / "run.json").write_text(json.dumps({"train_seconds": seconds, "settings": {"init_from": parent}}))
    gan = Run(tmp_path / "models" / "gan", json.loads((tmp_path / "models" / "gan" / "run.json").read_text()))
    assert evaluation.total_train_seconds(gan) == 70.0


def test_gray_photographs_are_really_gray():
    photos = evaluation.gray_photographs()
    assert set(photos) == set(evaluation.GRAY_PHOTOGRAPHS)
    for photo in photos.values():
        assert photo.dtype == np.uint8 and photo.ndim == 3
        assert (photo[..., 0] == photo[..., 1]).all() and (photo[..., 1] == photo[..., 2]).all()
