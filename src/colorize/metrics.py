"""How good is a colorization? Scores on the 8-bit sRGB picture a user would actually see.

Every score compares a prediction with the original photo at the photo's own resolution, with L
kept from the input (only ab is predicted), after the Lab -> sRGB conversion and rounding to
uint8. That makes scores of all models, and of the gray baseline, directly comparable.

* PSNR and SSIM (scikit-image) on sRGB, data range 255.
* ``mse_ab``: mean squared error of ab divided by 128, the number the seed decks reported.
* Raw AuC (Zhang et al., 2016): the fraction of pixels whose ab error is within a threshold,
  swept over 0..150 and the area under that curve normalised to [0, 1].
* Colorfulness (Hasler & Süsstrunk, 2003) and its ratio to the true photo's: regression to the
  mean shows up here as "shy", washed-out colour long before PSNR notices.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
from skimage.metrics import peak_signal_noise_ratio, structural_similarity
import tensorflow as tf

from colorize import config, lab
from colorize.config import progress as progress_bar
from colorize.data.images import fit_within, read_rgb

#: Thresholds of the raw AuC, in ab units (Zhang et al. 2016 sweep 0..150).
AUC_THRESHOLDS = np.arange(0, 151, dtype=np.float64)

#: Photos scored at once (threads): one per core.
SCORING_WORKERS = os.cpu_count() or 1

#: Part of every score cache's key: raised when the columns of a score table change, so no
#: lesson reads a table from before (version 2: the artefact scores).
SCORES_VERSION = 2

#: How the gray baseline is labelled in every score table.
GRAY_LABEL = "gray baseline (ab = 0)"

#: The reference row of every leaderboard: the photo's true ab joined with its L and rounded to
#: 8-bit sRGB, i.e. the best any L -> ab model can score (passed to :func:`score_models` in place
#: of a colorizer).
TRUE_AB = "ground truth (true ab, L kept)"

#: A colorizer maps L (float ``[H, W]`` in 0..100) to ab (float ``[H, W, 2]`` in Lab units).
Colorizer = Callable[[np.ndarray], np.ndarray]


def psnr(truth: np.ndarray, prediction: np.ndarray) -> float:
    if np.array_equal(truth, prediction):
        return float("inf")  # identical pictures (the true-ab reference row), without a divide warning
    return float(peak_signal_noise_ratio(truth, prediction, data_range=255))


def ssim(truth: np.ndarray, prediction: np.ndarray) -> float:
    # float32 arithmetic: 30 % faster than float64 and within 1e-7 of it on the course's photos
    return float(structural_similarity(np.asarray(truth, np.float32), np.asarray(prediction, np.float32),
                                       channel_axis=-1, data_range=255))


def colorfulness(rgb: np.ndarray) -> float:
    """Hasler & Süsstrunk's colourfulness M of a uint8 sRGB image (0 for gray; ~30-60 for photos)."""
    r, g, b = (rgb[..., i].astype(np.float64) for i in range(3))
    rg, yb = r - g, 0.5 * (r + g) - b
    spread = np.hypot(rg.std(), yb.std())
    mean = np.hypot(rg.mean(), yb.mean())
    return float(spread + 0.3 * mean)


def ab_errors(truth_lab: np.ndarray, prediction_lab: np.ndarray) -> np.ndarray:
    """Per-pixel Euclidean distance in the ab plane."""
    return np.linalg.norm(np.asarray(truth_lab)[..., 1:] - np.asarray(prediction_lab)[..., 1:], axis=-1)


def cumulative_ab_accuracy(errors: np.ndarray, thresholds: np.ndarray = AUC_THRESHOLDS) -> np.ndarray:
    """Fraction of pixels with ab error <= t, for every threshold t (the curve under the AuC)."""
    errors = np.ravel(errors)
    # Each error counted at the first threshold it does not exceed, then summed up: the same
    # fractions as sorting the errors, without the sort (scoring's costliest step after SSIM).
    first_threshold = np.searchsorted(thresholds, errors, side="left")
    counts = np.bincount(first_threshold, minlength=len(thresholds) + 1)[: len(thresholds)]
    return np.cumsum(counts) / errors.size


