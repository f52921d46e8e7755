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
    assert model.precision == runs[TINY_LABEL].precision == record.get("precision", "float32")
    assert model.psnr == pytest.approx(tables[TINY_LABEL].psnr.mean())
    assert model.photos == 3 and model.inference_ms_per_megapixel > 0
    assert not board.recommended.any()  # nothing is chosen until lesson 08 says so


def test_the_written_leaderboard_marks_exactly_the_recommended_row(board, tmp_path):
    board = board[0]
    written = pd.read_csv(evaluation.write_leaderboard(board, tmp_path, recommended=TINY_LABEL))
    assert written.loc[written.recommended, "model"].tolist() == [TINY_LABEL]
    assert written.recommended.dtype == bool
    with pytest.raises(ValueError, match="not exactly one row"):
        evaluation.write_leaderboard(board, tmp_path, recommended="a model nobody trained")


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


def _planted_tables(gains, seed=3, photos=120):
    """Per-photo score tables: the gray baseline and models whose PSNR / AuC / colourfulness sit a
    planted amount above (or below) it on every photo, plus a little per-photo noise."""
    rng = np.random.default_rng(seed)
    names = [f"{i}.jpg" for i in range(photos)]
    gray_psnr, truth = rng.normal(21.5, 3.0, photos), rng.uniform(20, 60, photos)
    base = {"photo": names, "ssim": 0.93, "mse_ab": 0.016, "colorfulness_truth": truth}
    tables = {metrics.GRAY_LABEL: pd.DataFrame({**base, "psnr": gray_psnr, "auc": 0.87 + rng.normal(0, 0.01, photos),
                                                "colorfulness": 0.05 * np.ones(photos)})}
    gray = tables[metrics.GRAY_LABEL]
    for name, (psnr_gain, auc_gain, ratio) in gains.items():
        tables[name] = pd.DataFrame({**base, "psnr": gray.psnr + psnr_gain + rng.normal(0, 0.05, photos),
                                     "auc": gray.auc + auc_gain + rng.normal(0, 0.001, photos),
                                     "colorfulness": ratio * truth * rng.uniform(0.95, 1.05, photos)})
    board = metrics.leaderboard(tables).rename_axis("model").reset_index()
    board["lesson"] = ["reference" if name == metrics.GRAY_LABEL else "planted" for name in board.model]
    return board, tables


PLANTED = {"below gray": (-0.3, -0.004, 1.1),      # the most colourful, and worse than no colour at all
           "inside its noise": (0.2, 0.003, 0.9),  # above gray photo by photo, but within its run-to-run band
           "clear winner": (1.0, 0.010, 0.6),
           "faithful but dull": (1.4, 0.012, 0.3)}
PLANTED_SPREADS = {"below gray": 0.1, "inside its noise": 0.3, "clear winner": 0.1, "faithful but dull": 0.1}


def test_a_model_below_gray_or_inside_its_noise_band_never_beats_gray():
    board, tables = _planted_tables(PLANTED)
    verdicts = evaluation.beats_gray(tables, PLANTED_SPREADS)
    assert not verdicts.at["below gray", "beats_gray"] and verdicts.at["below gray", "psnr_gain_high"] < 0
    noisy = verdicts.loc["inside its noise"]
    assert noisy.psnr_gain_low > 0 and noisy.auc_win  # the photos alone would call it a win...
    assert not noisy.psnr_win and not noisy.beats_gray  # ...but 0.2 dB is inside 1.96·√2·0.3 = 0.83 dB
    assert evaluation.beats_gray(tables).at["inside its noise", "beats_gray"]  # without the spread it would pass
    assert verdicts.at["clear winner", "beats_gray"] and verdicts.at["faithful but dull", "beats_gray"]


def test_recommend_takes_the_most_colourful_model_that_beats_gray_beyond_its_noise():
    board, tables = _planted_tables(PLANTED)
    assert evaluation.recommend(board, margin_db=1.0, tables=tables, spreads=PLANTED_SPREADS) == "clear winner"
    # without the spreads the noisy one (more colourful) would have been chosen
    assert evaluation.recommend(board, margin_db=1.5, tables=tables) == "inside its noise"
    assert evaluation.recommend(board, margin_db=0.2, tables=tables, spreads=PLANTED_SPREADS) == "faithful but dull"
    only_bad = {name: PLANTED[name] for name in ("below gray", "inside its noise")}
    bad_board, bad_tables = _planted_tables(only_bad)
    assert evaluation.recommend(bad_board, margin_db=5.0, tables=bad_tables, spreads=PLANTED_SPREADS) is None
    chosen = evaluation.picks(bad_board, bad_tables, PLANTED_SPREADS, margin_db=5.0)
    assert chosen.at["recommended", "model"] is None and chosen.at["most colourful", "model"] is None
    assert chosen.at["most faithful", "model"] == "inside its noise"  # the highest mean, even though it is no pick


