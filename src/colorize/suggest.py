"""The few most likely colours at one point of a photo, from a model that predicts a distribution.

Zhang et al.'s classifier (lesson 07) gives, for every pixel of its small output grid, a
probability for each of its ab bins. Where a user is about to place a colour hint, the most
probable bins at that point are the colours worth offering first, as the SIGGRAPH 2017 interface
does: picking one tells the network which of its own guesses is right.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: How many colours to offer, and the least probability worth showing.
SUGGESTIONS, MIN_PROBABILITY = 6, 0.01


@dataclass(frozen=True)
class Suggestion:
    color: str  # "#rrggbb": the bin's ab with the photo's own L at the point
    probability: float


def predicts_distribution(colorizer) -> bool:
    return getattr(colorizer, "output", None) == "distribution"


def likely_colours(colorizer, lightness: np.ndarray, x: int, y: int, count: int = SUGGESTIONS) -> list[Suggestion]:
    """The ``count`` most probable colours at pixel (``x``, ``y``) of a photo whose L (0..100,
    ``[H, W]``) is ``lightness``, most probable first; probabilities below
    :data:`MIN_PROBABILITY` are left out (at least one colour is always offered)."""
    from colorize import classification, lab

    if not predicts_distribution(colorizer):
        raise ValueError("this model predicts one colour per pixel, not a distribution")
    probabilities = np.asarray(colorizer.network_output(lightness))  # [h, w, bins]
    height, width = lightness.shape
    row = min(probabilities.shape[0] - 1, int(y * probabilities.shape[0] / height))
    col = min(probabilities.shape[1] - 1, int(x * probabilities.shape[1] / width))
    here = probabilities[row, col]
    order = np.argsort(here)[::-1][:count]
    order = [index for number, index in enumerate(order) if number == 0 or here[index] >= MIN_PROBABILITY]
    bins = classification.ab_bins()[order]
    lab_colours = np.concatenate([np.full((len(order), 1), lightness[y, x], np.float32), bins], axis=-1)
    rgb = lab.lab_to_uint8(lab_colours[None].astype(np.float32))[0]
    return [Suggestion("#" + "".join(f"{channel:02x}" for channel in colour), float(here[index]))
            for colour, index in zip(rgb, order)]
