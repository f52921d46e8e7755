"""``colorize serve``: a web page and an HTTP API on the same colorizer as the command line.

Why FastAPI on uvicorn: the API's form fields, types and errors are declared once and FastAPI
turns them into checked parameters and OpenAPI documentation (``/docs``, ``/openapi.json``);
uvicorn is the reference ASGI server; both are small, pure-Python installs from PyPI, and
Starlette's test client exercises every endpoint without opening a port.

A photo goes through exactly the command line's path: the upload is written to a private
temporary folder and :func:`colorize.photo_files.colorize_file` reads, colorizes and writes it
through the one write layer (:mod:`colorize.results`), so a result from the API is byte for byte
the file the ``colorize`` command writes with the same options. Memory is bounded before any
upload is read: at most ``max_in_flight`` photos at once (others get 503 and ``Retry-After``),
uploads over ``max_upload_bytes`` are refused (413) as they arrive.
"""

from __future__ import annotations

import math
import sys
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Annotated

from fastapi import FastAPI, File, Form, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from colorize.config import ColorizeError

WEB_DIR = Path(__file__).with_name("web")
DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8000
#: Uploads above this are refused before they are read in full.
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
#: Photos colorized at once; ~25 MB per megapixel at peak, so 4 x 50 MP stays within ~5 GB.
MAX_IN_FLIGHT = 4
#: Seconds a busy server asks a client to wait before trying again.
RETRY_AFTER_SECONDS = 2
#: Loaded models kept in memory (each U-Net ~9 MB of weights).
CACHED_MODELS = 6
#: Formats the colorizer reads and writes back in kind (Pillow's names -> the file ending).
FORMATS = {"JPEG": ".jpg", "MPO": ".jpg", "PNG": ".png", "TIFF": ".tif", "BMP": ".bmp"}
MEDIA_TYPES = {".jpg": "image/jpeg", ".png": "image/png", ".tif": "image/tiff", ".bmp": "image/bmp"}
COLORIZE_PATH = "/api/colorize"
GATED_PATHS = (COLORIZE_PATH, "/api/suggest")


