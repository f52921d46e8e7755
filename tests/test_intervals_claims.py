"""Honest comparisons and checked claims, each with a planted positive control."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from colorize import claims, config, intervals, reporting


def _table(values, photos=None):
    photos = photos or [f"{i}.jpg" for i in range(len(values))]
    return pd.DataFrame({"photo": photos, "psnr": values, "auc": np.asarray(values) / 100})


def test_a_planted_win_is_found_and_noise_is_not_called_one():
    rng = np.random.default_rng(0)
    base = rng.normal(22, 3, 200)  # photos differ a lot, as BSDS500 photos do
    tables = {"better": _table(base + 0.3 + rng.normal(0, 0.2, 200)), "same": _table(base + rng.normal(0, 0.2, 200)),
              "base": _table(base)}
    win = intervals.compare(tables, "better", "base")
    assert win.winner == "better" and win.low > 0 and 0.25 < win.difference < 0.35
    assert "beats" in win.sentence() and "dB" in win.sentence()
    noise = intervals.compare(tables, "same", "base")
    assert noise.winner is None and noise.low < 0 < noise.high
    assert "not measurable" in noise.sentence()
    # the same 0.3 dB gap, tested without pairing photo by photo, would be lost in the photos' spread
    unpaired = intervals.bootstrap_mean_ci(tables["better"].psnr.to_numpy())
    assert unpaired[2] - unpaired[1] > 4 * (win.high - win.low)


def test_a_win_inside_the_run_to_run_noise_band_is_not_a_win():
    rng = np.random.default_rng(1)
    base = rng.normal(22, 3, 200)
    tables = {"a": _table(base + 0.3 + rng.normal(0, 0.05, 200)), "b": _table(base)}
    assert intervals.compare(tables, "a", "b").winner == "a"
    assert intervals.noise_band(0.2) == pytest.approx(1.96 * math.sqrt(2) * 0.2)
    within = intervals.compare(tables, "a", "b", spread=0.2)  # band ±0.55 dB > 0.3 dB
    assert within.winner is None and "noise band" in within.sentence()
    assert intervals.compare(tables, "a", "b", spread=0.05).winner == "a"


def test_lower_is_better_scores_and_photo_matching():
    photos = [f"{i}.jpg" for i in range(60)]
    tables = {"a": pd.DataFrame({"photo": photos, "mse_ab": np.linspace(0.01, 0.02, 60)}),
              "b": pd.DataFrame({"photo": photos[::-1], "mse_ab": np.linspace(0.02, 0.01, 60) + 0.005})}
    assert intervals.compare(tables, "a", "b", metric="mse_ab").winner == "a"
    with pytest.raises(ValueError, match="same photos"):
        intervals.compare({"a": _table([1, 2, 3]), "b": _table([1, 2], ["0.jpg", "9.jpg"])}, "a", "b")


def test_bootstrap_interval_covers_the_mean_and_is_reproducible():
    values = np.random.default_rng(2).normal(10, 1, 100)
    mean, low, high = intervals.bootstrap_mean_ci(values)
    assert low < mean < high and high - low == pytest.approx(2 * 1.96 / 10, rel=0.25)
    assert intervals.bootstrap_mean_ci(values) == (mean, low, high)  # seeded
    assert all(math.isnan(v) for v in intervals.bootstrap_mean_ci([np.inf]))
    frame = intervals.psnr_intervals({"m": _table(list(values))})
    assert frame.loc["m", "psnr_ci_low"] == pytest.approx(low)


def test_seed_spread():
    assert intervals.seed_spread([1.0, 2.0, 3.0]) == pytest.approx(1.0)
    assert math.isnan(intervals.seed_spread([1.0]))


def test_pooled_spread_gives_the_band_of_two_different_recipes():
    pooled = intervals.pooled_spread(0.3, 0.4)
    assert intervals.noise_band(pooled) == pytest.approx(1.96 * 0.5)  # 1.96 * sqrt(0.3² + 0.4²)
    assert intervals.pooled_spread(0.2, math.nan) == pytest.approx(0.2)  # an unknown spread: like the known one
    assert math.isnan(intervals.pooled_spread(math.nan, None))


def test_claims_ledger_counts_warns_and_closes(capsys):
    ledger = claims.ClaimLedger("full")
    assert ledger.check("two is more than one", 2 > 1, "2 > 1")
    assert not ledger.check("one is more than two", 1 > 2, "1 < 2")
    shown = capsys.readouterr().out
    assert "✔" in shown and "Claim not supported by this run" in shown and "1 &lt; 2" in shown
    assert ledger.closing_line() == "Claims checked: 2, held: 1"
    quiet = claims.ClaimLedger("smoke")
    quiet.check("one is more than two", False, "no")
    assert "Claim not supported" not in capsys.readouterr().out and quiet.closing_line() == "Claims checked: 1, held: 0"
    assert claims.course_total([{"claims": ledger.to_dict()}, {"claims": quiet.to_dict()}, {}]) == (3, 1)


def test_check_winner_uses_the_interval():
    rng = np.random.default_rng(3)
    base = rng.normal(22, 3, 100)
    tables = {"a": _table(base + 1.0), "b": _table(base)}
    ledger = claims.ClaimLedger("full")
    assert ledger.check_winner(intervals.compare(tables, "a", "b"), "a")
    assert not ledger.check_winner(intervals.compare(tables, "a", "b"), None)
    assert ledger.held == 1


def test_a_lesson_finishes_with_its_claims_line_and_records_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(config.HOME_ENV, str(tmp_path))
    lesson = reporting.start_lesson("98_claims", profile="smoke")
    lesson.check("the sample has photos", lesson.dataset.counts()["test"] > 0, "yes")
    assert lesson.finish(budget_minutes=1) == "Claims checked: 1, held: 1"
    printed = capsys.readouterr().out.rstrip()
    assert printed.endswith("Claims checked: 1, held: 1") and "budget 1 min" in printed
    summary = json.loads((tmp_path / "reports" / "figures" / "98_claims" / "summary.json").read_text())
    assert summary["claims"]["checked"] == 1 and summary["claims"]["list"][0]["claim"] == "the sample has photos"


def test_display_path_never_shows_the_machine(tmp_path, monkeypatch):
    monkeypatch.setenv(config.HOME_ENV, str(tmp_path / "course"))
    (tmp_path / "course").mkdir()
    assert config.display_path(tmp_path / "course" / "reports" / "x.csv") == "reports/x.csv"
    assert config.display_path(tmp_path / "shared" / "data") == "../shared/data"
    assert not config.display_path("/very/far/away/folder/file.txt").startswith("/")
