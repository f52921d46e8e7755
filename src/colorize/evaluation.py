"""Lesson 08's comparison: every model the course trained in one leaderboard, with what it cost
to train and to run, and the rule that picks the model the ``colorize`` command uses.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from colorize import config, metrics

LEADERBOARD_FILE = "leaderboard.csv"
#: The leaderboard's columns, in order (``reports/leaderboard.csv`` has exactly these).
LEADERBOARD_COLUMNS = [
    "model", "lesson", "recommended", "parameters", "precision", "train_seconds", "train_images_per_second",
    "inference_ms_per_megapixel",
    "psnr", "psnr_ci_low", "psnr_ci_high", "psnr_seed_spread", "ssim", "mse_ab", "mse_rgb", "auc", "colorfulness",
    "colorfulness_ratio", "checkerboard", "blotch_fraction", "cast_ab", "photos",
]

#: What the seed decks reported on their own data (quoted in lesson 08), and the course model
#: closest to each: seed 001 gave MSE on RGB scaled to 0..1, which our ``mse_rgb`` is; seed 004
#: gave an "accuracy" it never defines, so no number of ours is its equal.
SEED_FIGURES = pd.DataFrame([
    ("001", "baseline CNN", "MSE on RGB", 0.0102, "baseline CNN (seed 000)", "mse_rgb"),
    ("001", "U-Net", "MSE on RGB", 0.00652, "U-Net, L2 loss", "mse_rgb"),
    ("004", "CNN", "accuracy (undefined)", 0.6535, "updated CNN", None),
    ("004", "ECCV16 (from scratch)", "accuracy (undefined)", 0.6400, "colourful classifier", None),
    ("004", "Polychromify", "accuracy (undefined)", 0.6845, "best autoencoder", None),
], columns=["seed", "seed_model", "seed_figure", "seed_value", "our_model", "our_figure"])  # our_model: label prefix


def beside_seeds(board: pd.DataFrame) -> pd.DataFrame:
    """:data:`SEED_FIGURES` with our number beside each where one is comparable in kind."""
    ours = board.set_index("model")
    table = SEED_FIGURES.copy()
    # Lessons label some runs by what won (e.g. "best autoencoder (Polychromify conv)").
    table["our_model"] = [next((label for label in ours.index if label.startswith(prefix)), f"{prefix} (not trained)")
                          for prefix in table.our_model]
    table["our_value"] = [ours.at[model, figure] if isinstance(figure, str) and model in ours.index else np.nan
                          for model, figure in zip(table.our_model, table.our_figure)]
    table["comparable"] = np.where(table.our_figure.notna(), "same kind of figure, different photos and sizes",
                                   "no: the deck does not define its accuracy")
    return table.drop(columns="our_figure")


#: Genuinely black-and-white photographs that ship with scikit-image (no colour original exists).
GRAY_PHOTOGRAPHS = ("camera", "coins", "clock")


def gray_photographs(names=GRAY_PHOTOGRAPHS) -> dict[str, np.ndarray]:
    """scikit-image's grayscale photographs as uint8 RGB (three equal channels)."""
    from skimage import data as skimage_data

    photos = {}
    for name in names:
        image = np.asarray(getattr(skimage_data, name)())
        if image.ndim != 2:
            raise ValueError(f"skimage.data.{name} is not a grayscale photograph")
        photos[name] = np.repeat(image[..., None], 3, axis=-1).astype(np.uint8)
    return photos


def mse_rgb(table: pd.DataFrame) -> pd.Series:
    """Per-photo MSE of sRGB scaled to 0..1, from PSNR (exact: PSNR = 10 log10(1 / MSE)),
    which is the figure seed 001 reported."""
    return 10.0 ** (-table["psnr"] / 10.0)


def total_train_seconds(run) -> float:
    """A run's training time including the runs it started from (a GAN's L1 pre-training)."""
    from colorize.runs import find_run

    seconds, seen = 0.0, set()
    while run is not None and run.name not in seen:
        seen.add(run.name)
        seconds += float(run.record.get("train_seconds", np.nan))
        parent = run.record.get("settings", {}).get("init_from")
        run = find_run(parent) if parent else None
    return seconds


