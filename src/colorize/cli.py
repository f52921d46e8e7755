"""``colorize PHOTO_OR_FOLDER... [--model NAME|PATH] [--out DIR] [--size N]``: colorize black-and-white photos.

Each photo's lightness is kept at full resolution and a trained model paints its colours. Results
are new files under ``--out`` (default ``colorized/``); inputs are never touched, a result is
complete or absent, and an existing result is never replaced without ``--overwrite`` (not even by
a second run on the same folder at the same time). A photo that cannot be done is one line on
stderr and the run goes on. Exit status: 0 all done (or skipped), 1 some photos failed (or the disk
filled up), 2 nothing could start (no model, bad option, an --out that cannot be written), 130
interrupted by Ctrl-C (143 by SIGTERM) after the photos finished so far.

Every result says that a model painted its colours (:mod:`colorize.provenance`; ``--no-provenance``
leaves that out) and keeps the source's EXIF and colour profile; every photo of the run gets a row
in ``<out>/manifest.csv`` (:mod:`colorize.manifest`), the audit trail an archive keeps.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path

from colorize.config import ColorizeError

EXIT_OK, EXIT_SOME_FAILED, EXIT_CANNOT_START = 0, 1, 2
EXIT_INTERRUPTED, EXIT_TERMINATED = 128 + signal.SIGINT, 128 + signal.SIGTERM
#: --size bounds: below it a photo has no structure left; above it memory grows with no gain
#: (the lessons train at 96 px, and the network's view is that coarse whatever the photo's size).
MIN_WORK_SIDE, MAX_WORK_SIDE = 16, 1024


class Terminated(BaseException):
    """SIGTERM, turned into an exception so the run stops like Ctrl-C: between two photos'
    clean-ups, with its summary."""


def _terminate(signum, frame):
    raise Terminated


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="colorize", description=__doc__.splitlines()[0].split(": ", 1)[1],
        epilog="Formats: .jpg .jpeg .png .tif .tiff .bmp (any case); gray or colour (its L is used), 8- or "
               "16-bit, alpha kept, EXIF orientation applied. Without --model the course's recommended model "
               "(lesson 08) is used. Results keep the source's EXIF and colour profile and say they were colorized "
               "(XMP Digital Source Type, EXIF Software and ImageDescription); each photo's row is appended to "
               "OUT/manifest.csv: source, source_sha256, output (absolute paths), model, hints, seconds, "
               "outcome, message. `colorize serve --help`: the web page and HTTP API.")
    parser.add_argument("inputs", nargs="*", metavar="PHOTO_OR_FOLDER", help="photos, or folders searched recursively")
    parser.add_argument("--model", metavar="NAME|PATH",
                        help="a name from --list-models, a run folder in models/, or a path to a run or .keras file")
    parser.add_argument("--out", default="colorized", metavar="DIR", help="where results go (default: colorized/)")
    parser.add_argument("--size", type=int, metavar="N",
                        help="longer side, in pixels, the network sees the photo at (default: the size it was trained at)")
    parser.add_argument("--temperature", type=float, metavar="T",
                        help="colour boldness of the classification model, 0 (boldest) to 1 (default 0.38)")
    parser.add_argument("--hints", metavar="JSON",
                        help='colour hints for one photo: a JSON list of {"x": .., "y": .., "color": "#rrggbb"} '
                             '(pixels of the photo, optional "size"); needs a hint model (a hint_unet run)')
    parser.add_argument("--hints-image", metavar="IMAGE",
                        help="colour hints for one photo: an image its size whose non-transparent pixels are hints")
    parser.add_argument("--overwrite", action="store_true", help="replace results that already exist in --out")
    parser.add_argument("--no-fsync", dest="durable", action="store_false",
                        help="do not wait for each result to reach the disk (faster on slow disks; a power cut "
                             "may then lose the last results, never leave half of one)")
    parser.add_argument("--no-provenance", dest="provenance", action="store_false",
                        help="do not mark results as colorized by a model (no XMP Digital Source Type, no EXIF "
                             "Software or ImageDescription of colorize); the source's EXIF and colour profile are "
                             "kept either way, and manifest.csv is still written")
    parser.add_argument("--list-models", action="store_true", help="list the trained models and exit")
    parser.add_argument("--all", action="store_true", help="with --list-models: also every other run in models/")
    return parser


def _list_models(show_all: bool) -> int:
    from colorize import catalog

    runs, others = catalog.available(include_other=False), catalog.other_runs()
    if not runs and not others:
        print(catalog.NO_MODEL_HINT)
        return EXIT_OK
    default = catalog.recommended()
    for label, run in runs.items():
        marker = "*" if default and run.name == default[1].name else " "
        print(f"{marker} {label}")
    if runs:
        print("* the default model; pass a name above (in quotes) to --model")
    if others and show_all:
        print(f"\nOther runs in models/ (the lessons' sweeps and seed runs, or your own), by folder name:")
        for name, run in others.items():
            marker = "*" if default and run.name == default[1].name else " "
            print(f"{marker} {name}\n      {catalog.describe(run)}")
    elif others:
        print(f"({len(others)} other runs in models/: the lessons' sweeps and seed runs; --list-models --all lists them)")
    return EXIT_OK


def colorize_one(colorizer, job, overwrite: bool, durable: bool = True) -> str:
    """:func:`colorize.photo_files.colorize_file` without provenance marks; kept only because
    ``benchmarks/bench_colorize.py`` times it."""
    from colorize.photo_files import colorize_file

    return colorize_file(colorizer, job, overwrite=overwrite, durable=durable)


def _check_options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Every option checked before any work (parser.error exits 2 with one line)."""
    if not args.inputs:
        parser.error("name at least one photo or folder (or --list-models)")
    if args.size is not None and not MIN_WORK_SIDE <= args.size <= MAX_WORK_SIDE:
        parser.error(f"--size {args.size} is outside {MIN_WORK_SIDE}..{MAX_WORK_SIDE}: the lessons train at 96, and "
                     "larger sizes cost memory without adding detail (the photo's own L keeps its full resolution)")
    if args.temperature is not None and not 0.0 <= args.temperature <= 1.0:
        parser.error(f"--temperature {args.temperature} is outside 0..1")
    if args.model is not None and not args.model.strip():
        parser.error("--model is empty: name a model from `colorize --list-models`, or a path to a run folder or "
                     ".keras file")
    if not args.out.strip():
        parser.error("--out is empty: name the folder where results go")


