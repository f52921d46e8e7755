"""One figure style for the whole course, plus the figures lessons share.

Lessons save figures with :func:`colorize.reporting.save_fig` (``reports/figures/<notebook>/``),
which asks :func:`is_photographic` whether a figure is a photo (JPEG) or a chart (PNG); this
module knows nothing of reports.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import matplotlib
import matplotlib.pyplot as plt
import numpy as np

from colorize import lab

if TYPE_CHECKING:
    import pandas as pd

STYLE = {
    "figure.dpi": 100,
    "savefig.dpi": 110,
    "savefig.bbox": "tight",
    "figure.figsize": (8.0, 4.5),
    "axes.titlesize": 12,
    "axes.titleweight": "bold",
    "axes.labelsize": 10,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
    "image.interpolation": "nearest",
}


# Photos stored as PNG cost about 2 MB per gallery; JPEG at this quality looks the same on
# screen and keeps each executed report (which embeds every figure) under a few MB.
PHOTO_JPEG_QUALITY = 85


def use_style() -> None:
    matplotlib.rcParams.update(STYLE)
    _show_photographs_as_jpeg()


def photographic(fig: plt.Figure) -> plt.Figure:
    """Mark ``fig`` as mostly photos: it is then saved and shown in notebooks as JPEG."""
    fig._colorize_photographic = True
    return fig


def is_photographic(fig: plt.Figure) -> bool:
    return bool(getattr(fig, "_colorize_photographic", False))


def _figure_bytes(fig: plt.Figure, fmt: str) -> bytes:
    import io

    buffer = io.BytesIO()
    options = {"pil_kwargs": {"quality": PHOTO_JPEG_QUALITY}} if fmt == "jpeg" else {}
    fig.savefig(buffer, format=fmt, dpi=matplotlib.rcParams["figure.dpi"], bbox_inches="tight", **options)
    return buffer.getvalue()


def _show_photographs_as_jpeg() -> None:
    """In a notebook kernel, display photographic figures as JPEG and all others as PNG."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None or not hasattr(shell, "display_formatter"):
        return
    from matplotlib.figure import Figure

    # Load the inline backend now: on import it registers its own PNG formatter, which would
    # otherwise replace ours at the first figure.
    plt.switch_backend(matplotlib.get_backend())
    formatters = shell.display_formatter.formatters
    formatters["image/png"].for_type(Figure, lambda fig: None if is_photographic(fig) else _figure_bytes(fig, "png"))
    formatters["image/jpeg"].for_type(Figure, lambda fig: _figure_bytes(fig, "jpeg") if is_photographic(fig) else None)


def titled_layout(fig: plt.Figure, title: str = "") -> plt.Figure:
    """Lay out ``fig`` tightly with its bold title in a band of its own above every panel, so the
    title never sits on the panels' own titles (``tight_layout`` alone ignores a suptitle)."""
    if not title:
        fig.tight_layout()
        return fig
    fig.suptitle(title, fontweight="bold", y=0.995, va="top")
    height = fig.get_size_inches()[1]
    lines = title.count("\n") + 1
    fig.tight_layout(rect=(0, 0, 1, 1 - (0.12 + 0.2 * lines) / height))
    return fig


def wrapped(text: str, inches: float, fontsize: float = 9) -> str:
    """``text`` broken into lines that fit ``inches`` at ``fontsize`` points (about 0.6 em per
    character), so the titles of neighbouring panels never run into each other."""
    import textwrap

    text, width = str(text), max(8, int(inches * 72 / (0.6 * fontsize)))
    if "\n" in text:
        return "\n".join(wrapped(line, inches, fontsize) for line in text.split("\n"))
    if len(text) <= width:
        return text
    head, bracket, tail = text.partition(" (")  # "model (detail)": the detail on a line of its own
    if bracket and len(head) <= width and len(tail) + 1 <= width:
        return f"{head}\n({tail}"
    return textwrap.fill(text, width=width, break_long_words=False)