def run_facts(runs_by_lesson: dict[str, dict]) -> pd.DataFrame:
    """One row per recorded run: its lesson, architecture, size and training cost (runs are named
    by their label; a report never shows a run folder's name)."""
    rows = []
    for lesson, runs in runs_by_lesson.items():
        for label, run in runs.items():
            record = run.record
            rows.append({"model": label, "lesson": lesson, "architecture": record["model"],
                         "parameters": int(record["parameters"]), "precision": run.precision,
                         "epochs_run": int(record["epochs_run"]), "train_seconds": total_train_seconds(run),
                         "train_images_per_second": float(record["images_per_second"])})
    return pd.DataFrame(rows, columns=["model", "lesson", "architecture", "parameters", "precision", "epochs_run",
                                       "train_seconds", "train_images_per_second"]).set_index("model")


def inference_ms_per_megapixel(colorizers: dict, photos: list[np.ndarray], repeats: int = 3) -> pd.Series:
    """Milliseconds per megapixel to colorize full-resolution photos (read from memory, L
    converted, ab predicted and upsampled, sRGB joined): the best of ``repeats`` per photo,
    after warm-up calls, so start-up costs are not counted."""
    from colorize.predict import colorize_photo

    megapixels = sum(photo.shape[0] * photo.shape[1] for photo in photos) / 1e6
    speeds = {}
    for name, colorizer in colorizers.items():
        for _ in range(2):  # a ModelColorizer runs its first photo eagerly and compiles on its second
            colorize_photo(colorizer, photos[0])
        total = 0.0
        for photo in photos:
            timings = []
            for _ in range(repeats):
                started = time.perf_counter()
                colorize_photo(colorizer, photo)
                timings.append(time.perf_counter() - started)
            total += min(timings)
        speeds[name] = 1000.0 * total / megapixels
    return pd.Series(speeds, name="inference_ms_per_megapixel")


def seed_spreads(runs_by_seed: dict[str, dict], photos, max_side: int | None = None,
                 progress: bool = True) -> pd.DataFrame:
    """Each recipe's scores per training seed on the test photos, and their run-to-run spread.

    ``runs_by_seed``: ``{label: {seed: run}}`` (:func:`colorize.train.train_seeds`). Returns one
    row per label and seed (``psnr``, ``auc``, ``colorfulness_ratio``, ``best_val_loss``)."""
    flat = {(label, seed): run for label, runs in runs_by_seed.items() for seed, run in runs.items()}
    tables, _ = metrics.score_runs({f"{label} [seed {seed}]": run for (label, seed), run in flat.items()}, photos,
                                   max_side=max_side, include_gray=False, progress=progress,
                                   with_ssim=False)  # spreads need PSNR, AuC and colour only
    rows = []
    for (label, seed), run in flat.items():
        summary = metrics.summarize(tables[f"{label} [seed {seed}]"])
        rows.append({"model": label, "seed": seed, "psnr": summary.psnr, "auc": summary.auc,
                     "colorfulness_ratio": summary.colorfulness_ratio,
                     "best_val_loss": run.record["best_val_loss"]})
    return pd.DataFrame(rows).set_index(["model", "seed"])


def spread_summary(per_seed: pd.DataFrame) -> pd.DataFrame:
    """One row per recipe: mean, run-to-run spread (standard deviation over seeds) and range of
    each score, and the number of seeds."""
    from colorize.intervals import seed_spread

    grouped = per_seed.groupby(level="model", sort=False)
    table = pd.DataFrame({"seeds": grouped.size()})
    for column in per_seed.columns:
        table[f"{column}_mean"] = grouped[column].mean()
        table[f"{column}_spread"] = grouped[column].agg(seed_spread)
        table[f"{column}_range"] = grouped[column].agg(lambda values: values.max() - values.min())
    return table