class ApiError(Exception):
    """A request the server refuses, with its HTTP status and the one line to show."""

    def __init__(self, status: int, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


def _error_response(status: int, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


class _UploadTooLarge(Exception):
    pass


class Capacity:
    """How many photos may be in flight at once, and how many are."""

    def __init__(self, max_in_flight: int):
        self.max_in_flight = max_in_flight
        self._slots = threading.BoundedSemaphore(max_in_flight)
        self._lock = threading.Lock()
        self.in_flight = 0

    def try_take(self) -> bool:
        if not self._slots.acquire(blocking=False):
            return False
        with self._lock:
            self.in_flight += 1
        return True

    def give_back(self) -> None:
        with self._lock:
            self.in_flight -= 1
        self._slots.release()


class PhotoGate:
    """ASGI middleware in front of the photo endpoints: a bounded number in flight (503 with
    ``Retry-After`` beyond it, answered before the upload is read) and a cap on the bytes of one
    request (413, checked on the declared length and again as the body arrives)."""

    def __init__(self, app, capacity: Capacity, max_upload_bytes: int):
        self.app, self.capacity, self.max_upload_bytes = app, capacity, max_upload_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"] not in GATED_PATHS or scope["method"] != "POST":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_upload_bytes:
            return await _error_response(413, self._too_large())(scope, receive, send)
        if not self.capacity.try_take():
            busy = f"the server is busy with {self.capacity.max_in_flight} photos; try again in {RETRY_AFTER_SECONDS} s"
            return await _error_response(503, busy, {"Retry-After": str(RETRY_AFTER_SECONDS)})(scope, receive, send)
        received, started = 0, False

        async def counted_receive():
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_upload_bytes:
                raise _UploadTooLarge
            return message

        async def watched_send(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except _UploadTooLarge:
            if not started:
                await _error_response(413, self._too_large())(scope, receive, send)
        finally:
            self.capacity.give_back()

    def _too_large(self) -> str:
        return (f"the upload is over {self.max_upload_bytes / 2**20:.0f} MB; send a smaller file "
                "(the network sees ~0.01 MP anyway, so a downscaled photo loses nothing)")


class ModelShelf:
    """Models loaded once and kept (the few most recently used): loading one takes about a second,
    colorizing a photo with it a fraction of that."""

    def __init__(self, default: str | None, size: int = CACHED_MODELS):
        self.default, self.size = default, size
        self._chosen: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, spec: str | None, work_side: int | None = None, temperature: float | None = None):
        from colorize import catalog

        key = (spec or self.default, work_side, temperature)
        with self._lock:
            if key in self._chosen:
                self._chosen.move_to_end(key)
                return self._chosen[key]
        try:
            chosen = catalog.choose(key[0], work_side=work_side, temperature=temperature)
        except ColorizeError as error:
            raise ApiError(422 if spec else 503, str(error)) from None
        with self._lock:
            self._chosen[key] = chosen
            while len(self._chosen) > self.size:
                self._chosen.popitem(last=False)
        return chosen


def _check_options(size: int | None, temperature: float | None) -> None:
    """The command line's option checks, as 422s with the same words."""
    from colorize import cli

    if size is not None and not cli.MIN_WORK_SIDE <= size <= cli.MAX_WORK_SIDE:
        raise ApiError(422, f"size {size} is outside {cli.MIN_WORK_SIDE}..{cli.MAX_WORK_SIDE}: the lessons train at "
                            "96, and larger sizes cost memory without adding detail")
    if temperature is not None and not (math.isfinite(temperature) and 0.0 <= temperature <= 1.0):
        raise ApiError(422, f"temperature {temperature} is outside 0..1")


def _saved_upload(upload: UploadFile, folder: Path, max_megapixels: float) -> tuple[Path, str]:
    """The upload as a file in ``folder`` named by its real format (not by what the client called
    it), and the file ending the result gets; 400 for what is not a photo, 413 for too many pixels."""
    import shutil
    import warnings

    from PIL import Image, UnidentifiedImageError

    raw = folder / "upload"
    with raw.open("wb") as file:
        shutil.copyfileobj(upload.file, file, length=1 << 20)
    if raw.stat().st_size == 0:
        raise ApiError(400, "the upload is empty (0 bytes); choose a photo file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(raw) as image:
                kind, (width, height) = image.format, image.size
    except Image.DecompressionBombError:
        raise ApiError(413, f"the photo is over {max_megapixels:.0f} megapixels; downscale it first") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ApiError(400, "not an image (or a damaged one): send a JPEG, PNG, TIFF or BMP photo") from None
    if kind not in FORMATS:
        raise ApiError(400, f"{kind} images are not taken: send a JPEG, PNG, TIFF or BMP photo")
    if width * height > max_megapixels * 1e6:
        raise ApiError(413, f"the photo is {width}x{height} px = {width * height / 1e6:.1f} megapixels, over the "
                            f"{max_megapixels:.0f} the colorizer takes; downscale it first")
    stem = Path(upload.filename or "photo").stem or "photo"
    source = folder / f"{stem}{FORMATS[kind]}"
    raw.rename(source)
    return source, FORMATS[kind]


def _photo_size(path: Path) -> tuple[int, int]:
    """(width, height) as the user sees the photo: upright (EXIF orientation applied)."""
    from colorize.photo_files import read_photo

    rgb = read_photo(path).rgb
    return rgb.shape[1], rgb.shape[0]


def create_app(model: str | None = None, max_in_flight: int = MAX_IN_FLIGHT,
               max_upload_bytes: int = MAX_UPLOAD_BYTES, provenance: bool = True) -> FastAPI:
    """The web application: the page at ``/``, the API under ``/api``. ``model``: the model a
    request gets when it names none (default: the course's recommended one, as the command)."""
    from colorize import __version__
    from colorize.photo_files import MAX_MEGAPIXELS

    app = FastAPI(title="colorize", version=__version__,
                  description="Colorize black-and-white photos with the course's trained models: the photo's own "
                              "lightness at full resolution, colours from a network. Errors are JSON "
                              '`{"error": "..."}` with one line that says what to do.')
    shelf = ModelShelf(model)
    capacity = Capacity(max_in_flight)
    app.state.capacity, app.state.shelf = capacity, shelf

    @app.exception_handler(ApiError)
    async def _api_error(request, error: ApiError):
        return _error_response(error.status, error.message, error.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request, error: RequestValidationError):
        first = error.errors()[0] if error.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ())[1:]) or "request"
        return _error_response(422, f"{where}: {first.get('msg', 'invalid value')}")

    @app.get("/api/health", summary="Whether the server is up and how busy it is")
    def health() -> dict:
        return {"status": "ok", "version": __version__, "in_flight": capacity.in_flight,
                "max_in_flight": capacity.max_in_flight}

    @app.get("/api/models", summary="The trained models, the default one marked")
    def list_models() -> dict:
        return {"models": _model_list(model)}

    @app.post(COLORIZE_PATH, summary="Colorize one photo",
              response_class=Response,
              responses={200: {"content": {media: {} for media in MEDIA_TYPES.values()},
                               "description": "The colorized photo, in the upload's format, at full resolution"},
                         400: {"description": "Not an image, or a damaged one"},
                         413: {"description": "Over the upload limit or over 50 megapixels"},
                         422: {"description": "Bad hints or options"},
                         503: {"description": "Busy (see Retry-After) or no trained model"}})
    async def colorize_photo(
            photo: Annotated[UploadFile, File(description="a JPEG, PNG, TIFF or BMP photo (gray or colour)")],
            model: Annotated[str | None, Form(description="a name from /api/models (default: the server's)")] = None,
            size: Annotated[int | None, Form(description="longer side the network sees, in pixels")] = None,
            temperature: Annotated[float | None, Form(description="the classifier's colour boldness, 0..1")] = None,
            hints: Annotated[str | None, Form(description='JSON list of {"x", "y", "color": "#rrggbb", '
                                                          '"size"?} in the photo\'s pixels')] = None):
        return await run_in_threadpool(_colorize_upload, shelf, photo, model, size, temperature, hints,
                                       MAX_MEGAPIXELS, provenance)

    @app.post("/api/suggest", summary="The most likely colours at one point, from a model that predicts a "
                                      "distribution (the classifier)")
    async def suggest(photo: Annotated[UploadFile, File()], x: Annotated[int, Form()], y: Annotated[int, Form()],
                      model: Annotated[str | None, Form()] = None) -> dict:
        return await run_in_threadpool(_suggest_for_upload, shelf, photo, x, y, model, MAX_MEGAPIXELS)

    @app.get("/", include_in_schema=False)
    def page():
        return FileResponse(WEB_DIR / "index.html", media_type="text/html")

    app.mount("/static", StaticFiles(directory=WEB_DIR), name="static")
    app.add_middleware(PhotoGate, capacity=capacity, max_upload_bytes=max_upload_bytes)
    return app


def _model_list(default_spec: str | None) -> list[dict]:
    """The trained models (no TensorFlow needed: read from their run records), the default marked."""
    from colorize import catalog

    if default_spec is None and (choice := catalog.recommended()) is not None:
        default_spec = choice[0]
    return [{"name": label, "run": run.name, "description": catalog.describe(run), "takes_hints": run.takes_hints,
             "predicts_distribution": run.predicts_distribution,
             "default": default_spec is not None and default_spec.lower() in (label.lower(), run.name.lower())}
            for label, run in catalog.available().items()]


def _colorize_upload(shelf: ModelShelf, upload: UploadFile, spec: str | None, size: int | None,
                     temperature: float | None, hints_text: str | None, max_megapixels: float,
                     provenance: bool) -> Response:
    from colorize import hint_files
    from colorize.photo_files import Job, PhotoProblem, colorize_file
    from colorize.provenance import Provenance
    from colorize.results import ResultError

    _check_options(size, temperature)
    with tempfile.TemporaryDirectory(prefix="colorize-serve-") as folder:
        source, suffix = _saved_upload(upload, Path(folder), max_megapixels)
        chosen = shelf.get(spec, size, temperature)
        colorizer = chosen.colorizer
        points = []
        if hints_text is not None and hints_text.strip() not in ("", "[]"):
            if not getattr(colorizer, "takes_hints", False):
                raise ApiError(422, f"the model {chosen.description} takes no colour hints; choose a hint model "
                                    "(takes_hints in /api/models)")
            try:
                points = hint_files.hints_from_json_text(hints_text, *_photo_size(source), source="hints")
            except PhotoProblem as problem:
                raise ApiError(400, str(problem)) from None
            except ColorizeError as error:
                raise ApiError(422, str(error)) from None
            colorizer = colorizer.with_hints(points)
        target = Path(folder) / "out" / source.name
        target.parent.mkdir()
        marks = Provenance(chosen.description, hints=len(points)) if provenance else None
        try:
            colorize_file(colorizer, Job(source, target), provenance=marks, durable=False)
        except PhotoProblem as problem:
            status = 413 if str(problem).startswith("too large") else 400
            raise ApiError(status, str(problem)) from None
        except ResultError as error:
            raise ApiError(500, f"the result could not be written on the server: {error}") from None
        except MemoryError:
            raise ApiError(503, "out of memory on the server; try a smaller photo or again later",
                           {"Retry-After": str(RETRY_AFTER_SECONDS)}) from None
        content = target.read_bytes()
    name = f"{source.stem}-colorized{suffix}"
    return Response(content, media_type=MEDIA_TYPES[suffix],
                    headers={"Content-Disposition": f'attachment; filename="{_header_safe(name)}"',
                             "X-Colorize-Model": _header_safe(chosen.description),
                             "X-Colorize-Hints": str(len(points))})


def _suggest_for_upload(shelf: ModelShelf, upload: UploadFile, x: int, y: int, spec: str | None,
                        max_megapixels: float) -> dict:
    from colorize import catalog, predict, suggest
    from colorize.photo_files import PhotoProblem, read_photo

    with tempfile.TemporaryDirectory(prefix="colorize-serve-") as folder:
        source, _ = _saved_upload(upload, Path(folder), max_megapixels)
        try:
            rgb = read_photo(source).rgb
        except PhotoProblem as problem:
            raise ApiError(400, str(problem)) from None
    height, width = rgb.shape[:2]
    if not (0 <= x < width and 0 <= y < height):
        raise ApiError(422, f"({x}, {y}) is outside the photo ({width} x {height} pixels)")
    chosen = shelf.get(spec)
    if not suggest.predicts_distribution(chosen.colorizer):  # a distribution model of the course's, if any
        label = next((label for label, run in catalog.available().items() if run.predicts_distribution), None)
        if label is None:
            raise ApiError(422, "no trained model predicts a colour distribution (lesson 07's classifier); "
                                "pick a colour by hand")
        chosen = shelf.get(label)
    lightness = predict.lightness_in_strips(rgb)
    found = suggest.likely_colours(chosen.colorizer, lightness, x, y)
    return {"model": chosen.description, "x": x, "y": y,
            "colors": [{"color": item.color, "probability": round(item.probability, 4)} for item in found]}


def _header_safe(text: str) -> str:
    """HTTP headers are Latin-1: anything else becomes '?' (the page reads names from /api/models)."""
    return text.encode("latin-1", "replace").decode("latin-1").replace('"', "'")


def serve(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, model: str | None = None,
          max_in_flight: int = MAX_IN_FLIGHT, provenance: bool = True) -> None:
    """Run the server until Ctrl-C, saying where to open it."""
    import uvicorn

    app = create_app(model=model, max_in_flight=max_in_flight, provenance=provenance)
    shown = f"[{host}]" if ":" in host else host
    print(f"colorize serve: open http://{shown}:{port}/ in a browser (API documentation at /docs); "
          "Ctrl-C stops it", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")


def main(argv: list[str]) -> int:
    """``colorize serve [--host H] [--port P] [--model NAME] [--max-in-flight N] [--no-provenance]``."""
    import argparse

    parser = argparse.ArgumentParser(prog="colorize serve", description="A web page and an HTTP API for colorizing "
                                     "photos with the course's models (binds to this machine only unless --host says)")
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST}: this "
                        "machine only; 0.0.0.0 opens it to the network)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    parser.add_argument("--model", metavar="NAME|PATH", help="the model requests get when they name none (default: "
                        "the course's recommended one)")
    parser.add_argument("--max-in-flight", type=int, default=MAX_IN_FLIGHT, metavar="N",
                        help=f"photos colorized at once; more get 503 and Retry-After (default {MAX_IN_FLIGHT})")
    parser.add_argument("--no-provenance", dest="provenance", action="store_false",
                        help="leave out the marks that say a result's colours come from a model")
    args = parser.parse_args(argv)
    if not 0 < args.port < 65536:
        parser.error(f"--port {args.port} is outside 1..65535")
    if args.max_in_flight < 1:
        parser.error("--max-in-flight must be at least 1")
    if args.model is not None:
        from colorize import catalog

        try:
            catalog.choose(args.model)  # a bad name fails here, in one line, not at the first request
        except ColorizeError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
    try:
        serve(args.host, args.port, args.model, args.max_in_flight, args.provenance)
    except OSError as error:  # the port is taken, or the address is not this machine's
        print(f"error: cannot listen on {args.host}:{args.port} ({error.strerror or error}); choose another "
              "--port or --host", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0
