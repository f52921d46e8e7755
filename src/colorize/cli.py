"""``colorize PHOTO_OR_FOLDER... [--model NAME|PATH] [--out DIR] [--size N]``: colorize black-and-white photos.

Each photo's lightness is kept at full resolution and a trained model paints its colours. Results
are new files under ``--out`` (default ``colorized/``); inputs are never touched and an existing
result is kept unless ``--overwrite``. A photo that cannot be done is one line on stderr and the
run goes on. Exit status: 0 all done (or skipped), 1 some photos failed, 2 nothing could start
(no model, bad option).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from colorize.config import ColorizeError

EXIT_OK, EXIT_SOME_FAILED, EXIT_CANNOT_START = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="colorize", description=__doc__.splitlines()[0].split(": ", 1)[1],
        epilog="Formats: .jpg .jpeg .png .tif .tiff .bmp (any case); gray or colour (its L is used), 8- or "
               "16-bit, alpha kept, EXIF orientation applied. Without --model the course's recommended model "
               "(lesson 08) is used.")
    parser.add_argument("inputs", nargs="*", metavar="PHOTO_OR_FOLDER", help="photos, or folders searched recursively")
    parser.add_argument("--model", metavar="NAME|PATH",
                        help="a name from --list-models, a run folder in models/, or a path to a run or .keras file")
    parser.add_argument("--out", default="colorized", metavar="DIR", help="where results go (default: colorized/)")
    parser.add_argument("--size", type=int, metavar="N",
                        help="longer side, in pixels, the network sees the photo at (default: the size it was trained at)")
    parser.add_argument("--temperature", type=float, metavar="T",
                        help="colour boldness of the classification model, 0 (boldest) to 1 (default 0.38)")
    parser.add_argument("--overwrite", action="store_true", help="replace results that already exist in --out")
    parser.add_argument("--list-models", action="store_true", help="list the trained models and exit")
    return parser


def _list_models() -> int:
    from colorize import catalog

    runs = catalog.available()
    if not runs:
        print(catalog.NO_MODEL_HINT)
        return EXIT_OK
    default = catalog.recommended()
    for label, run in runs.items():
        marker = "*" if default and run.name == default[1].name else " "
        print(f"{marker} {label:45s} {run.name}")
    print("* the default model")
    return EXIT_OK


def colorize_one(colorizer, job, overwrite: bool) -> str:
    """Colorize one planned photo; returns 'done' or 'skipped', raises PhotoProblem for a failure."""
    from colorize import predict
    from colorize.photo_files import read_photo, write_photo

    if job.target.exists() and not overwrite:
        return "skipped"
    photo = read_photo(job.source)
    colorized = predict.colorize_photo(colorizer, photo.rgb)
    write_photo(colorized, photo.alpha, job.target, exif=photo.exif, overwrite=overwrite)
    return "done"


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.list_models:
        return _list_models()
    if not args.inputs:
        parser.error("name at least one photo or folder (or --list-models)")
    if args.size is not None and args.size < 16:
        parser.error(f"--size {args.size} is too small: use at least 16 (the lessons train at 96)")
    if args.temperature is not None and not 0.0 <= args.temperature <= 1.0:
        parser.error(f"--temperature {args.temperature} is outside 0..1")

    from colorize import catalog
    from colorize.config import progress
    from colorize.photo_files import PhotoProblem, plan_jobs

    out_dir = Path(args.out).expanduser()
    if out_dir.exists() and not out_dir.is_dir():
        print(f"error: --out {out_dir} is a file, not a folder; choose a folder", file=sys.stderr)
        return EXIT_CANNOT_START
    jobs = plan_jobs(args.inputs, out_dir)
    try:
        chosen = catalog.choose(args.model, work_side=args.size, temperature=args.temperature)
    except ColorizeError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_CANNOT_START
    print(f"Model: {chosen.description}", file=sys.stderr)

    counts = {"done": 0, "skipped": 0, "failed": 0}
    started = time.perf_counter()
    bar = progress(jobs, desc="colorizing", unit="photo", file=sys.stderr, disable=len(jobs) < 2)
    for job in bar:
        try:
            if job.problem:
                raise PhotoProblem(job.problem)
            outcome = colorize_one(chosen.colorizer, job, args.overwrite)
        except ColorizeError as problem:
            outcome = "failed"
            bar.write(f"failed: {job.source}: {problem}", file=sys.stderr)
        except MemoryError:
            outcome = "failed"
            bar.write(f"failed: {job.source}: out of memory; downscale the photo or close other programs",
                      file=sys.stderr)
        except Exception as error:  # noqa: BLE001 - one bad photo must not stop a folder of hundreds
            outcome = "failed"
            bar.write(f"failed: {job.source}: unexpected {error.__class__.__name__}: {error}", file=sys.stderr)
        else:
            if outcome == "skipped":
                bar.write(f"skipped: {job.source}: {job.target} exists (--overwrite replaces it)", file=sys.stderr)
        counts[outcome] += 1
    seconds = time.perf_counter() - started
    print(f"colorized {counts['done']}, skipped {counts['skipped']}, failed {counts['failed']} "
          f"in {seconds:.1f} s; results in {out_dir}/", file=sys.stderr)
    return EXIT_SOME_FAILED if counts["failed"] else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
