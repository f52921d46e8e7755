"""How long does the ``colorize`` command take on a 12-megapixel photo with the default model?

The course's floor is 5 s per 12 MP photo on the 2-core CPU, end to end: decoding the JPEG,
converting it to L, the network at its working size, upsampling ab, converting back to sRGB and
encoding the result. Start-up (importing TensorFlow, loading the model) is paid once per run of
the command and reported separately. Each stage is also timed alone so the slow one is visible,
and the peak memory the photo adds to the process is recorded (the floor: 2 GiB).

The photo is a real one: a BSDS500 test photo (or, without BSDS500, scikit-image's astronaut)
upscaled to 4000 x 3000, in colour and as a grayscale JPEG (an old photo).

    python benchmarks/bench_colorize.py [--repeats N] [--data-dir DIR]

Writes reports/bench/colorize_bench.csv.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / "reports" / "bench"
DEFAULT_DATA_DIR = ROOT.parent / "shared" / "data" / "bsds500"
SIZE = (4000, 3000)  # 12 megapixels
FLOOR_SECONDS = 5.0


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def source_photo(data_dir: Path):
    """A real photo upscaled to 12 MP, and where it came from."""
    import numpy as np
    from PIL import Image

    photos = sorted((data_dir / "test").glob("*.jpg")) if data_dir.is_dir() else []
    if photos:
        image, origin = Image.open(photos[0]).convert("RGB"), f"BSDS500 {photos[0].name}"
    else:
        from skimage import data as skimage_data

        image, origin = Image.fromarray(skimage_data.astronaut()), "scikit-image astronaut"
    if image.width < image.height:
        image = image.rotate(90, expand=True)
    return np.asarray(image.resize(SIZE, Image.Resampling.LANCZOS)), origin


def best_of(repeats: int, work) -> tuple[float, float]:
    """(best, median) seconds of ``work()`` over ``repeats`` runs."""
    import statistics

    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        timings.append(time.perf_counter() - started)
    return min(timings), statistics.median(timings)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("COLORIZE_DATA_DIR") or DEFAULT_DATA_DIR))
    args = parser.parse_args(argv)

    started = time.perf_counter()
    import pandas as pd
    from PIL import Image

    from colorize import catalog, cli, predict
    from colorize.config import ColorizeError
    from colorize.photo_files import Job, read_photo, write_photo

    try:
        chosen = catalog.choose(None)
    except ColorizeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    colorizer = chosen.colorizer
    startup = time.perf_counter() - started
    print(f"Model: {chosen.description}; start-up (imports + model) {startup:.1f} s")

    rgb, origin = source_photo(args.data_dir)
    megapixels = rgb.shape[0] * rgb.shape[1] / 1e6
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for kind, picture in (("colour JPEG", rgb), ("grayscale JPEG", rgb.mean(axis=-1).round().astype("uint8"))):
            source = Path(scratch) / f"{kind.split()[0]}.jpg"
            Image.fromarray(picture).save(source, quality=92)
            job = Job(source, Path(scratch) / "out" / source.name)
            memory_before = peak_rss_mib()  # the process's peak so far (the colour photo: TF and the model)
            cli.colorize_one(colorizer, job, overwrite=True)  # warm-up: traces the compiled conversions
            total, total_median = best_of(args.repeats, lambda: cli.colorize_one(colorizer, job, overwrite=True))
            photo = read_photo(source)
            lightness = predict.lightness_in_strips(photo.rgb)
            ab = colorizer(lightness)
            colorized = predict.join_in_strips(lightness, ab)
            stages = {
                "decode": best_of(args.repeats, lambda: read_photo(source))[0],
                "lightness": best_of(args.repeats, lambda: predict.lightness_in_strips(photo.rgb))[0],
                "network_and_upsample": best_of(args.repeats, lambda: colorizer(lightness))[0],
                "join_to_srgb": best_of(args.repeats, lambda: predict.join_in_strips(lightness, ab))[0],
                "encode": best_of(args.repeats, lambda: write_photo(colorized, None, job.target, overwrite=True))[0],
            }
            rows.append({"photo": kind, "source": origin, "megapixels": round(megapixels, 2), "model": chosen.description,
                         "seconds": total, "median_seconds": total_median, "floor_seconds": FLOOR_SECONDS,
                         "startup_seconds": startup, **{f"{k}_seconds": v for k, v in stages.items()},
                         "peak_rss_growth_mib": max(0.0, peak_rss_mib() - memory_before)})
            print(f"{kind}, {megapixels:.1f} MP: {total:.2f} s end to end (median {total_median:.2f} s; floor "
                  f"{FLOOR_SECONDS:.0f} s): " + ", ".join(f"{k} {v:.2f} s" for k, v in stages.items()))
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    table = pd.DataFrame(rows)
    table.to_csv(OUT_DIR / "colorize_bench.csv", index=False, float_format="%.3f")
    print(f"Wrote {OUT_DIR / 'colorize_bench.csv'}")
    return 0 if (table.seconds <= FLOOR_SECONDS).all() else 1


if __name__ == "__main__":
    sys.exit(main())