def seed_table(per_seed: pd.DataFrame, scores=("psnr", "auc", "best_val_loss")) -> pd.DataFrame:
    """:func:`seed_spreads` laid out for a reader: one row per recipe, for each score one column
    per training seed and its run-to-run spread ``sd`` (sample standard deviation over seeds)."""
    from colorize.intervals import seed_spread

    order = list(dict.fromkeys(per_seed.index.get_level_values("model")))
    blocks = {}
    for score in scores:
        block = per_seed[score].unstack("seed").reindex(order)
        block.columns = [f"seed {seed}" for seed in block.columns]
        block["sd"] = per_seed[score].groupby(level="model").agg(seed_spread).reindex(order)
        blocks[score] = block
    return pd.concat(blocks, axis=1)


def leaderboard(tables: dict[str, pd.DataFrame], facts: pd.DataFrame, speeds: pd.Series,
                spreads: dict[str, float] | None = None) -> pd.DataFrame:
    """Scores (:func:`colorize.metrics.leaderboard`) joined with each model's costs, best PSNR
    first, the gray baseline and the true-ab reference included; columns :data:`LEADERBOARD_COLUMNS`.

    ``psnr_ci_low`` / ``psnr_ci_high``: the 95 % bootstrap interval of the mean PSNR over the test
    photos; ``psnr_seed_spread``: the run-to-run spread of the recipe over training seeds (NaN
    where it was not measured), from ``spreads`` ({label: dB})."""
    from colorize.intervals import psnr_intervals

    board = metrics.leaderboard(tables, sort_by=None)
    board = board.join(psnr_intervals(tables))
    board["psnr_seed_spread"] = pd.Series(spreads or {}, dtype=float).reindex(board.index)
    board["mse_rgb"] = [mse_rgb(table).mean() for table in tables.values()]
    board = board.join(facts[["lesson", "parameters", "precision", "train_seconds", "train_images_per_second"]],
                       how="left")
    board["inference_ms_per_megapixel"] = speeds.reindex(board.index)
    reference = board.index.isin([metrics.GRAY_LABEL, metrics.TRUE_AB])
    board.loc[reference, "lesson"] = "reference"
    board.loc[board.index == metrics.GRAY_LABEL, ["parameters", "train_seconds"]] = 0
    board["recommended"] = False  # set by write_leaderboard once lesson 08 has chosen
    board.index.name = "model"
    board = board.reset_index()[LEADERBOARD_COLUMNS]
    return board.sort_values("psnr", ascending=False, ignore_index=True)


def write_leaderboard(board: pd.DataFrame, reports: Path | None = None, recommended: str | None = None) -> Path:
    """Write ``reports/leaderboard.csv``; ``recommended``: the default model's label, the one row
    whose ``recommended`` is true (the command line, the web page and the reports read it)."""
    if recommended is not None:
        if (board["model"] == recommended).sum() != 1:
            raise ValueError(f"the recommended model {recommended!r} is not exactly one row of the leaderboard")
        board = board.assign(recommended=board["model"] == recommended)
    path = (reports or config.reports_dir()) / LEADERBOARD_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    board.astype({"parameters": "Int64"}).to_csv(path, index=False)
    return path


def read_leaderboard(reports: Path | None = None) -> pd.DataFrame | None:
    path = (reports or config.reports_dir()) / LEADERBOARD_FILE
    return pd.read_csv(path) if path.is_file() else None


def beats_gray(tables: dict[str, pd.DataFrame], spreads: dict[str, float] | None = None,
               metrics_checked=("psnr", "auc")) -> pd.DataFrame:
    """For every trained model, its paired comparison with the gray baseline on each of
    ``metrics_checked``: the mean difference, its 95 % interval over test photos, and whether it
    is a win (interval above zero and, where the run-to-run PSNR spread is known, a margin beyond
    the noise band of two single runs)."""
    from colorize.intervals import compare

    rows = []
    for name in tables:
        if name in (metrics.GRAY_LABEL, metrics.TRUE_AB):
            continue
        row = {"model": name}
        for metric in metrics_checked:
            spread = (spreads or {}).get(name, np.nan) if metric == "psnr" else np.nan
            comparison = compare(tables, name, metrics.GRAY_LABEL, metric, spread=spread)
            row.update({f"{metric}_gain": comparison.difference, f"{metric}_gain_low": comparison.low,
                        f"{metric}_gain_high": comparison.high, f"{metric}_win": comparison.winner == name})
        row["beats_gray"] = all(row[f"{metric}_win"] for metric in metrics_checked)
        rows.append(row)
    return pd.DataFrame(rows).set_index("model") if rows else pd.DataFrame(columns=["beats_gray"])


