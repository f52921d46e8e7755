"""Zhang et al. 2017's user-guided colorization on the course's U-Net: the network sees, besides
L, the colour hints a user gives (:mod:`colorize.data.hints`) as three more input channels.

Input ``[B, H, W, 4]``: normalised L, then the hint ab (normalised like the targets, 0 where
there is no hint), then the mask (1 where a hint is). Body and head are lesson 05's U-Net, so a
hint network can start from a trained automatic U-Net: every weight is copied and the first
convolution's kernel gets zeros for the three new channels (:func:`widen_input_from`), so before
any hint training it colorizes exactly as the U-Net it came from.
"""

from __future__ import annotations

import keras
import numpy as np

from colorize.models.blocks import ab_head
from colorize.models.unet import unet_body

#: Input channels besides L: hint a, hint b, mask.
HINT_CHANNELS = 3


def hint_unet(base_filters: int = 16, depth: int = 4, convs_per_level: int = 2, batch_norm: bool = True,
              upsample: str = "transpose") -> keras.Model:
    """U-Net on ``[L, hint a, hint b, mask]`` -> ab / AB_SCALE (arguments as :func:`colorize.models.unet.unet`)."""
    inputs = keras.Input(shape=(None, None, 1 + HINT_CHANNELS), name="L_and_hints")
    features = unet_body(inputs, base_filters=base_filters, depth=depth, convs_per_level=convs_per_level,
                         batch_norm=batch_norm, upsample=upsample)
    return keras.Model(inputs, ab_head(features), name="hint_unet")


def takes_hints(model: keras.Model) -> bool:
    """Whether a model's input carries hint channels besides L (a subclassed model such as the GAN,
    which has no single input shape, does not)."""
    shape = getattr(model, "input_shape", None)
    return shape is not None and shape[-1] == 1 + HINT_CHANNELS


def widen_input_from(target: keras.Model, source: keras.Model) -> None:
    """Give ``target`` the weights of ``source``, which has the same layers but fewer input
    channels: a kernel that is wider on its input-channel axis gets the source's kernel there and
    zeros for the extra channels, so the extra inputs change nothing until training uses them."""
    source_weights, target_weights = source.get_weights(), target.get_weights()
    if len(source_weights) != len(target_weights):
        raise ValueError(f"{source.name} has {len(source_weights)} weight arrays and {target.name} "
                         f"{len(target_weights)}: not the same network")
    merged = []
    for old, new in zip(source_weights, target_weights):
        if old.shape == new.shape:
            merged.append(old)
        elif old.ndim == 4 and old.shape[:2] == new.shape[:2] and old.shape[3] == new.shape[3] \
                and old.shape[2] < new.shape[2]:
            widened = np.zeros(new.shape, dtype=old.dtype)
            widened[:, :, : old.shape[2], :] = old
            merged.append(widened)
        else:
            raise ValueError(f"cannot start {target.name} from {source.name}: weights {old.shape} and {new.shape}")
    target.set_weights(merged)
