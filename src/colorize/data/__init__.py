"""Photos in, (L, ab) batches out: dataset sources, file decoding, downloads and tf.data."""

from colorize.data.images import IMAGE_SUFFIXES, UnreadableImage, fit_within, read_image, read_rgb
from colorize.data.pipeline import AUGMENTATIONS, SEED_AUGMENTATION, make_pipeline
from colorize.data.sources import SPLITS, Dataset, load_dataset, sample_dataset

__all__ = [
    "AUGMENTATIONS", "IMAGE_SUFFIXES", "SEED_AUGMENTATION", "SPLITS", "Dataset", "UnreadableImage",
    "fit_within", "load_dataset", "make_pipeline", "read_image", "read_rgb", "sample_dataset",
]
