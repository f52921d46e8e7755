"""Scores against the number of colour hints (lesson 09): every colorizer sees the same points.

For each test photo, :func:`colorize.data.hints.sample_points` draws the largest count of hints
once from the photo's true ab, with a seed made of the course seed and the photo's position, and
a smaller count takes the first points of that list, so 5 hints are the first 5 of the 10.
Colorizers here are *hintable*: ``with_hints(points)`` gives a colorizer with those hints (a hint
network's :class:`colorize.predict.ModelColorizer`, or :class:`HintFill`, the baselines that learn
nothing). Pictures are scored like every other model (:func:`colorize.metrics.score_image`).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from colorize import config, intervals, metrics, propagation
from colorize.data.hints import HintPoint, render_points, sample_points
from colorize.data.images import fit_within, read_rgb

#: The issue's and the paper's sweep of hint counts.
HINT_COUNTS = (0, 1, 2, 5, 10, 20, 50, 100)

#: Zhang et al. 2017's SIGGRAPH17 network (ImageNet, 1.3 M photos, GPUs): PSNR (dB) on 1,000
#: ImageNet validation photos against the number of simulated 6 x 6 hint patches, from the
#: authors' released sweep. Other photos, another network and sampler: an anchor, not a rival.
SIGGRAPH17_PSNR = {0: 24.43, 1: 25.37, 2: 26.20, 5: 27.39, 10: 28.42, 20: 29.34, 50: 30.42, 100: 31.13}

#: The working size the course's networks see a photo at (and the evaluation hints are drawn at).
WORK_SIDE = config.get_profile("full").work_side

#: Where a lesson writes its curve (``hints, psnr, psnr_ci_low, psnr_ci_high, auc``).
CURVE_FILE = "hints_curve.csv"


def _at_work_side(image: np.ndarray, work_side: int | None) -> np.ndarray:
    """``image [H, W, C]`` area-shrunk so its longer side is at most ``work_side`` (None: as it is)."""
    height, width = image.shape[:2]
    if work_side is None or max(height, width) <= work_side:
        return image
    import tensorflow as tf

    scale = work_side / max(height, width)
    size = (max(1, round(height * scale)), max(1, round(width * scale)))
    return tf.image.resize(image[None], size, method="area", antialias=True)[0].numpy()


def photo_points(truth_lab: np.ndarray, count: int, photo_index: int, seed: int = config.SEED,
                 work_side: int | None = WORK_SIDE) -> list[HintPoint]:
    """The evaluation hints of the ``photo_index``-th test photo, in its pixel coordinates (a
    larger count extends a smaller one). The training sampler's patches are 1-9 px *at the
    network's working size*, so the points are drawn on the photo's ab shrunk to ``work_side``
    (None: the photo's own size) and scaled back: a 3-px hint there covers about 15 px of a
    481-px photo."""
    full_ab = np.asarray(truth_lab, np.float32)[..., 1:]
    height, width = full_ab.shape[:2]
    ab = _at_work_side(full_ab, work_side)
    points = sample_points(ab, count, seed=seed * 1_000_003 + photo_index)
    if ab.shape[:2] == (height, width):
        return points
    scale_y, scale_x = ab.shape[0] / height, ab.shape[1] / width
    return [HintPoint(x=min(int(round(p.x / scale_x)), width - 1), y=min(int(round(p.y / scale_y)), height - 1),
                      size=max(1, int(round(p.size / max(scale_x, scale_y)))), a=p.a, b=p.b) for p in points]


class HintFill:
    """A baseline that learns nothing: ``"nearest"`` gives every pixel its nearest hint's colour,
    ``"levin"`` solves Levin, Lischinski & Weiss 2004 (neighbours of similar lightness get similar
    colour). ``work_side``: solve at this longer side and upsample ab (Levin's solve grows with the
    pixels; None: the photo's own resolution)."""

    def __init__(self, kind: str, hints=(), work_side: int | None = None):
        if kind not in ("nearest", "levin"):
            raise ValueError(f"unknown fill {kind!r}: use 'nearest' or 'levin'")
        self.kind, self.hints, self.work_side = kind, list(hints), work_side

    def with_hints(self, hints) -> "HintFill":
        return HintFill(self.kind, hints, self.work_side)

    def __call__(self, lightness: np.ndarray) -> np.ndarray:
        import tensorflow as tf

        height, width = lightness.shape
        small_l = _at_work_side(np.asarray(lightness, np.float32)[..., None], self.work_side)[..., 0]
        size = small_l.shape
        hint_ab, mask = render_points(self.hints, *size, scale=(size[0] / height, size[1] / width))
        ab = (propagation.nearest_hint_fill(hint_ab, mask) if self.kind == "nearest"
              else propagation.levin_fill(small_l, hint_ab, mask))
        if size != (height, width):
            ab = tf.image.resize(ab[None], (height, width), method="bilinear")[0].numpy()
        return np.asarray(ab, np.float32)


def score_hint_counts(colorizers: dict, photos, counts=HINT_COUNTS, seed: int = config.SEED,
                      max_side: int | None = None, progress: bool = True, with_ssim: bool = False,
                      work_side: int | None = WORK_SIDE, workers: int = metrics.SCORING_WORKERS) -> dict[tuple[str, int], pd.DataFrame]:
    """Per-photo score tables ``{(name, hints): table}`` of hintable colorizers at every count.
    ``colorizers``: ``{name: hintable}``, or ``{name: (hintable, counts)}`` for a colorizer scored
    at fewer counts (e.g. an expensive baseline). SSIM, a third of the cost, only if asked."""
    photos = list(photos)
    plans = {name: (value if isinstance(value, tuple) else (value, tuple(counts))) for name, value in colorizers.items()}
    largest = max(max(wanted) for _, wanted in plans.values())

    def score_photo(indexed):
        index, path = indexed
        truth = fit_within(read_rgb(path), max_side)
        truth_lab = metrics._lab_of(truth)
        truth_stats = metrics.truth_statistics(truth, truth_lab)
        points = photo_points(truth_lab, largest, index, seed, work_side)
        found = {}
        for name, (hintable, wanted) in plans.items():
            for count in wanted:
                prediction, _ = metrics.colorize_with_grid(hintable.with_hints(points[:count]), truth, truth_lab)
                scores, _ = metrics.score_image(truth, prediction, truth_lab, with_ssim=with_ssim,
                                                truth_stats=truth_stats)
                found[name, count] = {"photo": Path(path).name, "hints": count, **scores}
        return found

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        results = list(config.progress(pool.map(score_photo, enumerate(photos)), total=len(photos),
                                       desc="scoring hint counts", disable=not progress))
    keys = [(name, count) for name, (_, wanted) in plans.items() for count in wanted]
    return {key: pd.DataFrame([found[key] for found in results]) for key in keys}


def hint_curve(tables: dict[tuple[str, int], pd.DataFrame], name: str) -> pd.DataFrame:
    """One colorizer's curve: ``hints, psnr, psnr_ci_low, psnr_ci_high, auc`` (95 % bootstrap
    interval of the mean over photos), one row per count."""
    rows = []
    for (model, count), table in sorted(tables.items(), key=lambda item: item[0][1]):
        if model != name:
            continue
        mean, low, high = intervals.bootstrap_mean_ci(table["psnr"])
        rows.append({"hints": count, "psnr": mean, "psnr_ci_low": low, "psnr_ci_high": high,
                     "auc": float(table["auc"].mean())})
    return pd.DataFrame(rows)


def write_hint_curve(curve: pd.DataFrame, reports: Path | None = None) -> Path:
    """``reports/hints_curve.csv``, replaced in one step (a reader never sees half a table)."""
    from colorize.results import write_result

    table = curve[["hints", "psnr", "psnr_ci_low", "psnr_ci_high", "auc"]]
    return write_result((reports or config.reports_dir()) / CURVE_FILE,
                        lambda file: table.to_csv(file, index=False), overwrite=True)

