"""How long does the ``colorize`` command take on a 12-megapixel photo with the default model?

The course's floor is 5 s per 12 MP photo on the 2-core CPU, end to end: decoding the JPEG,
converting it to L, the network at its working size, upsampling ab, converting back to sRGB and
encoding the result. Start-up (importing TensorFlow, loading the model) is paid once per run of
the command and reported separately. Each stage is also timed alone so the slow one is visible,
and the peak memory the photo adds to the process is recorded (the floor: 2 GiB).

Two paths are timed in the same run, their repeats interleaved so a busy neighbour slows both
alike: ``now``, what the command does (:mod:`colorize.fast_lab`'s OpenCV conversions), and
``before``, the path it replaced, kept callable for this: ``predict.colorize_photo_reference`` (the
XLA-compiled conversions of :mod:`colorize.lab`, L shrunk and ab upsampled by ``tf.image.resize``)
and :func:`read_image_before` (the decoder's two copies of the photo it no longer makes).
``ratio_to_before`` is now's median over before's, end to end; the target (``target_ratio``) is
0.5 s / 1.28 s = 0.39, the issue's 12 MP goal on the 2-core AMX Xeon over its time then. Stages:
``lightness`` (now: with the first pass of shrinking L for the network), ``network`` (shrinking
L, before; the forward pass), ``upsample`` (before only: now ab is upsampled strip by strip inside
``join_to_srgb``), ``network_and_upsample`` (their sum, the column of earlier runs).

The photo is a real one: a BSDS500 test photo (or, without BSDS500, scikit-image's astronaut)
upscaled to 4000 x 3000, in colour and as a grayscale JPEG (an old photo). Without a trained
model (no ``make all`` yet) an untrained ``models.build("unet")`` stands in (the conversions'
work is the same whatever the model; its forward pass is ~0.02 s of the total).

    python benchmarks/bench_colorize.py [--repeats N] [--data-dir DIR]

Writes reports/bench/colorize_bench.csv (one row per photo and path; the CPU in each row).
"""

from __future__ import annotations

import argparse
import contextlib
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


