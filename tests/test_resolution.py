"""colorize.resolution: what a working size costs an RGB-output network, measured on real photos."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from colorize import models, resolution
from colorize.data.images import read_rgb
from colorize.predict import ModelColorizer

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")


def test_rgb_at_size_keeps_a_flat_photo_and_blurs_detail():
    flat = np.full((40, 60, 3), 120, np.uint8)
    np.testing.assert_array_equal(resolution.rgb_at_size(flat, (8, 12)), flat)
    stripes = np.zeros((40, 60, 3), np.uint8)
    stripes[:, ::2] = 255  # one-pixel stripes: nothing of them survives a 6x shrink
    restored = resolution.rgb_at_size(stripes, (8, 10))
    assert restored.shape == stripes.shape and restored.dtype == np.uint8
    assert np.abs(restored.astype(int) - 127).max() <= 2


def test_rgb_output_detail_of_an_rgb_network(bsds_dir):
    photos = sorted((bsds_dir / "test").glob("*.jpg"))[:2]
    colorizer = ModelColorizer(models.build("seed001_rgb_baseline", filters=4), work_side=64)
    table = resolution.rgb_output_detail(colorizer, photos)
    assert list(table.photo) == [path.name for path in photos]
    truth = read_rgb(photos[0])
    height, width = colorizer.input_size(*truth.shape[:2])
    assert table["working size"].iloc[0] == f"{width}x{height}"
    # an untrained network draws worse than the photo's own RGB at its working size, and its
    # colour on the photo's own L keeps every edge: L error ~0 (8-bit rounding only)
    assert (table["l_mse: RGB as predicted"] > table["l_mse: true RGB at the working size"]).all()
    assert (table["l_mse: its ab + the photo's L"] < 1.0).all()
    assert (table["share_of_l_error"].between(0, 1)).all()
    assert (table["ssim: its ab + the photo's L"] > table["ssim: true RGB at the working size"]).all()
    again, rows = resolution.rgb_output_detail(colorizer, photos[:1], keep_pictures=True)
    pd.testing.assert_frame_equal(again, table.iloc[:1])
    name, truth, pictures = rows[0]
    assert name == photos[0].name and list(pictures) == ["RGB as predicted", "true RGB at the working size",
                                                         "its ab + the photo's L"]
    assert all(picture.shape == truth.shape and picture.dtype == np.uint8 for picture in pictures.values())