def raw_auc(errors: np.ndarray, thresholds: np.ndarray = AUC_THRESHOLDS) -> float:
    """Area under :func:`cumulative_ab_accuracy`, normalised so a perfect prediction scores 1."""
    return area_under(cumulative_ab_accuracy(errors, thresholds), thresholds)


def area_under(curve: np.ndarray, thresholds: np.ndarray = AUC_THRESHOLDS) -> float:
    """The raw AuC of an accuracy curve already computed (scoring sorts each photo's errors once)."""
    return float(np.trapezoid(curve, thresholds) / (thresholds[-1] - thresholds[0]))


#: An ab error above this (Lab units) on a pixel whose predicted chroma exceeds the truth's is a
#: blotch: colour the model invented, not colour it left out (50 is about the distance from a
#: gray to a clearly saturated colour).
BLOTCH_THRESHOLD = 50.0


def blotch_fraction(truth_lab: np.ndarray, prediction_lab: np.ndarray, threshold: float = BLOTCH_THRESHOLD,
                    errors: np.ndarray | None = None) -> float:
    """Share of pixels painted with colour that is not there: ab error > ``threshold`` *and*
    predicted chroma above the true chroma (a muted guess is not a blotch, however wrong).
    ``errors``: the :func:`ab_errors` of the pair, when already computed."""
    truth_ab, predicted_ab = np.asarray(truth_lab)[..., 1:], np.asarray(prediction_lab)[..., 1:]
    errors = ab_errors(truth_lab, prediction_lab) if errors is None else errors
    wrong = errors > threshold
    invented = np.hypot(*np.moveaxis(predicted_ab[wrong], -1, 0)) > np.hypot(*np.moveaxis(truth_ab[wrong], -1, 0))
    return float(np.count_nonzero(invented) / errors.size)