def recommend(board: pd.DataFrame, margin_db: float = 1.0, tables: dict[str, pd.DataFrame] | None = None,
              spreads: dict[str, float] | None = None) -> str | None:
    """The default model: among trained models that beat the gray baseline, and stay within
    ``margin_db`` of the best model's PSNR, the most colourful one. None if none qualifies.

    "Beat gray" means, with the per-photo ``tables``, a paired 95 % interval above zero on PSNR
    *and* raw AuC, and a PSNR margin beyond the run-to-run noise band where ``spreads`` gives one
    (:func:`beats_gray`); without tables, a higher mean AuC (a quick check for small boards).

    Why this rule: PSNR alone rewards the washed-out average (lesson 05), colourfulness alone
    rewards any bold guess; old photos deserve colour that is still mostly right, and a model that
    cannot be shown to beat "no colour at all" is not a recommendation.
    """
    trained = board[board.lesson != "reference"]
    gray = board[board.model == metrics.GRAY_LABEL]
    if trained.empty or gray.empty:
        return None
    if tables is not None:
        verdicts = beats_gray({name: tables[name] for name in [metrics.GRAY_LABEL, *trained.model] if name in tables},
                              spreads)
        winners = set(verdicts.index[verdicts.beats_gray]) if len(verdicts) else set()
        above_gray = trained.model.isin(winners)
    else:
        above_gray = trained.auc > gray.auc.iloc[0]
    eligible = _eligible_defaults(trained, above_gray, margin_db)
    return None if eligible.empty else str(eligible.model.iloc[0])


def _eligible_defaults(trained: pd.DataFrame, above_gray: pd.Series, margin_db: float) -> pd.DataFrame:
    """:func:`recommend`'s candidates, most colourful first: trained models that beat gray and
    stay within ``margin_db`` of the best PSNR."""
    eligible = trained[above_gray & (trained.psnr >= trained.psnr.max() - margin_db)]
    return eligible.sort_values("colorfulness_ratio", ascending=False)


def spread_table(summaries: dict[str, dict], models) -> pd.DataFrame:
    """The run-to-run spread of every model in ``models``, from what lessons recorded.

    ``summaries``: ``{lesson: summary}`` (:func:`colorize.reporting.read_summary`), whose
    ``"spreads"`` field is ``{label: {"psnr": sd, "auc": sd, "seeds": n, "proxy": text}}`` (``proxy``
    only where the spread is another recipe's, standing in). A model no lesson measured gets the
    largest PSNR and AuC spreads recorded anywhere in the course, said so in ``source``: a model
    must not look surer than the noisiest one just because nobody repeated it.

    Returns one row per model: ``lesson``, ``psnr_spread``, ``auc_spread``, ``colorfulness_ratio_spread``
    (NaN where the lesson recorded none), ``seeds``, ``source``."""
    recorded = {}
    for lesson, summary in summaries.items():
        for label, entry in (summary or {}).get("spreads", {}).items():
            psnr = entry.get("psnr", entry.get("psnr_spread", np.nan))
            auc = entry.get("auc", entry.get("auc_spread", np.nan))
            colour = entry.get("colorfulness_ratio", entry.get("colorfulness_ratio_spread", np.nan))
            seeds = entry.get("seeds", np.nan)
            proxy = entry.get("proxy")
            source = f"proxy: {proxy}" if proxy else f"measured over {seeds} training seeds"
            recorded[label] = {"lesson": lesson, "psnr_spread": float(psnr), "auc_spread": float(auc),
                               "colorfulness_ratio_spread": float(colour), "seeds": seeds, "source": source}
    rows = {}
    known = pd.DataFrame.from_dict(recorded, orient="index")
    for model in models:
        if model in recorded:
            rows[model] = recorded[model]
        elif len(known) and known.psnr_spread.notna().any():
            noisiest = known.psnr_spread.idxmax()
            rows[model] = {"lesson": None, "psnr_spread": float(known.psnr_spread.max()),
                           "auc_spread": float(known.auc_spread.max()),
                           "colorfulness_ratio_spread": float(known.colorfulness_ratio_spread.max()), "seeds": np.nan,
                           "source": f"not measured: the course's largest recorded spread ({noisiest})"}
        else:
            rows[model] = {"lesson": None, "psnr_spread": np.nan, "auc_spread": np.nan,
                           "colorfulness_ratio_spread": np.nan, "seeds": np.nan,
                           "source": "not measured (no lesson recorded a spread)"}
    table = pd.DataFrame.from_dict(rows, orient="index", columns=[
        "lesson", "psnr_spread", "auc_spread", "colorfulness_ratio_spread", "seeds", "source"])
    table.index.name = "model"
    return table