def test_picks_call_a_tie_a_tie_and_never_pick_below_gray():
    board, tables = _planted_tables(PLANTED)
    chosen = evaluation.picks(board, tables, PLANTED_SPREADS, margin_db=1.0)
    assert chosen.at["most faithful", "model"] == "faithful but dull" and chosen.at["most faithful", "decided"]
    assert chosen.at["most faithful", "runner_up"] == "clear winner"
    assert chosen.at["most colourful", "model"] == "clear winner"  # "below gray" and the noisy one are out
    assert chosen.at["recommended", "model"] == "clear winner"
    assert chosen.at["recommended", "model"] == evaluation.recommend(board, 1.0, tables, PLANTED_SPREADS)  # one rule
    assert chosen.at["recommended", "runner_up"] == "faithful but dull" and chosen.at["recommended", "decided"]
    # the same colour margin inside a large run-to-run spread of the ratio: not measurable, said so
    noisy_colour = evaluation.picks(board, tables, PLANTED_SPREADS, margin_db=1.0,
                                    colour_spreads={name: 0.3 for name in PLANTED})
    assert not noisy_colour.at["most colourful", "decided"]
    assert noisy_colour.at["recommended", "model"] == "clear winner" and not noisy_colour.at["recommended", "decided"]
    assert "another training run could have made that one the default" in noisy_colour.at["recommended", "verdict"]
    # two models 0.1 dB apart with a 0.3 dB run-to-run spread: a tie, said so
    tied = {"a": (1.0, 0.01, 0.5), "b": (0.9, 0.01, 0.4)}
    board, tables = _planted_tables(tied)
    chosen = evaluation.picks(board, tables, {"a": 0.3, "b": 0.3})
    assert chosen.at["most faithful", "model"] == "a" and not chosen.at["most faithful", "decided"]
    verdict = chosen.at["most faithful", "verdict"]
    assert "not measurable here" in verdict and "tie" in verdict


def test_spread_table_marks_measured_spreads_proxies_and_gaps():
    summaries = {"03_baseline_cnn": {"spreads": {"CNN": {"psnr": 0.05, "auc": 0.001, "seeds": 3}}},
                 "07_colorful_classification": {"spreads": {"classifier": {"psnr": 0.12, "auc": 0.002, "seeds": 3,
                                                                          "proxy": "the U-Net's spread"}}},
                 "06_gan": {}}
    table = evaluation.spread_table(summaries, ["CNN", "classifier", "GAN"])
    assert table.at["CNN", "psnr_spread"] == 0.05 and table.at["CNN", "source"] == "measured over 3 training seeds"
    assert np.isnan(table.at["CNN", "colorfulness_ratio_spread"])  # 03 recorded none
    assert table.at["classifier", "source"] == "proxy: the U-Net's spread"
    assert table.at["GAN", "psnr_spread"] == 0.12 and "not measured" in table.at["GAN", "source"]  # the largest
    assert evaluation.spread_table({}, ["GAN"]).psnr_spread.isna().all()


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


def test_seed_table_lays_out_each_seed_and_the_spread():
    per_seed = pd.DataFrame({"model": ["b", "b", "a", "a"], "seed": [42, 43, 42, 43], "psnr": [22.0, 22.2, 21.0, 21.4],
                             "auc": [0.89, 0.9, 0.88, 0.88], "best_val_loss": [0.012, 0.013, 0.014, 0.0141]}
                            ).set_index(["model", "seed"])
    table = evaluation.seed_table(per_seed)
    assert list(table.index) == ["b", "a"]  # the recipes' order, not sorted
    assert list(table["psnr"].columns) == ["seed 42", "seed 43", "sd"]
    assert table.at["a", ("psnr", "seed 43")] == 21.4
    assert table.at["b", ("psnr", "sd")] == pytest.approx(np.std([22.0, 22.2], ddof=1))
    assert table.at["a", ("auc", "sd")] == 0.0


def test_the_command_demo_shows_labels_and_relative_paths_only(in_tiny_course):
    run = catalog.recommended()[1]
    status, shape, lines = evaluation.command_demo(np.full((40, 60), 128, dtype=np.uint8))
    assert status == 0 and shape == (40, 60, 3)
    assert lines[0] == f"Model: {TINY_LABEL} (working side 64 px)"  # the run folder's name is left out
    assert lines[-1].startswith("colorized 1, skipped 0, failed 0") and lines[-1].endswith("results in colorized/")
    assert not any(run.name in line or "/tmp" in line for line in lines)
