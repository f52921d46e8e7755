"""One figure style and one ``save_fig`` for the whole course, plus the figures lessons share.

Figures are written to ``reports/figures/<notebook>/<name>.png``; the notebook name is set once
per notebook by :func:`colorize.reporting.start_lesson`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np

from colorize import config, lab

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

_current = {"notebook": "scratch"}


def use_style() -> None:
    matplotlib.rcParams.update(STYLE)


def set_notebook(name: str) -> None:
    """Figures saved from now on go to ``reports/figures/<name>/``."""
    _current["notebook"] = name


def figure_dir(notebook: str | None = None) -> Path:
    return config.reports_dir() / "figures" / (notebook or _current["notebook"])


def save_fig(fig: plt.Figure, name: str, key: bool = False) -> Path:
    """Save ``fig`` as ``reports/figures/<notebook>/<name>.png``; ``key=True`` makes it the
    figure the reports index shows for this notebook."""
    folder = figure_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    fig.savefig(path)
    if key:
        from colorize import reporting

        reporting.set_key_figure(_current["notebook"], path)
    return path


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
                ax.set_title(titles[index], fontsize=9, fontweight="normal")
    if row_labels:
        for row, label in enumerate(row_labels):
            axes[row, 0].text(-0.05, 0.5, label, transform=axes[row, 0].transAxes, rotation=90,
                              ha="right", va="center", fontsize=10)
    if title:
        fig.suptitle(title, fontweight="bold")
    fig.tight_layout()
    return fig


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
    fig.suptitle("The sRGB gamut in the ab plane at several lightness levels", fontweight="bold")
    fig.tight_layout()
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
    fig.suptitle(title or "The same photo in RGB (top) and CIELAB (bottom)", fontweight="bold")
    fig.tight_layout()
    return fig


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
