"""Does ``colorize serve`` hold up under load, and does the command start quickly?

Starts a real server (``colorize serve`` in its own process, on a free loopback port, the course's
default model) and sends it 200 requests from 8 concurrent clients, each a 1-megapixel grayscale
JPEG (a real photo, upscaled): every request must be answered (200, or 503 when all slots are
busy: a client then waits ``Retry-After`` and that request counts as answered, not lost), and the
server's memory after the run must stay within 200 MB of its memory after the first 10 (no leak
per photo). Latency is measured for the answered-200 requests, from the client's side.

Also times ``colorize --help`` against ``python -c pass`` (the interpreter's own start-up), the
ratio being what the package adds; the floor is 1 s for --help itself.

    python benchmarks/bench_serve.py [--requests N] [--clients N] [--data-dir DIR]

Writes reports/bench/serve.csv (``metric,value``).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / "reports" / "bench"
DEFAULT_DATA_DIR = ROOT.parent / "shared" / "data" / "bsds500"
PHOTO_SIZE = (1224, 816)  # 1.0 megapixel, BSDS500's aspect
RSS_GROWTH_FLOOR_MB, HELP_FLOOR_SECONDS = 200.0, 1.0


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def photo_bytes(data_dir: Path) -> tuple[bytes, str]:
    import io

    from PIL import Image

    photos = sorted((data_dir / "test").glob("*.jpg")) if data_dir.is_dir() else []
    if photos:
        image, origin = Image.open(photos[0]), f"BSDS500 {photos[0].name}"
    else:
        from skimage import data as skimage_data

        image, origin = Image.fromarray(skimage_data.astronaut()), "scikit-image astronaut"
    if image.width < image.height:
        image = image.rotate(90, expand=True)
    buffer = io.BytesIO()
    image.convert("L").resize(PHOTO_SIZE, Image.Resampling.LANCZOS).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue(), origin


def startup_seconds(command: list[str], repeats: int = 5) -> float:
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def load(url: str, content: bytes, requests: int, clients: int, server_pid: int) -> dict:
    import httpx2 as httpx

    latencies, outcomes, lock = [], {"ok": 0, "busy": 0, "lost": 0}, threading.Lock()
    remaining = iter(range(requests))
    rss_after_first = {}

    def client() -> None:
        with httpx.Client(timeout=120) as http:
            while True:
                with lock:
                    number = next(remaining, None)
                if number is None:
                    return
                started = time.perf_counter()
                try:
                    response = http.post(url, files={"photo": ("photo.jpg", content, "image/jpeg")})
                except httpx.HTTPError:
                    with lock:
                        outcomes["lost"] += 1
                    continue
                seconds = time.perf_counter() - started
                with lock:
                    if response.status_code == 200:
                        outcomes["ok"] += 1
                        latencies.append(seconds)
                    elif response.status_code == 503:
                        outcomes["busy"] += 1
                    else:
                        outcomes["lost"] += 1
                    if outcomes["ok"] + outcomes["busy"] == 10:
                        rss_after_first["mb"] = rss_mb(server_pid)
                if response.status_code == 503:
                    time.sleep(float(response.headers.get("Retry-After", 1)) / 4)

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {"seconds": elapsed, "latencies": latencies, "rss_after_first_mb": rss_after_first.get("mb", 0.0),
            **outcomes}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("COLORIZE_DATA_DIR") or DEFAULT_DATA_DIR))
    args = parser.parse_args(argv)

    import httpx2 as httpx
    import pandas as pd

    content, origin = photo_bytes(args.data_dir)
    port = free_port()
    colorize = [sys.executable, "-m", "colorize.cli"]
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen([*colorize, "serve", "--port", str(port)], stdout=log, stderr=log)
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"{url}/api/health", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
                if process.poll() is not None:
                    log.seek(0)
                    print(f"error: the server stopped: {log.read().decode(errors='replace')[-500:]}", file=sys.stderr)
                    return 2
            capacity = httpx.get(f"{url}/api/health").json()["max_in_flight"]
            httpx.post(f"{url}/api/colorize", files={"photo": ("photo.jpg", content)}, timeout=120)  # loads the model
            result = load(f"{url}/api/colorize", content, args.requests, args.clients, process.pid)
            rss_end = rss_mb(process.pid)
        finally:
            process.terminate()
            process.wait(30)
    latencies = result["latencies"]
    help_seconds = startup_seconds([*colorize, "--help"])
    python_seconds = startup_seconds([sys.executable, "-c", "pass"])
    rows = {
        "requests": args.requests, "clients": args.clients, "max_in_flight": capacity,
        "megapixels": PHOTO_SIZE[0] * PHOTO_SIZE[1] / 1e6,
        "answered_200": result["ok"], "answered_503": result["busy"], "lost": result["lost"],
        "requests_per_second": (result["ok"] + result["busy"]) / result["seconds"],
        "photos_per_second": result["ok"] / result["seconds"],
        "p50_ms": 1000 * latencies[len(latencies) // 2] if latencies else float("nan"),
        "p95_ms": 1000 * latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))] if latencies else float("nan"),
        "rss_after_first_10_mb": result["rss_after_first_mb"], "rss_end_mb": rss_end,
        "rss_growth_mb": rss_end - result["rss_after_first_mb"],
        "help_seconds": help_seconds, "python_startup_seconds": python_seconds,
        "help_to_python_ratio": help_seconds / python_seconds,
    }
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    table = pd.DataFrame({"metric": list(rows), "value": list(rows.values())})
    table.to_csv(OUT_DIR / "serve.csv", index=False, float_format="%.3f")
    print(f"{origin} at {rows['megapixels']:.1f} MP: {args.requests} requests from {args.clients} clients in "
          f"{result['seconds']:.1f} s: {result['ok']} colorized, {result['busy']} busy (503), {result['lost']} lost; "
          f"p50 {rows['p50_ms']:.0f} ms, p95 {rows['p95_ms']:.0f} ms; server memory +{rows['rss_growth_mb']:.0f} MB "
          f"after the first 10 (floor {RSS_GROWTH_FLOOR_MB:.0f}); colorize --help {help_seconds:.2f} s = "
          f"{rows['help_to_python_ratio']:.1f}x python -c pass")
    print(f"Wrote {OUT_DIR / 'serve.csv'}")
    ok = (result["lost"] == 0 and rows["rss_growth_mb"] <= RSS_GROWTH_FLOOR_MB and help_seconds < HELP_FLOOR_SECONDS)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
