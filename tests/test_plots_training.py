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