def picks(board: pd.DataFrame, tables: dict[str, pd.DataFrame], spreads: dict[str, float] | None = None,
          margin_db: float = 1.0, colour_spreads: dict[str, float] | None = None) -> pd.DataFrame:
    """Lesson 08's three picks from the full table, each with the comparison behind it.

    * **most faithful**: the trained model with the highest mean PSNR, compared with the runner-up
      (paired interval over photos, noise band of the two recipes' PSNR ``spreads``). ``decided``
      is False when the two cannot be told apart: the pick is then a tie, not a winner.
    * **most colourful**: among the models that beat gray (:func:`beats_gray`), the highest
      colourfulness ratio, compared with the next most colourful on per-photo colourfulness, against
      the noise band of ``colour_spreads`` (run-to-run spreads of the colourfulness ratio) where known.
    * **recommended**: :func:`recommend` (always a model that beats gray, or None); ``runner_up``
      is the next most colourful model the rule allowed, ``decided`` whether the colour margin over
      it is measurable (if not, another training run could have made the runner-up the default).

    Returns one row per role: ``model`` (None when nothing qualifies), ``runner_up``, ``decided``,
    ``verdict`` (a sentence computed from the numbers)."""
    from colorize.intervals import compare, pooled_spread

    trained = board[board.lesson != "reference"].sort_values("psnr", ascending=False)
    verdicts = beats_gray({name: tables[name] for name in [metrics.GRAY_LABEL, *trained.model]}, spreads)
    above = trained[trained.model.isin(verdicts.index[verdicts.beats_gray])] if len(verdicts) else trained.iloc[:0]
    truth_colour = float(tables[metrics.GRAY_LABEL].colorfulness_truth.mean())  # a ratio spread in colour units
    rows = []

    def spread_of(metric, first, second):
        if metric == "psnr":
            return pooled_spread((spreads or {}).get(first), (spreads or {}).get(second))
        return pooled_spread((colour_spreads or {}).get(first), (colour_spreads or {}).get(second)) * truth_colour

    def ranked(role, candidates, metric, describe):
        if candidates.empty:
            return {"role": role, "model": None, "runner_up": None, "decided": False,
                    "verdict": f"{role}: no trained model qualifies."}
        first = candidates.model.iloc[0]
        if len(candidates) == 1:
            return {"role": role, "model": first, "runner_up": None, "decided": True,
                    "verdict": f"{role}: {first}, the only candidate."}
        second = candidates.model.iloc[1]
        comparison = compare(tables, first, second, metric, spread=spread_of(metric, first, second))
        decided = comparison.winner == first
        verdict = (f"{role}: {first} ({describe(first)}); " if decided else
                   f"{role}: not measurable here — {first} ({describe(first)}) and {second} "
                   f"({describe(second)}) tie; ") + comparison.sentence()
        return {"role": role, "model": first, "runner_up": second, "decided": decided, "verdict": verdict}

    by_model = board.set_index("model")
    ratio = lambda name: f"colourfulness ratio {by_model.at[name, 'colorfulness_ratio']:.2f}"  # noqa: E731
    rows.append(ranked("most faithful", trained, "psnr", lambda name: f"{by_model.at[name, 'psnr']:.2f} dB"))
    rows.append(ranked("most colourful", above.sort_values("colorfulness_ratio", ascending=False), "colorfulness",
                       ratio))
    allowed = _eligible_defaults(trained, trained.model.isin(above.model), margin_db)  # recommend's rule, its verdicts
    chosen = None if allowed.empty else allowed.model.iloc[0]
    if chosen is None:
        rows.append({"role": "recommended", "model": None, "runner_up": None, "decided": False,
                     "verdict": "recommended: none — no trained model beats the gray baseline beyond its noise."})
    else:
        against = ranked("recommended", allowed, "colorfulness", ratio)
        row, best = by_model.loc[chosen], trained.iloc[0]
        verdict = (f"recommended: {chosen} — beats gray on PSNR and AuC beyond its noise band, "
                   f"{best.psnr - row.psnr:.2f} dB below the highest mean PSNR (allowed {margin_db:g} dB), "
                   f"and the most colourful such model ({ratio(chosen)})")
        if against["runner_up"] is None:
            verdict += ", the only one the rule allows."
        elif against["decided"]:
            verdict += f", measurably more colourful than the next, {against['runner_up']}."
        else:
            verdict += (f"; its colour margin over the next, {against['runner_up']} ({ratio(against['runner_up'])}), "
                        f"is not measurable here, so another training run could have made that one the default.")
        rows.append({"role": "recommended", "model": chosen, "runner_up": against["runner_up"],
                     "decided": against["decided"], "verdict": verdict})
    table = pd.DataFrame(rows).set_index("role")
    for column in ("model", "runner_up"):  # "no model" stays None, not NaN
        table[column] = table[column].astype(object).where(table[column].notna(), None)
    return table