def _label_points(ax: plt.Axes, xs, ys, labels, fontsize: int = 8) -> None:
    """Label scatter points without labels overlapping each other or another point: each label
    takes the first of a few positions around its point that is still free, tied to its point by a
    short gray leader line so that in a cluster no label reads as its neighbour's."""
    from matplotlib.transforms import Bbox

    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    offsets = [(9, 0, "left", "center"), (-9, 0, "right", "center")]
    offsets += [(side * 6, rise * up, "left" if side > 0 else "right", "bottom" if up > 0 else "top")
                for rise in (5, 15, 26, 38) for up in (1, -1) for side in (1, -1)]
    leader = {"arrowstyle": "-", "lw": 0.5, "color": "0.55", "shrinkA": 0, "shrinkB": 3}
    points = ax.transData.transform(np.column_stack([xs, ys]))
    markers = [Bbox.from_extents(px - 4, py - 4, px + 4, py + 4) for px, py in points if np.all(np.isfinite([px, py]))]
    taken = []

    def clash(box) -> float:  # how much of ``box`` lies on labels placed so far and on other points
        return sum(max(0.0, min(box.x1, o.x1) - max(box.x0, o.x0)) * max(0.0, min(box.y1, o.y1) - max(box.y0, o.y0))
                   for o in taken + others)

    for x, y, label in sorted(zip(xs, ys, labels), key=lambda item: -item[1]):
        own = ax.transData.transform((x, y))
        others = [box for box in markers if not box.contains(*own)]  # every point but this one is an obstacle
        best = None
        for dx, dy, ha, va in offsets:  # measured without the leader line (an annotation's extent includes it)
            text = ax.annotate(str(label), (x, y), textcoords="offset points", xytext=(dx, dy), ha=ha, va=va,
                               fontsize=fontsize)
            box = text.get_window_extent(renderer).expanded(1.05, 1.15)
            text.remove()
            score = clash(box)
            if best is None or score < best[0]:
                best = (score, (dx, dy, ha, va), box)
            if score == 0:
                break  # the first free position wins; crowded everywhere: the least covered one
        dx, dy, ha, va = best[1]
        ax.annotate(str(label), (x, y), textcoords="offset points", xytext=(dx, dy), ha=ha, va=va, fontsize=fontsize,
                    arrowprops=leader)
        taken.append(best[2])


def image_grid(
    images: Sequence[np.ndarray],
    titles: Sequence[str] | None = None,
    ncols: int = 4,
    title: str = "",
    cell_size: float = 2.6,
    row_labels: Sequence[str] | None = None,
) -> plt.Figure:
    """Photos in a grid (no axes: pixels have no units), each with a short title."""
    nrows = max(1, int(np.ceil(len(images) / ncols)))
    fig, axes = plt.subplots(nrows, ncols, figsize=(cell_size * ncols, cell_size * nrows * 0.8), squeeze=False)
    for index, ax in enumerate(axes.flat):
        ax.axis("off")
        if index < len(images):
            image = images[index]
            ax.imshow(image, cmap="gray" if image.ndim == 2 else None, vmin=0, vmax=255 if image.dtype == np.uint8 else 1)
            if titles is not None:
                ax.set_title(wrapped(titles[index], cell_size), fontsize=9, fontweight="normal")
    if row_labels:
        for row, label in enumerate(row_labels):
            axes[row, 0].text(-0.05, 0.5, label, transform=axes[row, 0].transAxes, rotation=90,
                              ha="right", va="center", fontsize=10)
    titled_layout(fig, title)
    return photographic(fig)


def best_worst_grid(images: Sequence[np.ndarray], titles: Sequence[str], models: Sequence[str], title: str = "",
                    cell_size: float = 2.4) -> plt.Figure:
    """Lesson 08's best and worst photo per model: one band per model, headed by its name, with
    four photos (best prediction, its truth, worst prediction, its truth) from
    :func:`colorize.predict.best_worst_images`. Names sit above their band, never beside or on the photos."""
    per_row = 4
    if len(images) != per_row * len(models) or len(titles) != len(images):
        raise ValueError(f"need {per_row} images and titles per model, got {len(images)} for {len(models)} models")
    fig = plt.figure(layout="constrained", figsize=(cell_size * per_row, cell_size * 0.85 * len(models) + 0.4))
    bands = np.atleast_1d(fig.subfigures(len(models), 1))
    for row, (band, model) in enumerate(zip(bands, models)):
        band.suptitle(model, fontsize=10, fontweight="bold", x=0.01, ha="left")
        for col, ax in enumerate(band.subplots(1, per_row)):
            index = row * per_row + col
            ax.imshow(images[index])
            ax.set_title(wrapped(titles[index], cell_size), fontsize=8.5, fontweight="normal")
            ax.axis("off")
    if title:
        fig.suptitle(title, fontweight="bold")
    return photographic(fig)


def ab_plane_colors(lightness: float, resolution: int = 256, limit: float = 128.0):
    """RGB of every (a, b) at one lightness, with out-of-gamut colours masked (for backgrounds)."""
    axis = np.linspace(-limit, limit, resolution)
    b_grid, a_grid = np.meshgrid(axis[::-1], axis, indexing="ij")  # rows: b high -> low
    lab_grid = np.stack([np.full_like(a_grid, lightness), a_grid, b_grid], axis=-1).astype(np.float32)
    rgb = np.asarray(lab.lab_to_rgb(lab_grid, clip=True))
    inside = np.asarray(lab.in_srgb_gamut(lab_grid))
    rgba = np.concatenate([rgb, inside[..., None].astype(np.float32)], axis=-1)
    return rgba, inside, (-limit, limit, -limit, limit)