def cpu_description() -> tuple[str, bool]:
    """(the processor's name, whether it has AMX), so figures of different machines are not mixed."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        import platform

        return platform.processor() or platform.machine(), False
    names = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
    flags = next((line.split(":", 1)[1].split() for line in lines if line.startswith("flags")), [])
    return (names[0] if names else "unknown"), any(flag.startswith("amx") for flag in flags)


def interleaved(repeats: int, works: dict) -> dict[str, tuple[float, float]]:
    """{name: (best, median) seconds}, each ``work()`` run ``repeats`` times in turn with the others."""
    import statistics

    timings = {name: [] for name in works}
    for _ in range(repeats):
        for name, work in works.items():
            started = time.perf_counter()
            work()
            timings[name].append(time.perf_counter() - started)
    return {name: (min(values), statistics.median(values)) for name, values in timings.items()}


TARGET_RATIO = 0.5 / 1.28


def read_image_before(path, flatten_alpha: bool = True):
    """``colorize.data.images.read_image`` as it was, for the bench's JPEGs (no alpha): Pillow's
    ``exif_transpose`` and ``convert("RGB")`` each copied the photo (~0.03 s each at 12 MP)."""
    import numpy as np
    from PIL import Image, ImageOps

    with Image.open(path) as image:
        image.load()
        image = ImageOps.exif_transpose(image)
        return np.ascontiguousarray(np.asarray(image.convert("RGB"))), None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("COLORIZE_DATA_DIR") or DEFAULT_DATA_DIR))
    args = parser.parse_args(argv)

    started = time.perf_counter()
    import pandas as pd
    from PIL import Image

    from colorize import catalog, cli, fast_lab, models, photo_files, predict
    from colorize.config import ColorizeError
    from colorize.photo_files import Job, read_photo, write_photo

    try:
        chosen = catalog.choose(None)
        colorizer, description = chosen.colorizer, chosen.description
    except ColorizeError as error:
        print(f"no trained model ({error}); timing an untrained U-Net instead", file=sys.stderr)
        colorizer = predict.ModelColorizer(models.build("unet"), work_side=96)
        description = "untrained U-Net (models.build('unet'), work side 96)"
    startup = time.perf_counter() - started
    cpu, amx = cpu_description()
    print(f"Model: {description}; start-up (imports + model) {startup:.1f} s; CPU: {cpu} "
          f"({'with' if amx else 'no'} AMX, {fast_lab.workers()} strips at a time)")

    rgb, origin = source_photo(args.data_dir)
    megapixels = rgb.shape[0] * rgb.shape[1] / 1e6
    @contextlib.contextmanager
    def path_of(path: str):
        """What cli.colorize_one calls, as the path ``path`` has it."""
        if path == "now":
            yield
            return
        saved = predict.colorize_photo, photo_files.read_image
        predict.colorize_photo, photo_files.read_image = predict.colorize_photo_reference, read_image_before
        try:
            yield
        finally:
            predict.colorize_photo, photo_files.read_image = saved

    def through_the_command(path: str, job) -> None:
        with path_of(path):
            cli.colorize_one(colorizer, job, overwrite=True)

    def decode(path: str, source: Path):
        with path_of(path):
            return read_photo(source)

    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for kind, picture in (("colour JPEG", rgb), ("grayscale JPEG", rgb.mean(axis=-1).round().astype("uint8"))):
            source = Path(scratch) / f"{kind.split()[0]}.jpg"
            Image.fromarray(picture).save(source, quality=92)
            job = Job(source, Path(scratch) / "out" / source.name)
            growth = {}
            paths = ("now", "before")
            for path in paths:  # now first: its memory is measured before the old path's peak
                memory_before = peak_rss_mib()  # the process's peak so far (the colour photo: TF and the model)
                for _ in range(2):  # warm-up: the model's compiled graph, the XLA conversions' traces
                    through_the_command(path, job)
                growth[path] = max(0.0, peak_rss_mib() - memory_before)
            totals = interleaved(args.repeats, {path: (lambda path=path: through_the_command(path, job)) for path in paths})

            photo = read_photo(source)
            size = colorizer.input_size(*photo.rgb.shape[:2])
            lightness, small_l = predict._lightness_and_shrunk(photo.rgb, size)
            small_ab = colorizer.small_ab(lightness, small_l=small_l)
            full_ab = colorizer.upsample(small_ab, lightness.shape)
            colorized = predict.join_upsampled_in_strips(lightness, small_ab)
            stages = interleaved(args.repeats, {
                "now decode": lambda: decode("now", source),
                "before decode": lambda: decode("before", source),
                "now lightness": lambda: predict._lightness_and_shrunk(photo.rgb, size),
                "before lightness": lambda: predict.lightness_reference(photo.rgb),
                "now network": lambda: colorizer.small_ab(lightness, small_l=small_l),
                "before network": lambda: colorizer.small_ab(lightness),
                "before upsample": lambda: colorizer.upsample(small_ab, lightness.shape),
                "now join_to_srgb": lambda: predict.join_upsampled_in_strips(lightness, small_ab),
                "before join_to_srgb": lambda: predict.join_reference(lightness, full_ab),
                "encode": lambda: write_photo(colorized, None, job.target, overwrite=True),
            })
            for path in paths:
                stage = {name: stages[f"{path} {name}"][1] if f"{path} {name}" in stages else float("nan")
                         for name in ("decode", "lightness", "network", "upsample", "join_to_srgb")}
                stage["encode"] = stages["encode"][1]
                stage["network_and_upsample"] = stage["network"] + (0.0 if path == "now" else stage["upsample"])
                best, median = totals[path]
                ratio = median / totals["before"][1]
                rows.append({"photo": kind, "path": path, "source": origin, "megapixels": round(megapixels, 2),
                             "model": description, "seconds": best, "median_seconds": median,
                             "ratio_to_before": ratio, "target_ratio": TARGET_RATIO,
                             "floor_seconds": FLOOR_SECONDS, "startup_seconds": startup,
                             **{f"{k}_seconds": v for k, v in stage.items()},
                             "peak_rss_growth_mib": growth[path], "cpu": cpu, "amx": amx})
                shown = ", ".join(f"{k} {v:.3f} s" for k, v in stage.items() if v == v and k != "network_and_upsample")
                print(f"{kind}, {megapixels:.1f} MP, {path}: {best:.2f} s end to end (median {median:.2f} s, "
                      f"{ratio:.2f} of before's; floor {FLOOR_SECONDS:.0f} s); stage medians: {shown}")
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    table = pd.DataFrame(rows)
    table.to_csv(OUT_DIR / "colorize_bench.csv", index=False, float_format="%.3f")
    now = table[table.path == "now"]
    print(f"now over before, end to end (medians): {', '.join(f'{r:.2f}' for r in now.ratio_to_before)} "
          f"(target {TARGET_RATIO:.2f}: {'met' if (now.ratio_to_before <= TARGET_RATIO).all() else 'NOT met'})")
    print(f"Wrote {OUT_DIR / 'colorize_bench.csv'}")
    return 0 if (table.seconds <= FLOOR_SECONDS).all() else 1


if __name__ == "__main__":
    sys.exit(main())