def command_demo(photo: np.ndarray, name: str = "cameraman.png", arguments=()) -> tuple[int, tuple | None, list[str]]:
    """Run the ``colorize`` command on one photo in a scratch folder, as a user would type it
    (``colorize NAME --out colorized``): the exit status, the result's shape and what the command
    printed, with relative paths and without the run folder's name (reports show labels only)."""
    import contextlib
    import io
    import os
    import re
    import tempfile

    from PIL import Image

    from colorize import cli
    from colorize.data.images import read_rgb

    messages = io.StringIO()
    with tempfile.TemporaryDirectory() as scratch:
        here = os.getcwd()
        os.chdir(scratch)
        try:
            Image.fromarray(photo).save(name)
            with contextlib.redirect_stderr(messages):
                status = cli.main([name, "--out", "colorized", *arguments])
            result = read_rgb(Path("colorized") / name).shape if status == cli.EXIT_OK else None
        finally:
            os.chdir(here)
    lines = [re.sub(r" \[[^\]]+\]", "", line) for line in messages.getvalue().splitlines() if line.strip()]
    return status, result, lines


def extremes(tables: dict[str, pd.DataFrame], by: str = "psnr") -> pd.DataFrame:
    """Each model's best and worst test photo by ``by``."""
    rows = []
    for name, table in tables.items():
        ranked = table.sort_values(by, ascending=False)
        for which, row in (("best", ranked.iloc[0]), ("worst", ranked.iloc[-1])):
            rows.append({"model": name, "which": which, "photo": row.photo, by: row[by]})
    return pd.DataFrame(rows)


def per_photo(tables: dict[str, pd.DataFrame], column: str) -> pd.DataFrame:
    """One column per model, one row per photo: ``column`` of each (colourfulness ratio per
    photo for ``colorfulness_ratio``)."""
    values = {}
    for name, table in tables.items():
        values[name] = (table.colorfulness / table.colorfulness_truth if column == "colorfulness_ratio"
                        else table[column]).to_numpy()
    return pd.DataFrame(values).replace([np.inf, -np.inf], np.nan)  # a truly gray photo has no ratio