def gamut_slices(lightness_levels: Sequence[float] = (20, 40, 60, 80, 95), limit: float = 128.0) -> plt.Figure:
    """The colours sRGB can show in the ab plane, one panel per lightness L."""
    fig, axes = plt.subplots(1, len(lightness_levels), figsize=(3.0 * len(lightness_levels), 3.3), sharey=True)
    for ax, lightness in zip(np.atleast_1d(axes), lightness_levels):
        rgba, inside, extent = ab_plane_colors(lightness, limit=limit)
        ax.imshow(rgba, extent=extent)
        ax.set_title(f"L = {lightness:g}  ({inside.mean():.0%} of square in gamut)", fontsize=9)
        ax.set_xlabel("a (green − / red +)")
        ax.axhline(0, color="k", lw=0.4)
        ax.axvline(0, color="k", lw=0.4)
    np.atleast_1d(axes)[0].set_ylabel("b (blue − / yellow +)")
    titled_layout(fig, "The sRGB gamut in the ab plane at several lightness levels")
    return fig


def ab_density(ax: plt.Axes, ab: np.ndarray, title: str, limit: float = 110.0, bins: int = 110) -> None:
    """Log-density of pixel colours in the ab plane (where the colours of photos live)."""
    ab = np.asarray(ab).reshape(-1, 2)
    counts, a_edges, b_edges = np.histogram2d(ab[:, 0], ab[:, 1], bins=bins, range=[[-limit, limit], [-limit, limit]])
    density = counts / counts.sum()
    shown = np.log10(np.where(density > 0, density, np.nan))
    image = ax.imshow(shown.T, origin="lower", extent=(-limit, limit, -limit, limit), cmap="magma")
    ax.set_title(title)
    ax.set_xlabel("a, green − / red + (Lab units)")
    ax.set_ylabel("b, blue − / yellow + (Lab units)")
    ax.figure.colorbar(image, ax=ax, label="log10 fraction of pixels", shrink=0.8)


def bar_table(ax: plt.Axes, labels: Sequence[str], values: Sequence[float], title: str, xlabel: str) -> None:
    """Horizontal bars with their values written on them (for small score tables)."""
    positions = np.arange(len(labels))
    ax.barh(positions, values, color="#4c72b0")
    ax.set_yticks(positions, labels)
    ax.invert_yaxis()
    for position, value in zip(positions, values):
        ax.text(value, position, f" {value:.3g}", va="center", fontsize=9)
    ax.set_title(title)
    ax.set_xlabel(xlabel)


def interval_bars(ax: plt.Axes, labels: Sequence[str], values: Sequence[float], lows: Sequence[float],
                  highs: Sequence[float], title: str, xlabel: str) -> None:
    """Horizontal bars of differences (from a reference, e.g. gray or the best row) with their 95 %
    intervals as error bars and a line at zero, the axis fitted to the intervals: small differences
    stay visible, and a bar whose interval crosses zero reads as "not measurable"."""
    positions = np.arange(len(labels))
    values, lows, highs = (np.asarray(v, dtype=float) for v in (values, lows, highs))
    ax.barh(positions, values, color=np.where((lows > 0) | (highs < 0), "#4c72b0", "#a6b8d6"))
    ax.errorbar(values, positions, xerr=[values - lows, highs - values], fmt="none", ecolor="k", capsize=3, lw=1)
    ax.axvline(0, color="k", lw=0.8)
    ax.set_yticks(positions, labels)
    ax.invert_yaxis()
    for position, value, high in zip(positions, values, highs):
        ax.text(max(high, 0), position, f" {value:+.2f}", va="center", fontsize=9)
    span = max(np.max(np.abs(np.concatenate([lows, highs, [0.0]]))), 1e-9)
    ax.set_xlim(min(lows.min(), 0) - 0.15 * span, max(highs.max(), 0) + 0.35 * span)
    ax.set_title(title)
    ax.set_xlabel(xlabel)