def _with_hints(colorizer, description: str, jobs: list, hints_json: str | None, hints_image: str | None):
    """The colorizer with the user's hints and their number, everything checked before any work
    is done."""
    from colorize import hint_files
    from colorize.photo_files import read_photo

    if not getattr(colorizer, "takes_hints", False):
        raise ColorizeError(f"the model {description} takes no colour hints; choose a hint model with --model "
                            "(a `hint_unet` run; `colorize --list-models --all` describes every run)")
    if len(jobs) != 1 or jobs[0].problem or jobs[0].notice:
        raise ColorizeError("--hints and --hints-image belong to one photo: name exactly one photo file")
    rgb = read_photo(jobs[0].source).rgb  # upright, as the user sees it and marks it
    height, width = rgb.shape[:2]
    points = []
    if hints_json:
        points += hint_files.read_hints_json(hints_json, width, height)
    if hints_image:
        points += hint_files.read_hints_image(hints_image, width, height)
    return colorizer.with_hints(points), len(points)


def _recorder(manifest, model: str, hints: int):
    """``record(bar, job, seconds, outcome, message)``: the job's row in the manifest (none
    without one); the first row that cannot be written is one warning line, later ones are
    silent, and no photo fails for it (the results matter more than their record)."""
    from colorize.results import ResultError

    warned = False

    def record(bar, job, seconds, outcome: str, message: str) -> None:
        nonlocal warned
        if manifest is None:
            return
        try:
            manifest.add(job.source, job.target, model, hints, seconds, outcome, message)
        except ResultError as error:
            if not warned:
                bar.write(f"warning: {manifest.path} not written, the photos go on without it: {error}",
                          file=sys.stderr)
                warned = True

    return record


