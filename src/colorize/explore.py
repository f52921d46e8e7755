"""Colour statistics of photos: the numbers behind lesson 01 (data exploration).

Every function takes photos as a list of uint8 sRGB arrays ``[H, W, 3]`` (what
:meth:`colorize.data.Dataset.load` returns) and gives back numpy arrays or pandas tables. Pixel
statistics are computed on a seeded random sample of pixels (at most :data:`MAX_PIXELS` in all,
an equal share from every photo) so a lesson stays fast on any dataset and repeats exactly.

Words used below, all in CIELAB units (see :mod:`colorize.lab`):

* *chroma* ``C = sqrt(a² + b²)``: how far a colour is from gray (0 = gray, ~130 at most in sRGB);
* *hue* ``atan2(b, a)`` in degrees: 0 red-magenta, 90 yellow, 180 green-cyan, 270 blue;
* *near gray*: chroma below :data:`NEAR_GRAY_CHROMA`, a colour the eye reads as (almost) neutral.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from colorize import config, lab, metrics
from colorize.data.images import fit_within

#: Cap on the pixels a lesson samples from a whole split (all photos together).
MAX_PIXELS = 200_000
#: Chroma (Lab units) below which a pixel counts as near gray.
NEAR_GRAY_CHROMA = 10.0
#: Pixels per photo used for its per-photo Lab statistics (colourfulness uses every pixel).
PIXELS_PER_PHOTO = 4096


# --- pixels --------------------------------------------------------------------------------

def _check_images(images: Sequence[np.ndarray]) -> list[np.ndarray]:
    images = list(images)
    for image in images:
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[-1] != 3:
            raise ValueError(f"photos must be uint8 arrays [H, W, 3], got {image.dtype} {image.shape}")
    return images


def _quotas(sizes: Sequence[int], max_pixels: int) -> np.ndarray:
    """An equal share of ``max_pixels`` per photo (never more than the photo has)."""
    n = len(sizes)
    share = np.full(n, max_pixels // n if n else 0, dtype=np.int64)
    share[: max_pixels % n if n else 0] += 1
    return np.minimum(share, np.asarray(sizes, dtype=np.int64))


def sample_pixels(images: Sequence[np.ndarray], max_pixels: int = MAX_PIXELS,
                  seed: int = config.SEED) -> tuple[np.ndarray, np.ndarray]:
    """A seeded random sample of pixels: (uint8 RGB ``[N, 3]``, index of each pixel's photo ``[N]``).

    Every photo contributes the same number of pixels (so a big photo does not outvote a small
    one), drawn without replacement; ``N <= max_pixels``. The same seed gives the same sample.
    """
    images = _check_images(images)
    if max_pixels < 0:
        raise ValueError("max_pixels must be >= 0")
    rng = np.random.default_rng(seed)
    sizes = [image.shape[0] * image.shape[1] for image in images]
    picked, owners = [], []
    for index, (image, quota) in enumerate(zip(images, _quotas(sizes, max_pixels))):
        chosen = rng.choice(sizes[index], size=int(quota), replace=False)
        picked.append(image.reshape(-1, 3)[np.sort(chosen)])
        owners.append(np.full(int(quota), index, dtype=np.int64))
    if not picked:
        return np.zeros((0, 3), np.uint8), np.zeros(0, np.int64)
    return np.concatenate(picked), np.concatenate(owners)


def to_lab(rgb: np.ndarray) -> np.ndarray:
    """uint8 sRGB ``[..., 3]`` -> CIELAB ``[..., 3]`` as float64 numpy (via :func:`colorize.lab.rgb_to_lab`)."""
    rgb = np.asarray(rgb)
    if rgb.size == 0:
        return np.zeros(rgb.shape, np.float64)
    return np.asarray(lab.rgb_to_lab(rgb), dtype=np.float64)


def chroma(lab_values: np.ndarray) -> np.ndarray:
    """Distance from gray in the ab plane, ``sqrt(a² + b²)``, in Lab units."""
    lab_values = np.asarray(lab_values, dtype=np.float64)
    return np.hypot(lab_values[..., 1], lab_values[..., 2])


def hue_degrees(lab_values: np.ndarray) -> np.ndarray:
    """Hue angle ``atan2(b, a)`` in degrees, in [0, 360) (meaningless for near-gray pixels)."""
    lab_values = np.asarray(lab_values, dtype=np.float64)
    return np.degrees(np.arctan2(lab_values[..., 2], lab_values[..., 1])) % 360.0


def near_gray_fraction(lab_values: np.ndarray, threshold: float = NEAR_GRAY_CHROMA) -> float:
    """Fraction of pixels whose chroma is below ``threshold``."""
    c = chroma(lab_values)
    return float(np.mean(c < threshold)) if c.size else float("nan")


def pixel_table(images: Sequence[np.ndarray], max_pixels: int = MAX_PIXELS, seed: int = config.SEED) -> pd.DataFrame:
    """Sampled pixels as a table: ``photo`` (index), ``L``, ``a``, ``b``, ``chroma``, ``hue``."""
    rgb, owners = sample_pixels(images, max_pixels, seed)
    values = to_lab(rgb).reshape(-1, 3)
    return pd.DataFrame({"photo": owners, "L": values[:, 0], "a": values[:, 1], "b": values[:, 2],
                         "chroma": chroma(values), "hue": hue_degrees(values)})


def mean_colour(pixels: pd.DataFrame, lightness: float = 50.0) -> tuple[float, float, np.ndarray]:
    """The average ab of the pixels and how it looks at ``lightness`` (uint8 RGB): the colour a
    model that hedges (minimises squared error without context) drifts towards."""
    a, b = float(pixels["a"].mean()), float(pixels["b"].mean())
    rgb = lab.lab_to_uint8(np.array([lightness, a, b], dtype=np.float32))
    return a, b, rgb


#: The channel pairs :func:`channel_correlations` reports, RGB first, then Lab.
CHANNEL_PAIRS = (("R-G", 0, 1), ("R-B", 0, 2), ("G-B", 1, 2), ("L-a", 0, 1), ("L-b", 0, 2), ("a-b", 1, 2))


def channel_correlations(images: Sequence[np.ndarray], names: Sequence[str] | None = None) -> pd.DataFrame:
    """Per photo, the Pearson correlation over its pixels of each pair of RGB channels and of
    Lab channels (columns ``R-G R-B G-B L-a L-b a-b``; NaN where a channel is constant, e.g.
    a and b of a gray photo). Over many photos this shows what one photo cannot: how strongly
    a pair is tied in general, and whether the sign of the tie depends on the photo."""
    images = _check_images(images)
    rows = []
    for index, image in enumerate(images):
        rgb = image.reshape(-1, 3).astype(np.float64)
        values = to_lab(image).reshape(-1, 3).astype(np.float64)
        row = {"photo": names[index] if names is not None else index}
        for label, i, j in CHANNEL_PAIRS:
            x = rgb if label[0] in "RG" else values
            constant = min(x[:, i].std(), x[:, j].std()) < 0.01  # a, b of gray pixels: rounding only
            row[label] = np.nan if constant else float(np.corrcoef(x[:, i], x[:, j])[0, 1])
        rows.append(row)
    return pd.DataFrame(rows)


# --- photos ---------------------------------------------------------------------------------

def photo_table(images: Sequence[np.ndarray], names: Sequence[str] | None = None,
                pixels_per_photo: int = PIXELS_PER_PHOTO, seed: int = config.SEED,
                near_gray: float = NEAR_GRAY_CHROMA) -> pd.DataFrame:
    """One row per photo: size, colourfulness (all pixels) and Lab statistics (sampled pixels).

    Columns: ``photo``, ``height``, ``width``, ``colorfulness`` (Hasler & Süsstrunk),
    ``mean_L``, ``median_chroma``, ``near_gray`` (fraction), ``mean_a``, ``mean_b``, ``hue``
    (hue of the mean ab, i.e. the chroma-weighted mean hue, degrees).
    """
    images = _check_images(images)
    names = list(names) if names is not None else [f"photo {i}" for i in range(len(images))]
    if len(names) != len(images):
        raise ValueError(f"{len(names)} names for {len(images)} photos")
    columns = ["photo", "height", "width", "colorfulness", "mean_L", "median_chroma", "near_gray",
               "mean_a", "mean_b", "hue"]
    if not images:
        return pd.DataFrame(columns=columns)
    rgb, owners = sample_pixels(images, pixels_per_photo * len(images), seed)
    values = to_lab(rgb).reshape(-1, 3)
    frame = pd.DataFrame({"owner": owners, "L": values[:, 0], "a": values[:, 1], "b": values[:, 2],
                          "chroma": chroma(values)})
    frame["gray"] = frame["chroma"] < near_gray
    per = frame.groupby("owner").agg(mean_L=("L", "mean"), median_chroma=("chroma", "median"),
                                     near_gray=("gray", "mean"), mean_a=("a", "mean"), mean_b=("b", "mean"))
    table = pd.DataFrame({
        "photo": names,
        "height": [image.shape[0] for image in images],
        "width": [image.shape[1] for image in images],
        "colorfulness": [metrics.colorfulness(image) for image in images],
    }).join(per)
    table["near_gray"] = table["near_gray"].astype(float)
    table["hue"] = np.degrees(np.arctan2(table["mean_b"], table["mean_a"])) % 360.0
    return table[columns]


def photo_table_by_split(photos: Mapping[str, Sequence[np.ndarray]], names: Mapping[str, Sequence[str]],
                         **kwargs) -> pd.DataFrame:
    """:func:`photo_table` for every split, stacked, with a ``split`` column first."""
    tables = []
    for split, images in photos.items():
        table = photo_table(images, names[split], **kwargs)
        table.insert(0, "split", split)
        tables.append(table)
    return pd.concat(tables, ignore_index=True)


def size_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per split (from :meth:`Dataset.table`), then for all: photos, typical and smallest size,
    total megapixels, landscape and portrait counts."""
    table = table.assign(landscape=table["width"] >= table["height"],
                         short_side=table[["width", "height"]].min(axis=1))
    groups = [(split, part) for split, part in table.groupby("split", sort=False)] + [("all", table)]
    rows = {name: {"photos": len(part), "median_width": part["width"].median(),
                   "median_height": part["height"].median(), "smallest_side": part["short_side"].min(),
                   "megapixels": part["megapixels"].sum(), "landscape": int(part["landscape"].sum()),
                   "portrait": int((~part["landscape"]).sum())}
            for name, part in groups}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("split")


def split_gallery(photos: Mapping[str, Sequence[np.ndarray]], names: Mapping[str, Sequence[str]],
                  per_split: int = 4) -> tuple[list[np.ndarray], list[str], list[str]]:
    """(images, titles, row labels) for :func:`colorize.plots.image_grid`: the first ``per_split``
    photos of each split on one row; short splits are padded with blank (white) cells."""
    images, titles, rows = [], [], []
    for split, split_photos in photos.items():
        shown = list(split_photos)[:per_split]
        blank = np.full((8, 8, 3), 255, np.uint8)
        images += shown + [blank] * (per_split - len(shown))
        titles += [f"{name}  {p.shape[1]}x{p.shape[0]}" for name, p in zip(names[split], shown)]
        titles += [""] * (per_split - len(shown))
        rows.append(f"{split} ({len(split_photos)})")
    return images, titles, rows


def extremes(table: pd.DataFrame, column: str, n: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``n`` rows with the highest and the ``n`` with the lowest ``column`` (disjoint when possible)."""
    ordered = table.sort_values(column, ascending=False)
    n_top = min(n, len(ordered))
    n_bottom = min(n, max(len(ordered) - n_top, 0)) or min(n, len(ordered))
    return ordered.head(n_top), ordered.tail(n_bottom).iloc[::-1]


# --- the gamut and lightness ----------------------------------------------------------------

def ab_gamut_mask(limit: float = 110.0, resolution: int = 221,
                  lightness_levels: Sequence[float] = tuple(np.linspace(1, 99, 50))) -> tuple[np.ndarray, np.ndarray]:
    """(axis values, mask ``[b, a]``): where in the ab plane *some* lightness has an sRGB colour."""
    axis = np.linspace(-limit, limit, resolution)
    a_grid, b_grid = np.meshgrid(axis, axis)  # rows: b, columns: a
    mask = np.zeros(a_grid.shape, dtype=bool)
    for lightness in lightness_levels:
        grid = np.stack([np.full_like(a_grid, lightness), a_grid, b_grid], axis=-1).astype(np.float32)
        mask |= np.asarray(lab.in_srgb_gamut(grid))
    return axis, mask


def max_chroma_by_lightness(lightness: Sequence[float] = tuple(np.arange(0, 101, 2.0)), hues: int = 180,
                            chroma_step: float = 1.0, chroma_max: float = 140.0) -> np.ndarray:
    """The largest chroma any sRGB colour reaches at each lightness (the gamut's ceiling)."""
    lightness = np.asarray(lightness, dtype=np.float32)
    angles = np.radians(np.arange(hues) * 360.0 / hues)
    radii = np.arange(0.0, chroma_max + chroma_step, chroma_step)
    a = (radii[:, None] * np.cos(angles)[None, :]).astype(np.float32)
    b = (radii[:, None] * np.sin(angles)[None, :]).astype(np.float32)
    grid = np.stack(np.broadcast_arrays(lightness[:, None, None], a[None], b[None]), axis=-1)
    inside = np.asarray(lab.in_srgb_gamut(grid))  # [L, radius, hue]
    reach = np.where(inside, radii[None, :, None], 0.0)
    return reach.max(axis=(1, 2))


def ab_spread_by_lightness(pixels: pd.DataFrame, bin_width: float = 10.0) -> pd.DataFrame:
    """How well lightness alone pins down colour, per L bin.

    ``rms_to_mean`` is the root-mean-square ab distance of the bin's pixels from the bin's mean
    ab: the error of the *best possible* colorizer that sees only a pixel's L (and nothing
    around it). ``rms_to_gray`` is the same for predicting gray (ab = 0): the RMS chroma.
    """
    edges = np.arange(0.0, 100.0 + bin_width, bin_width)
    which = np.clip(np.digitize(pixels["L"], edges) - 1, 0, len(edges) - 2)
    frame = pixels.assign(bin=which)
    rows = []
    for index, group in frame.groupby("bin"):
        mean_a, mean_b = group["a"].mean(), group["b"].mean()
        rows.append({
            "L_low": edges[index], "L_high": edges[index + 1], "L_mid": (edges[index] + edges[index + 1]) / 2,
            "pixels": len(group), "mean_a": mean_a, "mean_b": mean_b,
            "median_chroma": group["chroma"].median(),
            "rms_to_mean": float(np.sqrt(np.mean((group["a"] - mean_a) ** 2 + (group["b"] - mean_b) ** 2))),
            "rms_to_gray": float(np.sqrt(np.mean(group["chroma"] ** 2))),
        })
    return pd.DataFrame(rows)


def lightness_only_error(spread: pd.DataFrame) -> tuple[float, float]:
    """Overall RMS ab error of the best L-only colorizer and of the gray one (pixel-weighted)."""
    weights = spread["pixels"] / spread["pixels"].sum()
    return (float(np.sqrt(np.sum(weights * spread["rms_to_mean"] ** 2))),
            float(np.sqrt(np.sum(weights * spread["rms_to_gray"] ** 2))))


def lightness_band(pixels: pd.DataFrame, low: float, high: float) -> pd.DataFrame:
    """The sampled pixels with ``low <= L < high``."""
    return pixels[(pixels["L"] >= low) & (pixels["L"] < high)]


# --- same lightness, different colour: patch twins -----------------------------------------

def lightness_twins(images: Sequence[np.ndarray], patch: int = 12, max_side: int = 120,
                    patches_per_photo: int = 24, min_texture: float = 3.0, closest_fraction: float = 0.05,
                    n_pairs: int = 3, seed: int = config.SEED) -> pd.DataFrame:
    """Pairs of patches from *different* photos whose lightness patterns nearly match but whose
    colours differ most: proof, found by search rather than by hand, that L alone is ambiguous.

    Photos are shrunk to ``max_side`` and ``patches_per_photo`` random ``patch``-sized squares
    taken from each (only those with some texture: L standard deviation >= ``min_texture``).
    Each patch is paired with its nearest neighbour by L (RMS difference of the two L patches)
    from another photo; of the ``closest_fraction`` best-matching pairs, the ``n_pairs`` with
    the largest distance between mean ab are kept (each photo used once). Boxes are in the
    coordinates of the photos as given: ``top_*``, ``left_*``, ``size_*``.
    """
    images = _check_images(images)
    rng = np.random.default_rng(seed)
    vectors, means, boxes, owners = [], [], [], []
    for index, image in enumerate(images):
        small = fit_within(image, max_side)
        h, w = small.shape[:2]
        if h < patch or w < patch:
            continue
        scale = image.shape[0] / h
        small_lab = to_lab(small)
        tops = rng.integers(0, h - patch + 1, size=patches_per_photo)
        lefts = rng.integers(0, w - patch + 1, size=patches_per_photo)
        for top, left in zip(tops, lefts):
            window = small_lab[top:top + patch, left:left + patch]
            if window[..., 0].std() < min_texture:
                continue
            vectors.append(window[..., 0].ravel())
            means.append(window[..., 1:].reshape(-1, 2).mean(axis=0))
            boxes.append((round(top * scale), round(left * scale), round(patch * scale)))
            owners.append(index)
    columns = ["photo_a", "top_a", "left_a", "size_a", "photo_b", "top_b", "left_b", "size_b",
               "l_rms", "ab_distance", "ab_a", "ab_b"]
    owners = np.asarray(owners)
    if len(set(owners.tolist())) < 2:
        return pd.DataFrame(columns=columns)
    x = np.asarray(vectors, dtype=np.float64)
    means = np.asarray(means)
    squared = (x ** 2).sum(axis=1)
    distance = squared[:, None] + squared[None, :] - 2.0 * x @ x.T
    distance[owners[:, None] == owners[None, :]] = np.inf  # pairs must come from two photos
    nearest = distance.argmin(axis=1)
    l_rms = np.sqrt(np.maximum(distance[np.arange(len(x)), nearest], 0.0) / x.shape[1])
    ab_distance = np.linalg.norm(means - means[nearest], axis=1)
    keep = max(1, int(np.ceil(closest_fraction * len(x))))
    candidates = np.argsort(l_rms, kind="stable")[:keep]
    candidates = candidates[np.argsort(-ab_distance[candidates], kind="stable")]
    rows, used = [], set()
    for i in candidates:
        j = nearest[i]
        if owners[i] in used or owners[j] in used:
            continue
        used |= {owners[i], owners[j]}
        rows.append([owners[i], *boxes[i], owners[j], *boxes[j], l_rms[i], ab_distance[i],
                     tuple(np.round(means[i], 1)), tuple(np.round(means[j], 1))])
        if len(rows) == n_pairs:
            break
    return pd.DataFrame(rows, columns=columns)


def crop(image: np.ndarray, top: int, left: int, size: int) -> np.ndarray:
    """The square ``size`` x ``size`` at (top, left), clipped to the photo."""
    return image[max(top, 0):top + size, max(left, 0):left + size]


# --- the seeds' data ------------------------------------------------------------------------

#: What the seed decks say about their data (a missing number is ``None``: the deck does not say).
SEED_DATASETS = [
    {"data set": "MIRFLICKR-25000", "images": 25_000, "resolution": "not stated",
     "content": "Flickr photos of everything", "split": "not stated", "used by": "seed 000"},
    {"data set": "Landscapes", "images": 4_300, "resolution": "resized to 128x128",
     "content": "landscape categories", "split": "64/16/20 (2752/688/860)", "used by": "seed 004"},
    {"data set": "Landscapes + animals + faces", "images": 2_500, "resolution": "downsampled (size not stated)",
     "content": "924 landscapes, 539 animals, 996 faces", "split": "90/10 train/validation",
     "used by": "seed 003"},
    {"data set": "Landscapes (small)", "images": None, "resolution": "not stated",
     "content": "mainly landscapes, a few outliers", "split": "train/validation", "used by": "seed 001"},
    {"data set": "Photos from two GitHub colorization projects", "images": None, "resolution": "256x256",
     "content": "from guilbera/colorizing and emilwallner/Coloring-greyscale-images; count not stated",
     "split": "not stated", "used by": "seed 002"},
]


#: What our own data sets show, by :attr:`Dataset.name` (for the comparison table).
OUR_CONTENT = {
    "bsds500": "Berkeley segmentation photos: animals, people, buildings, landscapes",
    "sample": "sample photos of scikit-image, scikit-learn, matplotlib",
}


def seed_comparison(ours: str, counts: Mapping[str, int], resolution: str, content: str | None = None) -> pd.DataFrame:
    """The seeds' data sets next to ours (``counts`` from :meth:`Dataset.counts`)."""
    content = OUR_CONTENT.get(ours, "your own photos") if content is None else content
    total = int(sum(counts.values()))
    split = "/".join(str(n) for n in counts.values()) + " (" + "/".join(counts) + ")"
    rows = [*SEED_DATASETS, {"data set": ours, "images": total, "resolution": resolution,
                             "content": content, "split": split, "used by": "this course"}]
    table = pd.DataFrame(rows)
    table["images"] = table["images"].astype("Int64")
    return table


def crops_per_photo(height: int, width: int, crop_size: int) -> int:
    """Non-overlapping ``crop_size`` squares that fit in one photo."""
    return (height // crop_size) * (width // crop_size)


# --- figures of the lesson --------------------------------------------------------------------

def _hue_colours(hues_deg: np.ndarray, lightness: float = 65.0, radius: float = 45.0) -> np.ndarray:
    """What each hue looks like (RGB floats) at a fixed lightness and chroma, for colouring bars."""
    angles = np.radians(np.asarray(hues_deg, dtype=np.float64))
    grid = np.stack([np.full_like(angles, lightness), radius * np.cos(angles), radius * np.sin(angles)], axis=-1)
    return np.asarray(lab.lab_to_rgb(grid.astype(np.float32)))


def _gamut_and_gray(ax, gamut: tuple[np.ndarray, np.ndarray] | None, near_gray: float) -> None:
    import matplotlib.pyplot as plt

    if gamut is not None:
        axis, mask = gamut
        ax.contour(axis, axis, mask.astype(float), levels=[0.5], colors="0.35", linewidths=1.0, linestyles="--")
    ax.add_patch(plt.Circle((0, 0), near_gray, fill=False, color="tab:cyan", lw=1.4))
    ax.axhline(0, color="0.6", lw=0.5)
    ax.axvline(0, color="0.6", lw=0.5)


def ab_density_figure(pixels: pd.DataFrame, title: str, gamut: tuple[np.ndarray, np.ndarray] | None = None,
                      near_gray: float = NEAR_GRAY_CHROMA, limit: float = 110.0):
    """Left: log-density of the pixels in the ab plane, with the sRGB gamut (dashed), the
    near-gray disc (cyan) and the mean ab (x). Right: the a and b histograms."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    from colorize import plots

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8), gridspec_kw={"width_ratios": [1.15, 1]})
    plots.ab_density(left, pixels[["a", "b"]].to_numpy(), "Pixel colours in the ab plane", limit=limit)
    _gamut_and_gray(left, gamut, near_gray)
    left.plot(pixels["a"].mean(), pixels["b"].mean(), "x", color="tab:cyan", ms=10, mew=2)
    handles = [Line2D([], [], color="0.35", ls="--", label="sRGB gamut (some L)"),
               Line2D([], [], color="tab:cyan", marker="o", ls="", mfc="none", ms=10,
                      label=f"near gray (chroma < {near_gray:g})"),
               Line2D([], [], color="tab:cyan", marker="x", ls="", ms=8, mew=2, label="mean ab")]
    left.legend(handles=handles, loc="lower left", fontsize=8)
    bins = np.linspace(-limit, limit, 111)
    for channel, colour in (("a", "tab:red"), ("b", "tab:blue")):
        weights = np.full(len(pixels), 100.0 / max(len(pixels), 1))
        right.hist(pixels[channel], bins=bins, weights=weights, histtype="step", lw=1.6, color=colour, label=channel)
    right.set_yscale("log")
    right.set_xlabel("a or b (Lab units)")
    right.set_ylabel("pixels per 2-unit bin (%, log scale)")
    right.set_title("The a and b channels separately")
    right.legend()
    _, _, swatch = mean_colour(pixels)
    inset = right.inset_axes([0.03, 0.6, 0.2, 0.27])
    inset.imshow(np.broadcast_to(swatch, (8, 12, 3)))
    inset.set_xticks([])
    inset.set_yticks([])
    inset.set_title("mean ab at L = 50", fontsize=8, fontweight="normal")
    for spine in inset.spines.values():
        spine.set_visible(True)
    fig.suptitle(title, fontweight="bold")
    fig.tight_layout()
    return fig


def chroma_lightness_figure(pixels: pd.DataFrame, ceiling: np.ndarray, ceiling_lightness: np.ndarray,
                            title: str, bins: tuple[int, int] = (50, 70), chroma_max: float = 140.0):
    """Log-density of (L, chroma) with the sRGB ceiling and the median chroma per L bin."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 4.8))
    counts, l_edges, c_edges = np.histogram2d(pixels["L"], pixels["chroma"], bins=bins,
                                              range=[[0, 100], [0, chroma_max]])
    fraction = counts / max(counts.sum(), 1)
    shown = np.log10(np.where(fraction > 0, fraction, np.nan))
    image = ax.imshow(shown.T, origin="lower", aspect="auto", cmap="viridis",
                      extent=(0, 100, 0, chroma_max))
    fig.colorbar(image, ax=ax, label="log10 fraction of pixels")
    ax.plot(ceiling_lightness, ceiling, color="k", lw=1.5, ls="--", label="largest chroma sRGB can show")
    spread = ab_spread_by_lightness(pixels, bin_width=5.0)
    ax.plot(spread["L_mid"], spread["median_chroma"], "o-", color="tab:orange", ms=4,
            label="median chroma of our pixels")
    ax.set_xlabel("lightness L (0 = black, 100 = white)")
    ax.set_ylabel("chroma √(a² + b²) (Lab units)")
    ax.set_title(title)
    ax.legend(loc="upper right")
    ax.grid(False)
    return fig


def ambiguity_figure(pixels: pd.DataFrame, low: float, high: float, near_gray: float = NEAR_GRAY_CHROMA,
                     gamut: tuple[np.ndarray, np.ndarray] | None = None):
    """Same lightness, many colours: the ab cloud of one L band, its hue histogram, and the
    best L-only colorizer's error per L bin."""
    import matplotlib.pyplot as plt

    from colorize import plots

    band = lightness_band(pixels, low, high)
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.8), gridspec_kw={"width_ratios": [1.2, 1, 1]})
    plots.ab_density(axes[0], band[["a", "b"]].to_numpy(), f"Colours of pixels with {low:g} ≤ L < {high:g}")
    _gamut_and_gray(axes[0], gamut, near_gray)
    axes[0].set_xlabel("a (Lab units)")
    axes[0].set_ylabel("b (Lab units)")
    chromatic = band[band["chroma"] >= near_gray]
    edges = np.arange(0, 361, 10)
    counts, _ = np.histogram(chromatic["hue"], bins=edges)
    share = 100.0 * counts / max(len(band), 1)
    axes[1].bar(edges[:-1] + 5, share, width=10, color=_hue_colours(edges[:-1] + 5), edgecolor="0.3", lw=0.4)
    axes[1].set_xticks(range(0, 361, 60))
    axes[1].set_xlabel("hue angle atan2(b, a) (degrees)")
    axes[1].set_ylabel("pixels of the band (%)")
    axes[1].set_title(f"Hues in the band (chroma ≥ {near_gray:g})")
    spread = ab_spread_by_lightness(pixels)
    axes[2].plot(spread["L_mid"], spread["rms_to_gray"], "s--", color="0.4", label="predict gray (ab = 0)")
    axes[2].plot(spread["L_mid"], spread["rms_to_mean"], "o-", color="tab:red",
                 label="best guess from L alone (mean ab of the bin)")
    axes[2].set_ylim(bottom=0)
    axes[2].set_xlabel("lightness L (bins of 10)")
    axes[2].set_ylabel("RMS ab error (Lab units)")
    axes[2].set_title("Error of colorizers that see one pixel's L")
    axes[2].legend(loc="lower center")
    fig.suptitle("Lightness does not determine colour", fontweight="bold")
    fig.tight_layout()
    return fig


def twins_figure(images: Sequence[np.ndarray], twins: pd.DataFrame, names: Sequence[str] | None = None):
    """One row per pair from :func:`lightness_twins`: both L patches (what a network sees), both
    colour patches (the truth), and the two photos with the patches boxed."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    from colorize import plots

    rows = max(len(twins), 1)
    fig, axes = plt.subplots(rows, 6, figsize=(15, 2.6 * rows + 0.7), squeeze=False,
                             gridspec_kw={"width_ratios": [1, 1, 1, 1, 1.5, 1.5]})
    headers = ["patch A: L only", "patch B: L only", "patch A: colour", "patch B: colour", "photo A", "photo B"]
    for ax in axes.flat:
        ax.axis("off")
    for r, row in enumerate(twins.itertuples()):
        pair = [(row.photo_a, row.top_a, row.left_a, row.size_a), (row.photo_b, row.top_b, row.left_b, row.size_b)]
        patches = [crop(images[p], t, l, s) for p, t, l, s in pair]
        grays = [np.asarray(lab.gray_from_rgb(patch)) for patch in patches]
        for ax, shown in zip(axes[r], [*grays, *patches, images[row.photo_a], images[row.photo_b]]):
            ax.imshow(shown)
        for ax, (p, t, l, s) in zip(axes[r, 4:], pair):
            ax.add_patch(Rectangle((l, t), s, s, fill=False, color="yellow", lw=2))
        details = [f"L differs by {row.l_rms:.1f} (RMS)", "",
                   f"ab {round(row.ab_a[0]):+d}, {round(row.ab_a[1]):+d}",
                   f"ab {round(row.ab_b[0]):+d}, {round(row.ab_b[1]):+d}  (Δab {row.ab_distance:.0f})",
                   *[names[p] if names is not None else f"photo {p}" for p, *_ in pair]]
        for ax, header, detail in zip(axes[r], headers, details):
            title = f"{header}\n{detail}" if r == 0 else detail
            ax.set_title(title, fontsize=9, fontweight="normal")
    fig.suptitle("Same lightness pattern, different colour: patch pairs found by search", fontweight="bold")
    fig.tight_layout()
    return plots.photographic(fig)