def channel_panels(rgb: np.ndarray, title: str = "") -> plt.Figure:
    """A photo split into R, G, B (top row) and L, a, b (bottom row), each with its own scale."""
    photo_lab = np.asarray(lab.rgb_to_lab(rgb))
    fig, axes = plt.subplots(2, 4, figsize=(13, 5.6))
    axes[0, 0].imshow(rgb)
    axes[0, 0].set_title("photo (sRGB)")
    for i, (name, cmap) in enumerate((("R", "Reds_r"), ("G", "Greens_r"), ("B", "Blues_r"))):
        shown = axes[0, i + 1].imshow(rgb[..., i], cmap=cmap, vmin=0, vmax=255)
        axes[0, i + 1].set_title(f"{name} channel (0-255)")
        fig.colorbar(shown, ax=axes[0, i + 1], shrink=0.7)
    axes[1, 0].imshow(np.asarray(lab.gray_from_rgb(rgb)))
    axes[1, 0].set_title("what the network sees: L only")
    panels = (("L: lightness (0-100)", "gray", 0, 100), ("a: green − / red + (Lab units)", "PiYG_r", -60, 60),
              ("b: blue − / yellow + (Lab units)", "coolwarm", -60, 60))
    for i, (name, cmap, low, high) in enumerate(panels):
        shown = axes[1, i + 1].imshow(photo_lab[..., i], cmap=cmap, vmin=low, vmax=high)
        axes[1, i + 1].set_title(name)
        fig.colorbar(shown, ax=axes[1, i + 1], shrink=0.7)
    for ax in axes.flat:
        ax.axis("off")
    titled_layout(fig, title or "The same photo in RGB (top) and CIELAB (bottom)")
    return photographic(fig)


def auc_curves(curves: dict[str, np.ndarray], thresholds: np.ndarray | None = None, title: str = "") -> plt.Figure:
    """Cumulative ab accuracy (share of pixels within a threshold) per model: higher is better."""
    from colorize.metrics import AUC_THRESHOLDS

    thresholds = AUC_THRESHOLDS if thresholds is None else thresholds
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for name, curve in curves.items():
        curve = np.asarray(curve)
        mean_curve = curve.mean(axis=0) if curve.ndim == 2 else curve
        area = np.trapezoid(mean_curve, thresholds) / (thresholds[-1] - thresholds[0])
        ax.plot(thresholds, mean_curve, label=f"{name} (AuC {area:.3f})")
    ax.set_xlabel("threshold on ab error (Lab units)")
    ax.set_ylabel("share of pixels within threshold")
    ax.set_ylim(0, 1.01)
    ax.set_title(title or "Cumulative ab accuracy (area under it = raw AuC)")
    ax.legend(loc="lower right")
    fig.tight_layout()
    return fig


