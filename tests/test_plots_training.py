"""colorize.plots training figures: loss curves, the colourisation gallery, ab histograms."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from colorize import plots


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _history(val: list[float] | None) -> pd.DataFrame:
    frame = {"epoch": np.arange(5), "loss": [0.5, 0.3, 0.2, 0.15, 0.1]}
    if val is not None:
        frame["val_loss"] = val
    return pd.DataFrame(frame)


# --- loss_curves -------------------------------------------------------------------------------


def test_loss_curves_lines_epochs_and_best_marker():
    fig = plots.loss_curves({"U-Net": _history([0.6, 0.4, 0.35, 0.38, 0.45]), "no val": _history(None)},
                            ylabel="loss (MSE on normalised ab)")
    ax = fig.axes[0]
    assert len(ax.lines) == 3  # U-Net: train + val; "no val": train only
    train, val, other = ax.lines
    assert train.get_linestyle() == "-" and val.get_linestyle() == "--"
    assert train.get_color() == val.get_color() and other.get_color() != train.get_color()
    assert list(train.get_xdata()) == [1, 2, 3, 4, 5]
    # min val_loss 0.35 is at 0-based epoch 2, i.e. epoch 3 on the axis
    (marker,) = ax.collections
    np.testing.assert_allclose(marker.get_offsets(), [[3, 0.35]])
    assert ax.get_xlabel() == "epoch" and ax.get_ylabel() == "loss (MSE on normalised ab)"
    assert ax.get_yscale() == "log" and ax.get_title() == "Training and validation loss"


def test_loss_curves_rejects_empty_and_missing_metric():
    with pytest.raises(ValueError, match="at least one history"):
        plots.loss_curves({})
    with pytest.raises(ValueError, match="no 'mae' column"):
        plots.loss_curves({"run": _history(None)}, metric="mae")


# --- colorization_gallery ----------------------------------------------------------------------


def test_gallery_layout_titles_captions_and_gray_panel():
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
    predictions = {"baseline": truth // 2, "U-Net": (truth, "PSNR 23.1 dB")}
    fig = plots.colorization_gallery([("photo 1", truth, predictions), ("photo 2", truth, predictions)])
    axes = np.array(fig.axes).reshape(2, 4)
    assert [ax.get_title() for ax in axes[0]] == ["gray input (L only)", "baseline", "U-Net", "ground truth"]
    assert all(ax.get_title() == "" for ax in axes[1])
    assert "PSNR 23.1 dB" in [text.get_text() for text in axes[0, 2].texts]
    assert "photo 2" in [text.get_text() for text in axes[1, 0].texts]
    gray = axes[0, 0].images[0].get_array()
    assert gray.shape == (8, 8, 3)
    assert np.abs(gray - gray[..., :1]).max() <= 1 / 255
    np.testing.assert_array_equal(axes[0, 3].images[0].get_array(), truth)


def test_gallery_rejects_empty_and_mismatched_rows():
    truth = np.zeros((4, 4, 3), dtype=np.uint8)
    with pytest.raises(ValueError, match="at least one row"):
        plots.colorization_gallery([])
    with pytest.raises(ValueError, match="has models"):
        plots.colorization_gallery([("a", truth, {"m": truth}), ("b", truth, {"n": truth})])


# --- ab_histograms -----------------------------------------------------------------------------


def test_ab_histograms_legend_gives_hand_computed_sigmas():
    truth = np.array([[[-10.0, 0.0], [10.0, 20.0]]])  # a: ±10 -> σ 10; b: 0, 20 -> σ 10
    # a: -3, 3, 0, 0 -> σ = √4.5 = 2.12; b: 1, 7, 0, 0 (mean 2) -> σ = √8.5 = 2.92
    narrow = np.array([-3.0, 1.0, 3.0, 7.0, 0.0, 0.0, 0.0, 0.0]).reshape(4, 2)
    fig = plots.ab_histograms(truth, {"U-Net": narrow})
    labels = [text.get_text() for text in fig.axes[1].get_legend().get_texts()]
    assert labels == ["ground truth (σa 10.0, σb 10.0)", "U-Net (σa 2.1, σb 2.9)"]
    assert [ax.get_title() for ax in fig.axes] == ["a (green − / red +)", "b (blue − / yellow +)"]
    assert all(ax.get_yscale() == "log" and "Lab units" in ax.get_xlabel() for ax in fig.axes)


def test_ab_histograms_rejects_arrays_not_ending_in_2():
    with pytest.raises(ValueError, match="last dimension is 2") as error:
        plots.ab_histograms(np.zeros((4, 2)), {"bad": np.zeros((4, 3))})
    assert "\n" not in str(error.value)


def test_interval_bars_mark_zero_and_fit_the_intervals():
    fig, ax = plt.subplots()
    plots.interval_bars(ax, ["a", "b"], [-0.05, -0.4], [-0.1, -0.5], [0.02, -0.3], "title", "PSNR difference (dB)")
    bars = ax.patches
    assert len(bars) == 2 and [bar.get_width() for bar in bars] == pytest.approx([-0.05, -0.4])
    assert bars[0].get_facecolor() != bars[1].get_facecolor()  # crossing zero is drawn paler than a clear difference
    low, high = ax.get_xlim()
    assert low < -0.5 and high > 0.02 and high - low < 1.0  # zoomed to the intervals, zero inside
    assert [text.get_text() for text in ax.get_yticklabels()] == ["a", "b"]
    assert ax.get_xlabel() == "PSNR difference (dB)"
    plt.close(fig)


def test_long_panel_titles_are_wrapped_to_their_width():
    assert plots.wrapped("short", 2.2) == "short"
    assert plots.wrapped("colourful classifier (T = 0.38)", 2.2) == "colourful classifier\n(T = 0.38)"
    lines = plots.wrapped("most colourful & recommended:\nbest autoencoder (Polychromify conv_dense)", 2.2).split("\n")
    assert lines[0] == "most colourful & recommended:" and len(lines) == 3
    assert all(len(line) <= int(2.2 * 72 / (0.6 * 9)) for line in lines)


def test_best_worst_grid_heads_each_band_with_its_model():
    image = np.zeros((30, 45, 3), dtype=np.uint8)
    models = ["U-Net, L2 loss", "colourful classifier (T = 0.38)"]
    fig = plots.best_worst_grid([image] * 8, ["best: a.jpg (30.0 dB)", "truth", "worst: b.jpg (12.0 dB)", "truth"] * 2,
                                models, title="Best and worst")
    assert [band._suptitle.get_text() for band in fig.subfigs] == models
    assert len(fig.axes) == 8 and fig._suptitle.get_text() == "Best and worst" and plots.is_photographic(fig)
    with pytest.raises(ValueError, match="4 images"):
        plots.best_worst_grid([image] * 3, ["t"] * 3, models)
    plt.close(fig)


def test_prior_and_weights_has_a_scale_under_each_map_and_marks_unseen_bins():
    bins = np.array([[a, b] for a in (-10.0, 0.0, 10.0) for b in (-10.0, 0.0, 10.0)])
    prior = np.array([0.0, 0.1, 0.0, 0.1, 0.5, 0.1, 0.0, 0.2, 0.0])
    smoothed = (prior + 0.01) / (prior + 0.01).sum()
    weights = 1.0 / (0.5 * smoothed + 0.5 / len(bins))
    weights = weights / (smoothed @ weights)
    fig = plots.prior_and_weights(bins, {"prior": prior, "smoothed": smoothed, "weights": weights})
    maps, bars = fig.axes[:3], fig.axes[3:]
    assert len(bars) == 3 and all(bar.get_position().y1 < ax.get_position().y0 for ax, bar in zip(maps, bars))
    assert "never seen (4 bins)" in [text.get_text() for text in maps[0].get_legend().get_texts()]
    plt.close(fig)


def test_legend_below_moves_the_legend_off_the_axes():
    history = pd.DataFrame({"epoch": [0, 1, 2], "loss": [3.0, 2.0, 1.5], "val_loss": [2.5, 2.2, 2.1]})
    fig = plots.loss_curves({"a run with a long label": history, "another run": history}, ylabel="loss")
    height = fig.get_size_inches()[1]
    plots.legend_below(fig)
    ax = fig.axes[0]
    assert ax.get_legend() is None and len(fig.legends) == 1
    assert len(fig.legends[0].get_texts()) == 4 and fig.get_size_inches()[1] > height
    fig.canvas.draw()
    legend_box = fig.legends[0].get_window_extent()
    axes_box = ax.get_tightbbox(fig.canvas.get_renderer())
    assert legend_box.y1 <= axes_box.y0 + 1  # entirely below the plot, its tick labels and axis label
    plt.close(fig)


def test_tradeoff_scatter_legend_names_every_model_and_the_reference_line():
    board = pd.DataFrame({"colorfulness_ratio": [0.50, 0.49, 0.95], "psnr": [23.0, 22.9, 21.0]},
                         index=["U-Net", "GAN, λ = 1000", "GAN, λ = 10"])
    fig = plots.tradeoff_scatter(board, legend=True, reference_lines={"gray's PSNR": 21.5}, title="t")
    ax = fig.axes[0]
    assert [text.get_text() for text in ax.get_legend().get_texts()] == [*board.index, "gray's PSNR"]
    assert not ax.texts  # no text labels beside the points
    assert len({tuple(collection.get_facecolor()[0]) for collection in ax.collections}) == 3
    labelled = plots.tradeoff_scatter(board, reference_lines={"gray's PSNR": 21.5})
    assert len(labelled.axes[0].texts) == 3 and labelled.axes[0].get_legend() is None