def nyquist_fraction(ab: np.ndarray) -> float:
    """Share of an ab map's energy (its mean removed) at the period-2 frequencies of its grid: the
    Nyquist row and column of its spectrum, where the uneven overlap of a stride-2 transposed
    convolution puts its checkerboard (Odena et al. 2016). NaN for a flat map."""
    ab = np.asarray(ab, dtype=np.float64)
    ab = ab[: ab.shape[0] // 2 * 2, : ab.shape[1] // 2 * 2]  # even sides: the Nyquist bins exist
    centred = ab - ab.mean(axis=(0, 1))
    power = np.abs(np.fft.fft2(centred, axes=(0, 1))) ** 2
    total = power.sum()
    if total <= 1e-12 * centred.size:
        return float("nan")
    rows, cols = ab.shape[0] // 2, ab.shape[1] // 2
    nyquist = power[rows].sum() + power[:, cols].sum() - power[rows, cols].sum()
    return float(nyquist / total)


def checkerboard(predicted_fractions, true_fractions) -> float:
    """Checkerboard score of a model over photos: its mean :func:`nyquist_fraction` on the network's
    output grid over the same measure of the true ab at that grid (1.0 = as much period-2 energy
    as the photos themselves have)."""
    predicted, true = np.asarray(predicted_fractions, float), np.asarray(true_fractions, float)
    keep = np.isfinite(predicted) & np.isfinite(true)
    return float(predicted[keep].mean() / true[keep].mean()) if keep.any() else float("nan")


def cast_ab(mean_ab_predicted, mean_ab_true) -> float:
    """A colour cast over a set of photos: the distance (Lab units) between the mean predicted
    (a, b) and the mean true (a, b), each averaged over photos of per-photo means."""
    predicted, true = np.asarray(mean_ab_predicted, float), np.asarray(mean_ab_true, float)
    return float(np.linalg.norm(predicted.mean(axis=0) - true.mean(axis=0)))


def mse_ab(truth_lab: np.ndarray, prediction_lab: np.ndarray, scale: float = lab.SEED_AB_SCALE) -> float:
    """Mean squared error of ab / 128, the seeds' training-loss figure."""
    diff = (np.asarray(truth_lab)[..., 1:] - np.asarray(prediction_lab)[..., 1:]) / scale
    return float(np.mean(diff ** 2))


def _lab_of(rgb: np.ndarray) -> np.ndarray:
    return np.asarray(lab.rgb_to_lab_graph(tf.convert_to_tensor(rgb)))


def truth_statistics(truth_rgb: np.ndarray, truth_lab: np.ndarray) -> dict[str, float]:
    """What :func:`score_image` needs of the true photo alone: computed once per photo, however
    many colorizers are scored on it."""
    truth_mean_ab = np.asarray(truth_lab)[..., 1:].mean(axis=(0, 1))
    return {"colorfulness_truth": colorfulness(truth_rgb),
            "mean_a_truth": float(truth_mean_ab[0]), "mean_b_truth": float(truth_mean_ab[1])}


def score_image(truth_rgb: np.ndarray, prediction_rgb: np.ndarray,
                truth_lab: np.ndarray | None = None, with_ssim: bool = True,
                truth_stats: dict[str, float] | None = None) -> tuple[dict, np.ndarray]:
    """All scores of one uint8 prediction against its uint8 truth, plus its AuC curve
    (``with_ssim=False``: SSIM, half the cost of scoring, is left out as NaN; ``truth_stats``:
    :func:`truth_statistics` of the photo, when already computed)."""
    truth_lab = _lab_of(truth_rgb) if truth_lab is None else truth_lab
    truth_stats = truth_statistics(truth_rgb, truth_lab) if truth_stats is None else truth_stats
    prediction_lab = _lab_of(prediction_rgb)
    errors = ab_errors(truth_lab, prediction_lab)
    curve = cumulative_ab_accuracy(errors)
    truth_colorfulness = truth_stats["colorfulness_truth"]
    predicted_colorfulness = colorfulness(prediction_rgb)
    predicted_mean_ab = prediction_lab[..., 1:].mean(axis=(0, 1))
    scores = {
        "psnr": psnr(truth_rgb, prediction_rgb),
        "ssim": ssim(truth_rgb, prediction_rgb) if with_ssim else np.nan,
        "mse_ab": mse_ab(truth_lab, prediction_lab),
        "auc": area_under(curve),
        "colorfulness": predicted_colorfulness,
        "colorfulness_truth": truth_colorfulness,
        "colorfulness_ratio": predicted_colorfulness / truth_colorfulness if truth_colorfulness > 0 else np.nan,
        "blotch_fraction": blotch_fraction(truth_lab, prediction_lab, errors=errors),
        "mean_a": float(predicted_mean_ab[0]), "mean_b": float(predicted_mean_ab[1]),
        "mean_a_truth": truth_stats["mean_a_truth"], "mean_b_truth": truth_stats["mean_b_truth"],
    }
    return scores, curve


def grid_scores(small_ab: np.ndarray | None, truth_lab: np.ndarray) -> dict[str, float]:
    """Period-2 energy (:func:`nyquist_fraction`) of a network's ab on its own output grid
    (``small_ab``, see :func:`colorize_with_grid`), and of the true ab shrunk to that grid, for
    :func:`checkerboard` (NaN for colorizers without a network: ``small_ab`` None)."""
    if small_ab is None:
        return {"nyquist_fraction": np.nan, "nyquist_fraction_truth": np.nan}
    true = tf.image.resize(np.asarray(truth_lab, np.float32)[None, ..., 1:], small_ab.shape[:2], method="area",
                           antialias=True)[0]
    return {"nyquist_fraction": nyquist_fraction(small_ab), "nyquist_fraction_truth": nyquist_fraction(np.asarray(true))}


def colorize_with_grid(colorizer: Colorizer, rgb: np.ndarray,
                       photo_lab: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """:func:`colorize_rgb`, plus the ab a network predicted on its own grid before upsampling
    (None for colorizers without one): one inference serves the picture and :func:`grid_scores`."""
    photo_lab = np.asarray(_lab_of(rgb) if photo_lab is None else photo_lab, dtype=np.float32)
    lightness = photo_lab[..., 0]
    small_ab = np.asarray(colorizer.small_ab(lightness)) if hasattr(colorizer, "small_ab") else None
    ab = colorizer.upsample(small_ab, lightness.shape) if small_ab is not None else colorizer(lightness)
    ab = np.asarray(ab, dtype=np.float32)
    if ab.shape != lightness.shape + (2,):
        raise ValueError(f"a colorizer must return ab of shape {lightness.shape + (2,)}, got {ab.shape}")
    return lab.join_to_uint8_graph(lightness, ab).numpy(), small_ab


def colorize_rgb(colorizer: Colorizer, rgb: np.ndarray, photo_lab: np.ndarray | None = None) -> np.ndarray:
    """Run a colorizer on a photo's own L and return the uint8 picture a user would see."""
    return colorize_with_grid(colorizer, rgb, photo_lab)[0]


def gray_colorizer(lightness: np.ndarray) -> np.ndarray:
    """The floor every model must beat: predict no colour at all (ab = 0)."""
    return np.zeros(lightness.shape + (2,), dtype=np.float32)


def score_colorizer(
    colorizer: Colorizer,
    photos: Iterable[Path],
    max_side: int | None = None,
    return_curves: bool = False,
    progress: bool = True,
    name: str = "",
):
    """Score a colorizer on photo files: one row per photo (and their AuC curves if asked).

    ``max_side=None`` scores at full resolution (the course's reference); a number downsizes
    first (quick profiles only).
    """
    tables, curves = score_models({name or "colorizer": colorizer}, photos, max_side=max_side, progress=progress)
    table, curve = next(iter(tables.values())), next(iter(curves.values()))
    return (table, curve) if return_curves else table


SUMMARY_COLUMNS = ["psnr", "ssim", "mse_ab", "auc", "colorfulness", "colorfulness_ratio",
                   "checkerboard", "blotch_fraction", "cast_ab"]


def summarize(table: pd.DataFrame, name: str = "") -> pd.Series:
    """Mean of each score over photos; colorfulness ratio as mean prediction over mean truth;
    the artefact scores :func:`checkerboard` (NaN for a colorizer without a network grid),
    :func:`blotch_fraction` (mean) and :func:`cast_ab` over the photos."""
    summary = table[["psnr", "ssim", "mse_ab", "auc", "colorfulness"]].mean()
    summary["colorfulness_ratio"] = table["colorfulness"].mean() / table["colorfulness_truth"].mean()
    has = set(table.columns).issuperset  # a table built by hand may carry the classic scores only
    summary["checkerboard"] = (checkerboard(table["nyquist_fraction"], table["nyquist_fraction_truth"])
                               if has(["nyquist_fraction", "nyquist_fraction_truth"]) else np.nan)
    summary["blotch_fraction"] = table["blotch_fraction"].mean() if has(["blotch_fraction"]) else np.nan
    summary["cast_ab"] = (cast_ab(table[["mean_a", "mean_b"]], table[["mean_a_truth", "mean_b_truth"]])
                          if has(["mean_a", "mean_b", "mean_a_truth", "mean_b_truth"]) else np.nan)
    summary["photos"] = len(table)
    summary.name = name or None
    return summary


def score_models(colorizers: dict[str, Colorizer], photos: Iterable[Path], max_side: int | None = None,
                 progress: bool = True, workers: int = SCORING_WORKERS, with_ssim: bool = True
                 ) -> tuple[dict[str, pd.DataFrame], dict[str, np.ndarray]]:
    """Score several colorizers on the same photos, each photo read and converted once.

    Photos are scored ``workers`` at a time in threads (TensorFlow, NumPy and SciPy release the
    GIL in their heavy loops), and results are kept in photo order, so the numbers do not depend
    on the number of workers. Returns per-image tables and AuC curves ``[photos, thresholds]``,
    both keyed by colorizer name. A colorizer may be :data:`TRUE_AB`, the reference row.
    ``with_ssim=False`` leaves SSIM out (NaN), for scores that need only PSNR, AuC and colour.
    """
    photos = list(photos)

    def score_photo(path):
        truth = fit_within(read_rgb(path), max_side)
        truth_lab = _lab_of(truth)
        truth_stats = truth_statistics(truth, truth_lab)
        found = {}
        for name, colorizer in colorizers.items():
            prediction, small_ab = ((lab.lab_to_uint8(truth_lab), None) if colorizer is TRUE_AB
                                    else colorize_with_grid(colorizer, truth, truth_lab))
            scores, curve = score_image(truth, prediction, truth_lab, with_ssim=with_ssim, truth_stats=truth_stats)
            scores.update(grid_scores(small_ab, truth_lab))
            found[name] = ({"photo": Path(path).name, "height": truth.shape[0], "width": truth.shape[1], **scores}, curve)
        return found

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        results = list(progress_bar(pool.map(score_photo, photos), total=len(photos),
                                    desc=f"scoring {len(colorizers)} colorizers", disable=not progress))
    return ({name: pd.DataFrame([found[name][0] for found in results]) for name in colorizers},
            {name: np.stack([found[name][1] for found in results]) for name in colorizers})


def leaderboard(tables: dict[str, pd.DataFrame], sort_by: str | None = "psnr") -> pd.DataFrame:
    """One row per colorizer: the mean scores of :func:`summarize`, best first."""
    board = pd.DataFrame([summarize(table, name) for name, table in tables.items()])
    board["photos"] = board["photos"].astype(int)
    return board.sort_values(sort_by, ascending=False) if sort_by else board


def score_runs(runs: dict, photos: Iterable[Path], max_side: int | None = None, include_gray: bool = True,
               include_truth: bool = False, progress: bool = True,
               with_ssim: bool = True) -> tuple[dict[str, pd.DataFrame], dict[str, np.ndarray]]:
    """:func:`score_models` for trained runs (``{label: colorize.train.Run}``), plus the gray
    baseline (first) and, with ``include_truth``, the :data:`TRUE_AB` reference row (last), all
    from one pass over the photos. Each run's scores are cached in its folder, keyed by the photos
    and ``max_side``, so a later lesson comparing the same runs does not score them again.
    ``with_ssim=False`` (run-to-run spreads) skips SSIM; such tables are cached apart, and a run's
    complete cached table is used when there is one."""
    import hashlib

    photos = list(photos)
    key = hashlib.sha1(json.dumps([[str(p) for p in photos], max_side, SCORES_VERSION]).encode()).hexdigest()[:10]
    tables, curves, to_score = {}, {}, {}
    keys = [key] if with_ssim else [key, f"{key}-nossim"]  # a complete table serves a quick request

    def files(directory, prefix, one):
        return directory / f"{prefix}scores-{one}.csv", directory / f"{prefix}curves-{one}.npy"

    def cached(directory, prefix=""):
        for one in keys:
            table_file, curve_file = files(directory, prefix, one)
            if table_file.is_file() and curve_file.is_file():
                return pd.read_csv(table_file), np.load(curve_file)
        return None

    def store(directory, prefix, table, curve):
        table_file, curve_file = files(directory, prefix, keys[-1])
        directory.mkdir(parents=True, exist_ok=True)
        table.to_csv(table_file, index=False)
        np.save(curve_file, curve)

    for label, run in runs.items():
        found = cached(run.directory)
        if found is not None:
            tables[label], curves[label] = found
        else:
            to_score[label] = run
    # The reference rows depend on the photos alone: scored once and kept in the course's cache
    # folder, so no later lesson scores them again.
    references = {GRAY_LABEL: gray_colorizer} if include_gray else {}
    if include_truth:
        references[TRUE_AB] = TRUE_AB
    reference_cache = config.data_dir() / "scores"
    reference_prefix = {GRAY_LABEL: "gray-", TRUE_AB: "truth-"}
    colorizers = {label: run.colorizer() for label, run in to_score.items()}
    for label, colorizer in references.items():
        found = cached(reference_cache, reference_prefix[label])
        if found is not None:
            tables[label], curves[label] = found
        else:
            colorizers[label] = colorizer
    colorizers = {label: colorizers[label] for label in [GRAY_LABEL, *to_score, TRUE_AB] if label in colorizers}
    if colorizers:
        new_tables, new_curves = score_models(colorizers, photos, max_side=max_side, progress=progress,
                                              with_ssim=with_ssim)
        for label, run in to_score.items():
            store(run.directory, "", new_tables[label], new_curves[label])
        for label in references:
            if label in new_tables:
                store(reference_cache, reference_prefix[label], new_tables[label], new_curves[label])
        tables.update(new_tables)
        curves.update(new_curves)
    order = ([GRAY_LABEL] if include_gray else []) + list(runs) + ([TRUE_AB] if include_truth else [])
    return {label: tables[label] for label in order}, {label: curves[label] for label in order}