def loss_curves(
    histories: dict[str, pd.DataFrame],
    metric: str = "loss",
    title: str = "",
    log_scale: bool = True,
    ylabel: str = "",
) -> plt.Figure:
    """Training (solid) and validation (dashed) curves of several runs on one axis.

    Teaches over- and under-fitting: where the dashed curve stops falling (the dot marks each
    run's best validation epoch, the one to keep) while the solid one keeps going down.

    Parameters
    ----------
    histories : run name -> Keras ``CSVLogger`` history (``epoch``, ``metric``, maybe ``val_<metric>``).
    ylabel : y axis label with units, e.g. "loss (MSE on normalised ab)"; defaults to ``metric``.
    """
    if not histories:
        raise ValueError("loss_curves needs at least one history.")
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    all_positive = True
    for name, history in histories.items():
        if metric not in history.columns:
            columns = ", ".join(map(str, history.columns))
            raise ValueError(f"history {name!r} has no {metric!r} column (columns: {columns}).")
        # CSVLogger counts epochs from 0; people (and Keras' progress bar) count from 1.
        epochs = history["epoch"].to_numpy() + 1 if "epoch" in history.columns else np.arange(1, len(history) + 1)
        train = history[metric].to_numpy(dtype=float)
        (line,) = ax.plot(epochs, train, "-", label=f"{name}: train")
        all_positive &= bool(np.all(train[np.isfinite(train)] > 0))
        val_column = f"val_{metric}"
        if val_column in history.columns and history[val_column].notna().any():
            val = history[val_column].to_numpy(dtype=float)
            best = int(np.nanargmin(val))
            ax.plot(epochs, val, "--", color=line.get_color(),
                    label=f"{name}: validation (best {val[best]:.4g} at epoch {epochs[best]})")
            # A scatter, not a third line, so each run stays exactly one solid and one dashed line.
            ax.scatter([epochs[best]], [val[best]], color=line.get_color(), s=30, zorder=3)
            all_positive &= bool(np.all(val[np.isfinite(val)] > 0))
    if log_scale and all_positive:
        ax.set_yscale("log")
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel or metric)
    ax.set_title(title or f"Training and validation {metric}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def legend_below(fig: plt.Figure, ax: plt.Axes | None = None, ncol: int = 2, fontsize: int = 8) -> plt.Figure:
    """Move ``ax``'s legend (default: the first axes') into a band below the plot, so long labels
    never sit on the curves; the figure grows by the band, the plot keeps its size."""
    ax = ax or fig.axes[0]
    handles, labels = ax.get_legend_handles_labels()
    if ax.get_legend() is not None:
        ax.get_legend().remove()
    rows = -(-len(labels) // ncol)
    width, height = fig.get_size_inches()
    band = 0.2 * rows + 0.2
    fig.set_size_inches(width, height + band)
    fig.legend(handles, labels, loc="lower center", ncol=ncol, fontsize=fontsize, frameon=False)
    fig.tight_layout(rect=(0, band / (height + band), 1, 1))
    return fig


def colorization_gallery(
    rows: list[tuple[str, np.ndarray, dict[str, np.ndarray | tuple[np.ndarray, str]]]],
    title: str = "",
    cell_size: float = 2.6,
) -> plt.Figure:
    """Photos as each model colours them: gray input | one column per model | ground truth.

    Teaches what the numbers cannot: whether a model's colours are plausible, washed out
    (the sepia of regression to the mean) or bleeding across edges.

    Parameters
    ----------
    rows : (photo label, truth uint8 RGB ``HxWx3``, {model name: prediction}) per photo; a
        prediction is an RGB array or ``(array, caption)``, the caption (e.g. "PSNR 23.1 dB")
        written under the image. Every row names the same models, in the same order.
    """
    if not rows:
        raise ValueError("colorization_gallery needs at least one row.")
    models = list(rows[0][2])
    for label, truth, predictions in rows:
        if list(predictions) != models:
            raise ValueError(f"row {label!r} has models {list(predictions)}, the first row has {models}.")
        if np.ndim(truth) != 3 or np.shape(truth)[-1] != 3:
            raise ValueError(f"row {label!r}: ground truth must be an HxWx3 RGB image, got shape {np.shape(truth)}.")
    columns = ["gray input (L only)", *models, "ground truth"]
    nrows, ncols = len(rows), len(columns)
    fig, axes = plt.subplots(nrows, ncols, figsize=(cell_size * ncols, cell_size * nrows * 0.9), squeeze=False)
    for row, (label, truth, predictions) in enumerate(rows):
        cells = [(np.asarray(lab.gray_from_rgb(truth)), None)]
        cells += [value if isinstance(value, tuple) else (value, None) for value in predictions.values()]
        cells.append((truth, None))
        for col, (ax, (image, caption)) in enumerate(zip(axes[row], cells)):
            image = np.asarray(image)
            ax.imshow(image if image.dtype == np.uint8 else np.clip(image, 0.0, 1.0))
            ax.axis("off")
            if row == 0:
                ax.set_title(wrapped(columns[col], cell_size), fontsize=9, fontweight="bold")
            if caption:
                ax.text(0.5, -0.02, caption, transform=ax.transAxes, ha="center", va="top", fontsize=8)
        axes[row, 0].text(-0.05, 0.5, label, transform=axes[row, 0].transAxes, rotation=90,
                          ha="right", va="center", fontsize=10)
    titled_layout(fig, title)
    return photographic(fig)


def ab_histograms(
    truth_ab: np.ndarray,
    predictions: dict[str, np.ndarray],
    bins: int = 100,
    limit: float = 110.0,
    title: str = "",
) -> plt.Figure:
    """How a and b are spread in the photos (gray, filled) and in each model's output (lines).

    Teaches regression to the mean: a model trained on MSE bets on the average colour, so its
    histograms are taller and narrower than the truth's; the legend gives each spread (σ).

    Parameters
    ----------
    truth_ab, predictions : ab in Lab units, any shape ending in 2 (pixels outside ±limit are not drawn).
    """
    series = {"ground truth": truth_ab, **predictions}
    flat = {}
    for name, ab in series.items():
        ab = np.asarray(ab, dtype=np.float64)
        if ab.ndim == 0 or ab.shape[-1] != 2 or ab.size == 0:
            raise ValueError(f"{name!r}: ab must be a non-empty array whose last dimension is 2 (a, b), "
                             f"got shape {ab.shape}.")
        flat[name] = ab.reshape(-1, 2)
    edges = np.linspace(-limit, limit, bins + 1)
    fig, axes = plt.subplots(1, 2, figsize=(12.5, 4.2), sharey=True)
    panels = ("a (green − / red +)", "b (blue − / yellow +)")
    for channel, (ax, panel) in enumerate(zip(axes, panels)):
        for name, ab in flat.items():
            # Population σ, the same for every series, so the numbers compare like with like.
            label = f"{name} (σa {ab[:, 0].std():.1f}, σb {ab[:, 1].std():.1f})"
            if name == "ground truth":
                ax.hist(ab[:, channel], bins=edges, density=True, histtype="stepfilled", color="0.6", alpha=0.6,
                        label=label)
            else:
                ax.hist(ab[:, channel], bins=edges, density=True, histtype="step", lw=1.5, label=label)
        ax.set_yscale("log")
        ax.set_title(panel)
        ax.set_xlabel(f"{panel[0]} (Lab units)")
    axes[0].set_ylabel("density (fraction of pixels per Lab unit)")
    # Outside the axes: every series peaks near ab = 0, right where an inside legend would sit.
    axes[1].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    titled_layout(fig, title or "Distribution of a and b: truth vs. predictions")
    return fig


def gan_curves(history: "pd.DataFrame", title: str = "") -> plt.Figure:
    """A GAN's two players over time: losses (left) and the discriminator's accuracy (right).

    A healthy run keeps the discriminator's accuracy between chance (0.5) and certainty (1): if
    it sits at 1 the generator learns nothing from it; if it sits at 0.5 it has given up.
    """
    for column in ("d_loss", "g_adversarial", "d_real_accuracy", "d_fake_accuracy"):
        if column not in history.columns:
            raise ValueError(f"gan_curves needs a GAN history with a {column!r} column.")
    epochs = history["epoch"].to_numpy() + 1
    fig, (losses, accuracy) = plt.subplots(1, 2, figsize=(11, 3.8))
    losses.plot(epochs, history["d_loss"], label="discriminator loss")
    losses.plot(epochs, history["g_adversarial"], label="generator adversarial loss")
    losses.axhline(np.log(2), color="k", lw=0.7, ls=":", label="ln 2 (a coin flip's cross-entropy)")
    losses.set(title="Adversarial losses", xlabel="epoch", ylabel="binary cross-entropy (nats)")
    losses.legend(fontsize=8)
    accuracy.plot(epochs, history["d_real_accuracy"], label="real patches called real")
    accuracy.plot(epochs, history["d_fake_accuracy"], label="colorized patches called fake")
    accuracy.axhline(0.5, color="k", lw=0.7, ls=":", label="chance")
    accuracy.set(title="Discriminator accuracy per patch", xlabel="epoch", ylabel="share of patches", ylim=(0, 1.02))
    accuracy.legend(fontsize=8)
    titled_layout(fig, title or "The generator and the discriminator during adversarial training")
    return fig


def tradeoff_scatter(board: "pd.DataFrame", x: str = "colorfulness_ratio", y: str = "psnr",
                     xlabel: str = "colourfulness ratio (prediction / truth)", ylabel: str = "PSNR (dB)",
                     title: str = "", legend: bool = False,
                     reference_lines: dict[str, float] | None = None) -> plt.Figure:
    """Models as points in a fidelity-against-colourfulness plane, each labelled by its name.

    ``legend=True``: each model gets its own colour and marker, named in a legend beside the
    axes, instead of a text label beside its point (for boards whose points crowd together,
    where a label could be read as its neighbour's). ``reference_lines``: dotted horizontal lines
    at the given ``y`` values, named in the legend (e.g. ``{"gray's PSNR": 21.5}``)."""
    if legend:
        fig, ax = plt.subplots(figsize=(9.5, 5.0))
        markers = "osD^vP*Xph<>"
        for index, (label, row) in enumerate(board.iterrows()):
            ax.scatter(row[x], row[y], s=50, zorder=3, marker=markers[index % len(markers)], label=str(label),
                       color=plt.cm.tab10(index % 10), edgecolor="white", linewidth=0.5)
        for name, value in (reference_lines or {}).items():
            ax.axhline(value, color="k", lw=0.7, ls=":", label=name)
        ax.set(xlabel=xlabel, ylabel=ylabel, title=title or "Fidelity against colourfulness")
        ax.margins(x=0.08, y=0.08)
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0))
        fig.tight_layout()
        return fig
    fig, ax = plt.subplots(figsize=(8.5, 5.4))
    ax.scatter(board[x], board[y], color="#4c72b0", zorder=3)
    for value in (reference_lines or {}).values():
        ax.axhline(value, color="k", lw=0.7, ls=":")
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title or "Fidelity against colourfulness")
    ax.margins(x=0.25, y=0.12)  # room for the labels of the outermost points
    fig.tight_layout()
    _label_points(ax, board[x].to_numpy(), board[y].to_numpy(), [str(label) for label in board.index])
    return fig


