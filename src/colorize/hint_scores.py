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


def photo_points(truth_lab: np.ndarray, count: int, photo_index: int, seed: int = config.SEED,
                 work_side: int | None = WORK_SIDE) -> list[HintPoint]:
    """The evaluation hints of the ``photo_index``-th test photo, in its pixel coordinates (a
    larger count extends a smaller one). The training sampler's patches are 1-9 px *at the
    network's working size*, so the points are drawn on the photo's ab shrunk to ``work_side``
    (None: the photo's own size) and scaled back: a 3-px hint there covers about 15 px of a
    481-px photo."""
    ab = np.asarray(truth_lab, np.float32)[..., 1:]
    height, width = ab.shape[:2]
    scale = 1.0 if work_side is None else min(1.0, work_side / max(height, width))
    if scale < 1.0:
        import tensorflow as tf

        small = (max(1, round(height * scale)), max(1, round(width * scale)))
        ab = tf.image.resize(ab[None], small, method="area", antialias=True)[0].numpy()
    points = sample_points(ab, count, seed=seed * 1_000_003 + photo_index)
    if scale == 1.0:
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
        scale = 1.0 if self.work_side is None else min(1.0, self.work_side / max(height, width))
        size = (max(1, round(height * scale)), max(1, round(width * scale)))
        small_l = (np.asarray(lightness, np.float32) if size == (height, width) else
                   tf.image.resize(np.asarray(lightness, np.float32)[None, ..., None], size, method="area",
                                   antialias=True)[0, ..., 0].numpy())
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
    import os
    import tempfile

    path = (reports or config.reports_dir()) / CURVE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=f".{path.name}.", suffix=".tmp",
                                     delete=False, newline="") as handle:
        curve[["hints", "psnr", "psnr_ci_low", "psnr_ci_high", "auc"]].to_csv(handle, index=False)
    os.replace(handle.name, path)
    return path


def hints_on_gray(rgb: np.ndarray, points: list[HintPoint]) -> np.ndarray:
    """The photo's gray (its L) with the hint squares painted in their colours: what the user gave."""
    from colorize import lab

    photo_lab = np.asarray(lab.rgb_to_lab_graph(rgb), np.float32)
    hint_ab, mask = render_points(points, *rgb.shape[:2])
    ab = np.where(mask > 0, hint_ab, 0.0).astype(np.float32)
    return np.asarray(lab.join_to_uint8_graph(photo_lab[..., 0], ab))


def gallery_rows(hintable, paths, counts, seed: int = config.SEED, max_side: int | None = None,
                 photo_indices=None, work_side: int | None = WORK_SIDE) -> list[tuple]:
    """:func:`colorize.plots.colorization_gallery` rows: per photo, the largest count's hints on
    gray, then the colorizer with each count of hints (captioned with its PSNR)."""
    rows = []
    indices = range(len(paths)) if photo_indices is None else photo_indices
    for index, path in zip(indices, paths):
        truth = fit_within(read_rgb(path), max_side)
        truth_lab = metrics._lab_of(truth)
        points = photo_points(truth_lab, max(counts), index, seed, work_side)
        shown = {f"the {max(counts)} hints": hints_on_gray(truth, points)}
        for count in counts:
            picture = metrics.colorize_rgb(hintable.with_hints(points[:count]), truth, truth_lab)
            shown[f"{count} hint{'s' if count != 1 else ''}"] = (picture, f"PSNR {metrics.psnr(truth, picture):.1f} dB")
        rows.append((Path(path).stem, truth, shown))
    return rows


def wrong_hint_effect(hintable, rgb: np.ndarray, points: list[HintPoint], which: int = 0,
                      threshold: float = 10.0) -> dict:
    """What one wrong hint does: hint ``which`` gets the opposite colour (-a, -b) and the rest stay
    right. Returns both pictures, the per-pixel ab change map, the share of the photo whose ab
    moved more than ``threshold`` Lab units, that area over the hint's own area, and how far from
    the hint's centre the moved pixels lie (median, in pixels)."""
    from colorize import lab

    photo_lab = np.asarray(lab.rgb_to_lab_graph(rgb), np.float32)
    lightness = photo_lab[..., 0]
    wrong = points[which]
    flipped = HintPoint(x=wrong.x, y=wrong.y, size=wrong.size, a=-wrong.a, b=-wrong.b)
    right_ab = hintable.with_hints(points)(lightness)
    wrong_ab = hintable.with_hints([*points[:which], flipped, *points[which + 1:]])(lightness)
    change = np.linalg.norm(wrong_ab - right_ab, axis=-1)
    moved = change > threshold
    rows, cols = np.nonzero(moved)
    centre = (wrong.y + wrong.size / 2, wrong.x + wrong.size / 2)
    distances = np.hypot(rows - centre[0], cols - centre[1])
    return {"right": np.asarray(lab.join_to_uint8_graph(lightness, right_ab)),
            "wrong": np.asarray(lab.join_to_uint8_graph(lightness, wrong_ab)),
            "change": change, "hint": wrong, "moved_share": float(moved.mean()),
            "area_ratio": float(moved.sum() / wrong.size ** 2),
            "median_distance": float(np.median(distances)) if len(distances) else 0.0,
            "photo_diagonal": float(np.hypot(*rgb.shape[:2]))}


def gain_by_photo(tables: dict[tuple[str, int], pd.DataFrame], name: str, count: int) -> pd.DataFrame:
    """Per photo: the PSNR gain of ``count`` hints over none, and the photo's true colourfulness."""
    with_hints = tables[name, count].set_index("photo")
    without = tables[name, 0].set_index("photo")
    return pd.DataFrame({"gain_db": with_hints["psnr"] - without["psnr"],
                         "colorfulness_truth": without["colorfulness_truth"]})


def crop_pictures(inputs: np.ndarray, ab: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """A hint pipeline batch as pictures: each crop's gray with its simulated hints painted, and
    the crop's true colour (uint8 RGB)."""
    from colorize import lab

    inputs, ab = np.asarray(inputs), np.asarray(ab)
    lightness = np.asarray(lab.denormalize_l(inputs[..., 0]))
    hint_ab = np.asarray(lab.denormalize_ab(inputs[..., 1:3])) * inputs[..., 3:4]
    true_ab = np.asarray(lab.denormalize_ab(ab))
    hinted = [np.asarray(lab.join_to_uint8_graph(l, h)) for l, h in zip(lightness, hint_ab)]
    truth = [np.asarray(lab.join_to_uint8_graph(l, t)) for l, t in zip(lightness, true_ab)]
    return hinted, truth


def leaderboard_rows(tables: dict[tuple[str, int], pd.DataFrame], names: dict[str, str], count: int,
                     lesson: str) -> pd.DataFrame:
    """Leaderboard rows for colorizers given ``count`` true hints per photo, labelled ``names[name]``
    (say so in the label: a model given true colours is not comparable with automatic rows)."""
    rows = []
    for name, label in names.items():
        table = tables[name, count]
        summary = metrics.summarize(table, label)
        _, low, high = intervals.bootstrap_mean_ci(table["psnr"])
        rows.append({"model": label, "lesson": lesson, "recommended": False, **summary.to_dict(),
                     "psnr_ci_low": low, "psnr_ci_high": high})
    return pd.DataFrame(rows)
