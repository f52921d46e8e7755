"""How sure is a comparison? Confidence intervals over test photos and spreads over training seeds.

Two kinds of noise sit under every number in the course:

* **Which photos were tested.** A mean PSNR over 200 photos would move if other photos had been
  drawn. A *paired* bootstrap resamples photos (with replacement) and recomputes the mean
  difference between two models on the same photos; its 2.5 and 97.5 percentiles are the 95 %
  interval. Pairing matters: most of the spread of PSNR comes from the photos themselves (some are
  nearly gray, some saturated), and both models see the same ones.
* **Which run was trained.** The same recipe trained with another seed (other initial weights,
  other crops) lands somewhere else, and on another CPU the floating-point order differs too.
  :func:`seed_spread` measures that from repeated runs.

A comparison is called a win (:func:`compare`) only when the bootstrap interval excludes zero
*and*, where the run-to-run spread is known, the difference is larger than the noise band of a
difference between two single runs (:func:`noise_band`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from colorize import config

#: Bootstrap resamples: enough for stable 2.5/97.5 percentiles at two decimals of a dB.
BOOTSTRAP_SAMPLES = 2000
CONFIDENCE = 0.95
#: Units of the scores the lessons compare, for sentences.
UNITS = {"psnr": " dB", "ssim": "", "auc": "", "mse_ab": "", "colorfulness": "", "colorfulness_ratio": ""}
#: Scores where lower is better.
LOWER_IS_BETTER = {"mse_ab", "mse_rgb", "val_loss", "best val loss"}


def _aligned(a: pd.DataFrame, b: pd.DataFrame, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """The per-photo ``metric`` of two score tables, matched photo by photo."""
    if "photo" in a and "photo" in b:
        joined = a[["photo", metric]].merge(b[["photo", metric]], on="photo", suffixes=("_a", "_b"))
        if len(joined) != len(a) or len(joined) != len(b):
            raise ValueError("the two score tables do not cover the same photos")
        values_a, values_b = joined[f"{metric}_a"].to_numpy(float), joined[f"{metric}_b"].to_numpy(float)
    else:
        values_a, values_b = np.asarray(a[metric], float), np.asarray(b[metric], float)
    finite = np.isfinite(values_a) & np.isfinite(values_b)
    return values_a[finite], values_b[finite]


def bootstrap_mean_ci(values: Sequence[float], confidence: float = CONFIDENCE, samples: int = BOOTSTRAP_SAMPLES,
                      seed: int = config.SEED) -> tuple[float, float, float]:
    """Mean of ``values`` and its percentile-bootstrap interval: ``(mean, low, high)``."""
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return (math.nan, math.nan, math.nan)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, values.size, size=(samples, values.size))
    means = values[picks].mean(axis=1)
    tail = (1 - confidence) / 2
    return float(values.mean()), float(np.quantile(means, tail)), float(np.quantile(means, 1 - tail))


def paired_bootstrap(a: Sequence[float], b: Sequence[float], confidence: float = CONFIDENCE,
                     samples: int = BOOTSTRAP_SAMPLES, seed: int = config.SEED) -> tuple[float, float, float]:
    """Mean of ``a - b`` over paired items and its bootstrap interval: ``(difference, low, high)``."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"paired values need the same length, got {a.shape} and {b.shape}")
    return bootstrap_mean_ci(a - b, confidence=confidence, samples=samples, seed=seed)


def seed_spread(values: Sequence[float]) -> float:
    """Run-to-run spread: the sample standard deviation of one score over runs that differ only
    in their seed (NaN with fewer than two runs)."""
    values = np.asarray(values, dtype=np.float64)
    return float(values.std(ddof=1)) if values.size >= 2 else math.nan


def noise_band(spread: float) -> float:
    """How far apart two single runs of equally good recipes land 95 % of the time: the
    difference of two independent runs has standard deviation √2 · spread, and 1.96 of those."""
    return 1.96 * math.sqrt(2.0) * spread if spread == spread else math.nan


def pooled_spread(*spreads: float) -> float:
    """One spread for comparing runs of recipes whose run-to-run spreads differ: the root mean
    square of the known ones, so that ``noise_band(pooled_spread(s_a, s_b))`` is
    1.96 · √(s_a² + s_b²), the band of a difference of one run of each. Unknown (NaN) spreads are
    left out (taken to be like the known ones); NaN if none is known."""
    known = [float(s) for s in spreads if s is not None and s == s]
    return math.sqrt(sum(s * s for s in known) / len(known)) if known else math.nan


@dataclass(frozen=True)
class Comparison:
    """Model ``a`` against model ``b`` on one score, over the same test photos."""

    a: str
    b: str
    metric: str
    difference: float  # mean of a - b
    low: float
    high: float
    photos: int
    #: run-to-run spread (standard deviation over seeds) of the metric, when measured
    spread: float = math.nan

    @property
    def band(self) -> float:
        return noise_band(self.spread)

    @property
    def interval_excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0

    @property
    def beyond_spread(self) -> bool:
        """True when no spread is known, else whether |difference| exceeds the two-run noise band."""
        return not (self.band == self.band) or abs(self.difference) > self.band

    @property
    def winner(self) -> str | None:
        """The better model, or None when the difference is not measurable here."""
        if not (self.interval_excludes_zero and self.beyond_spread):
            return None
        a_higher = self.difference > 0
        better_is_higher = self.metric not in LOWER_IS_BETTER
        return self.a if a_higher == better_is_higher else self.b

    def a_better(self) -> bool:
        return self.winner == self.a

    def interval_text(self) -> str:
        unit = UNITS.get(self.metric, "")
        return f"{self.difference:+.3f}{unit} (95 % CI {self.low:+.3f} to {self.high:+.3f}, {self.photos} photos)"

    def sentence(self) -> str:
        """A verdict computed from the numbers: who is better, or that it is not measurable."""
        name = self.metric.upper() if self.metric in ("psnr", "ssim", "auc") else self.metric
        detail = self.interval_text()
        spread = (f"; run-to-run noise band ±{self.band:.3f}" if self.band == self.band else "")
        if self.winner is not None:
            loser = self.b if self.winner == self.a else self.a
            return f"{self.winner} beats {loser} on {name}: {self.a} − {self.b} = {detail}{spread}."
        why = ("the interval includes zero" if not self.interval_excludes_zero
               else "the difference is within the run-to-run noise band")
        return (f"{self.a} against {self.b} on {name}: {detail}{spread} — not measurable here ({why}).")


def compare(tables: dict[str, pd.DataFrame], a: str, b: str, metric: str = "psnr", spread: float = math.nan,
            seed: int = config.SEED) -> Comparison:
    """Paired bootstrap of ``tables[a] - tables[b]`` on ``metric`` over the photos both scored."""
    values_a, values_b = _aligned(tables[a], tables[b], metric)
    difference, low, high = paired_bootstrap(values_a, values_b, seed=seed)
    return Comparison(a, b, metric, difference, low, high, int(values_a.size), spread)


def psnr_intervals(tables: dict[str, pd.DataFrame], metric: str = "psnr") -> pd.DataFrame:
    """For each model, the bootstrap interval of its mean ``metric`` over photos (columns
    ``{metric}_ci_low``, ``{metric}_ci_high``)."""
    rows = {}
    for name, table in tables.items():
        _, low, high = bootstrap_mean_ci(table[metric])
        rows[name] = {f"{metric}_ci_low": low, f"{metric}_ci_high": high}
    return pd.DataFrame.from_dict(rows, orient="index")