def realness_maps(rows: list[tuple[str, np.ndarray, np.ndarray]], title: str = "") -> plt.Figure:
    """Pictures (left) and the discriminator's per-patch probability that each is real (right)."""
    fig, axes = plt.subplots(len(rows), 2, figsize=(7.5, 2.9 * len(rows)), squeeze=False)
    for (label, picture, realness), (image_ax, map_ax) in zip(rows, axes):
        image_ax.imshow(picture)
        image_ax.set_title(label, fontsize=9, fontweight="normal")
        shown = map_ax.imshow(realness, cmap="RdYlGn", vmin=0, vmax=1)
        map_ax.set_title(f"P(real) per patch, mean {realness.mean():.2f}", fontsize=9, fontweight="normal")
        fig.colorbar(shown, ax=map_ax, shrink=0.8, label="probability real")
        image_ax.axis("off")
        map_ax.axis("off")
    titled_layout(fig, title or "What the discriminator thinks of each patch")
    return photographic(fig)


def ab_points(points: dict[str, tuple[float, float]], lightness: float = 60.0, title: str = "",
              limit: float = 110.0) -> plt.Figure:
    """Labelled colours in the ab plane, over the sRGB gamut at one lightness."""
    fig, ax = plt.subplots(figsize=(5.6, 5.2))
    rgba, _, extent = ab_plane_colors(lightness, limit=limit)
    ax.imshow(rgba, extent=extent, alpha=0.85)
    for label, (a, b) in points.items():
        ax.scatter([a], [b], s=60, color="k", zorder=3)
        ax.annotate(label, (a, b), textcoords="offset points", xytext=(6, 6), fontsize=9)
    ax.axhline(0, color="k", lw=0.4)
    ax.axvline(0, color="k", lw=0.4)
    ax.set(xlabel="a, green − / red + (Lab units)", ylabel="b, blue − / yellow + (Lab units)",
           title=title or f"Colours in the ab plane (background: sRGB gamut at L = {lightness:g})")
    fig.tight_layout()
    return fig