def _summary(counts: dict, seconds: float, out_dir: Path, stopped: str = "") -> str:
    text = (f"colorized {counts['done']}, skipped {counts['skipped']}, failed {counts['failed']} "
            f"in {seconds:.1f} s; results in {out_dir}/")
    return f"{stopped}: {text}; run the same command again to do the rest" if stopped else text


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else [str(arg) for arg in argv]
    if argv[:1] == ["serve"]:  # `colorize serve ...`: the web page and API (a folder called serve: ./serve)
        from colorize import server

        return server.main(argv[1:])
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        return _main(argv)
    except KeyboardInterrupt:
        print("interrupted before any photo was colorized", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Terminated:
        print("terminated before any photo was colorized", file=sys.stderr)
        return EXIT_TERMINATED
    finally:
        signal.signal(signal.SIGTERM, previous)


def _main(argv: list[str] | None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.list_models:
        return _list_models(args.all)
    _check_options(parser, args)

    from colorize import catalog
    from colorize.config import progress
    from colorize.manifest import Manifest
    from colorize.photo_files import PhotoProblem, colorize_file, plan_jobs
    from colorize.provenance import Provenance
    from colorize.results import OutOfSpace, ResultError, ensure_folder

    out_dir = Path(args.out).expanduser()
    jobs = plan_jobs(args.inputs, out_dir)
    try:
        chosen = catalog.choose(args.model, work_side=args.size, temperature=args.temperature)
    except ColorizeError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_CANNOT_START
    colorizer, hints = chosen.colorizer, 0
    if args.hints or args.hints_image:
        try:
            colorizer, hints = _with_hints(colorizer, chosen.description, jobs, args.hints, args.hints_image)
        except ColorizeError as error:
            print(f"error: {error}", file=sys.stderr)
            return EXIT_CANNOT_START
    if any(job.target for job in jobs):  # proven writable before the first photo is read
        try:
            ensure_folder(out_dir)
        except ResultError as error:
            print(f"error: --out {out_dir}: {error}", file=sys.stderr)
            return EXIT_CANNOT_START
    print(f"Model: {chosen.description}", file=sys.stderr)
    marks = Provenance(chosen.description, hints) if args.provenance else None
    # The manifest lives beside the results: a run with no result to write (every input refused
    # before reading) leaves --out as it was, as it would without a manifest.
    book = Manifest(out_dir, args.durable) if any(job.target for job in jobs) else None
    record = _recorder(book, chosen.description, hints)

    counts = {"done": 0, "skipped": 0, "failed": 0}
    started = time.perf_counter()
    bar = progress(jobs, desc="colorizing", unit="photo", file=sys.stderr, disable=len(jobs) < 2)
    stopped, status = "", EXIT_OK
    try:
        for job in bar:
            if job.notice:
                bar.write(f"skipped: {job.source}: {job.notice}", file=sys.stderr)
                counts["skipped"] += 1
                record(bar, job, None, "skipped", job.notice)
                continue
            message, began = "", time.perf_counter()
            try:
                if job.problem:
                    raise PhotoProblem(job.problem)
                outcome = colorize_file(colorizer, job, args.overwrite, args.durable, provenance=marks)
            except OutOfSpace as problem:
                counts["failed"] += 1
                bar.write(f"failed: {job.source}: {problem}", file=sys.stderr)
                record(bar, job, time.perf_counter() - began, "failed", str(problem))
                stopped, status = "stopped (the disk is full)", EXIT_SOME_FAILED
                break
            except ColorizeError as problem:
                outcome, message = "failed", str(problem)
            except MemoryError:
                outcome, message = "failed", "out of memory; downscale the photo or close other programs"
            except Exception as error:  # noqa: BLE001 - one bad photo must not stop a folder of hundreds
                outcome = "failed"
                reason = next((line for line in str(error).splitlines() if line.strip()), "")[:300]
                message = f"unexpected {error.__class__.__name__}: {reason}"
            else:
                if outcome == "skipped":
                    message = f"{job.target} exists (--overwrite replaces it)"
            seconds = time.perf_counter() - began
            if message:
                bar.write(f"{outcome}: {job.source}: {message}", file=sys.stderr)
            counts[outcome] += 1
            record(bar, job, None if job.problem else seconds, outcome, message)
    except KeyboardInterrupt:
        stopped, status = "interrupted", EXIT_INTERRUPTED
    except Terminated:
        stopped, status = "terminated", EXIT_TERMINATED
    finally:
        bar.close()
    print(_summary(counts, time.perf_counter() - started, out_dir, stopped), file=sys.stderr)
    if status == EXIT_OK and counts["failed"]:
        status = EXIT_SOME_FAILED
    return status


if __name__ == "__main__":
    sys.exit(main())