def ab_bin_map(ax: plt.Axes, bins: np.ndarray, values: np.ndarray, title: str, label: str, log: bool = True,
               cmap: str = "viridis", colorbar: str = "vertical", limits: tuple[float, float] | None = None) -> None:
    """One value per quantised ab bin, drawn as the bin's square cell in the ab plane. With
    ``log``, bins whose value is 0 (a colour the photos never show) are drawn as hollow gray
    squares instead of stretching the colour scale down to log10(0). ``colorbar``: "vertical"
    (right of the panel) or "horizontal" (below it, so panels side by side never collide);
    ``limits``: the colour scale's (low, high) in the values' units (before the log)."""
    values = np.asarray(values, dtype=np.float64)
    empty = values <= 0 if log else np.zeros(len(values), dtype=bool)
    shown = np.log10(np.where(empty, 1.0, values)) if log else values
    grid = float(np.min(np.diff(np.unique(bins[:, 0])))) if len(bins) > 1 else 10.0
    size = (grid * 0.4) ** 2
    scale = {} if limits is None else dict(zip(("vmin", "vmax"), np.log10(limits) if log else limits))
    cells = ax.scatter(bins[~empty, 0], bins[~empty, 1], c=shown[~empty], cmap=cmap, marker="s", s=size, linewidths=0,
                       **scale)
    if empty.any():
        ax.scatter(bins[empty, 0], bins[empty, 1], marker="s", s=size, facecolors="none", edgecolors="0.6",
                   linewidths=0.6, label=f"never seen ({int(empty.sum())} bins)")
        ax.legend(loc="lower left", fontsize=8, handletextpad=0.3, borderaxespad=0.2)
    ax.set(xlim=(-115, 115), ylim=(-115, 115), aspect="equal", title=title,
           xlabel="a (Lab units)", ylabel="b (Lab units)")
    options = {"shrink": 0.8} if colorbar == "vertical" else {"fraction": 0.05, "pad": 0.16, "aspect": 30}
    if scale:  # values beyond the limits are drawn at the ends of the scale: say so on the bar
        below, above = shown[~empty].min() < scale["vmin"], shown[~empty].max() > scale["vmax"]
        options["extend"] = {(True, True): "both", (True, False): "min", (False, True): "max"}.get((below, above),
                                                                                                  "neither")
    ax.figure.colorbar(cells, ax=ax, orientation=colorbar, label=f"log10 {label}" if log else label, **options)


def prior_and_weights(bins: np.ndarray, prior: dict[str, np.ndarray], lam: float = 0.5, title: str = "") -> plt.Figure:
    """Lesson 07's three maps over the ab bins: the training photos' colour prior, the smoothed
    prior, and the class weights rebalancing derives from it; each colour bar sits under its panel."""
    fig, axes = plt.subplots(1, 3, figsize=(15, 6.2))
    seen = prior["prior"][prior["prior"] > 0]
    limits = (float(seen.min()), float(seen.max())) if seen.size else None  # one scale for both priors
    ab_bin_map(axes[0], bins, prior["prior"], "Colour prior of the training photos", "share of pixels",
               colorbar="horizontal", limits=limits)
    ab_bin_map(axes[1], bins, prior["smoothed"], "Smoothed prior (Gaussian, σ = 5)", "share of pixels",
               colorbar="horizontal", limits=limits)
    ab_bin_map(axes[2], bins, prior["weights"], f"Class weights after rebalancing (λ = {lam:g})",
               "weight (mean 1 under the prior)", log=False, cmap="magma_r", colorbar="horizontal")
    titled_layout(fig, title or "Training photos are mostly near gray; rebalancing weighs rare, saturated colours up")
    return fig


def ab_bins_figure(bins: np.ndarray, bins_per_lightness: dict[float, int], lightness: float = 50.0) -> plt.Figure:
    """The quantised ab bins over the sRGB gamut (left), and how many are in gamut at each L (right)."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.8))
    rgba, _, extent = ab_plane_colors(lightness, limit=115.0)
    axes[0].imshow(rgba, extent=extent)
    axes[0].scatter(bins[:, 0], bins[:, 1], s=6, color="k")
    axes[0].set(title=f"{len(bins)} bin centres (any L) over the gamut at L = {lightness:g}",
                xlabel="a (Lab units)", ylabel="b (Lab units)")
    levels = sorted(bins_per_lightness)
    axes[1].plot(levels, [bins_per_lightness[level] for level in levels], "o-")
    axes[1].axhline(len(bins), color="k", lw=0.7, ls=":", label=f"all L: {len(bins)} bins")
    axes[1].set(title="Bins that hold an sRGB colour, per lightness", xlabel="L (0-100)", ylabel="bins in gamut")
    axes[1].legend()
    titled_layout(fig, "Colour as classes: a 10-unit grid over the ab plane, kept where sRGB has colours")
    return fig


def score_distributions(per_photo: dict[str, "pd.DataFrame"], title: str = "") -> plt.Figure:
    """Box plots of per-photo scores, one panel per score (``{axis label: photos x models}``):
    a mean hides whether a model is steadily good or good on average with disasters."""
    first = next(iter(per_photo.values()))
    fig, axes = plt.subplots(1, len(per_photo), figsize=(4.2 * len(per_photo), 0.45 * first.shape[1] + 1.6),
                             sharey=True, squeeze=False)
    for ax, (label, frame) in zip(axes[0], per_photo.items()):
        columns = [frame[name].dropna().to_numpy() for name in frame.columns]
        ax.boxplot(columns, orientation="horizontal", widths=0.6, flierprops={"markersize": 3, "alpha": 0.5})
        ax.set_yticks(range(1, len(frame.columns) + 1), frame.columns)
        ax.set_xlabel(label)
        ax.set_title(label.split(" (")[0], fontsize=11)
    axes[0, 0].invert_yaxis()  # first model on top, as in the leaderboard
    titled_layout(fig, title or "Scores per test photo")
    return fig


def hint_curves(curves: dict[str, "pd.DataFrame"], reference: dict[int, float] | None = None,
                reference_label: str = "", title: str = "") -> plt.Figure:
    """PSNR against the number of colour hints, one line per colorizer with its 95 % interval as a
    band (``curves``: :func:`colorize.hint_scores.hint_curve` tables), and a published curve
    drawn dashed (``reference``: hints -> dB), which is on other photos and not comparable one to
    one. The x axis is symmetric-log, so 0 hints sits beside 1 and 100."""
    fig, ax = plt.subplots(figsize=(7.0, 4.4))
    for name, curve in curves.items():
        line, = ax.plot(curve.hints, curve.psnr, marker="o", ms=4, label=name)
        ax.fill_between(curve.hints, curve.psnr_ci_low, curve.psnr_ci_high, color=line.get_color(), alpha=0.18, lw=0)
    if reference:
        counts = sorted(reference)
        ax.plot(counts, [reference[c] for c in counts], ls="--", color="0.35", marker="x", ms=4,
                label=reference_label or "published")
    ax.set_xscale("symlog", linthresh=1)
    ticks = sorted({int(h) for curve in curves.values() for h in curve.hints} | set(reference or {}))
    ax.set_xticks(ticks)
    ax.set_xticklabels([str(t) for t in ticks])
    ax.set_xlabel("hint points per photo (symmetric log scale)")
    ax.set_ylabel("PSNR (dB), mean over test photos")
    ax.set_title(title or "Colour hints: PSNR against the number of hints")
    legend_below(fig, ax, ncol=2)
    return fig
