"""HTTP latency and throughput of a live `facecraft serve`, at client concurrency 1, 4 and 8.

    .venv/bin/python benchmarks/api_bench.py [--requests 16] [--jobs 2]

Starts the server as a subprocess (uvicorn factory, tmp dirs, models from ./models), waits for
/ready, then per concurrency level posts real photos to /api/v1/process and reports p50/p90/p99
latency and photos per second; while the level-8 run keeps every worker busy it polls /health and
reports its p99. Peak RSS of the server process is read from /proc/<pid>/status (VmHWM). Every time
is also given as a ratio to the yardstick (one raw ISNet inference at 1024x1024, see pipeline_bench).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "benchmarks")]
from tests.hostile.serverproc import ServerProcess  # noqa: E402

from pipeline_bench import yardstick_seconds  # noqa: E402

PHOTOS = ["astronaut.jpg", "grace_hopper.jpg", "person_a.jpg", "person_b.jpg"]


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _level(url: str, photos: list[bytes], concurrency: int, requests: int) -> dict[str, float]:
    latencies: list[float] = []

    def one(i: int) -> None:
        with httpx.Client(timeout=300) as http:
            start = time.perf_counter()
            response = http.post(f"{url}/api/v1/process", files={"file": ("p.jpg", photos[i % len(photos)])})
            latencies.append(time.perf_counter() - start)
            response.raise_for_status()

    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(requests)))
    wall = time.perf_counter() - start
    return {
        "p50": _pct(latencies, 0.5),
        "p90": _pct(latencies, 0.9),
        "p99": _pct(latencies, 0.99),
        "per_s": requests / wall,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=16, help="requests per concurrency level")
    parser.add_argument("--jobs", type=int, default=2, help="FACECRAFT_MAX_CONCURRENT_JOBS for the server")
    args = parser.parse_args()
    yardstick = yardstick_seconds(REPO / "models")
    photos = [(REPO / "tests" / "data" / name).read_bytes() for name in PHOTOS]
    with tempfile.TemporaryDirectory() as tmp:
        server = ServerProcess(Path(tmp), max_concurrent_jobs=args.jobs, max_queued_jobs=64)
        start = time.perf_counter()
        try:
            server.start(ready_timeout=180)
        except RuntimeError as exc:
            print(f"server failed to become ready: {exc}", file=sys.stderr)
            return 1
        url = server.url
        try:
            ready_s = time.perf_counter() - start
            print(
                f"# {datetime.now(UTC):%Y-%m-%d} {platform.processor() or platform.machine()}, "
                f"{os.cpu_count()} CPUs, MAX_CONCURRENT_JOBS={args.jobs}, {args.requests} requests per level"
            )
            print(f"yardstick (ISNet 1024x1024): {yardstick:.3f} s; time to ready {ready_s:.1f} s")
            print("concurrency  p50_s  p90_s  p99_s  photos/s   p50/yardstick")
            health: list[float] = []
            for concurrency in (1, 4, 8):
                stop = threading.Event()
                poller = None
                if concurrency == 8:

                    def poll(stop: threading.Event = stop) -> None:
                        with httpx.Client(timeout=30) as http:
                            while not stop.is_set():
                                t = time.perf_counter()
                                http.get(f"{url}/health")
                                health.append(time.perf_counter() - t)
                                time.sleep(0.05)

                    poller = threading.Thread(target=poll)
                    poller.start()
                row = _level(url, photos, concurrency, args.requests)
                stop.set()
                if poller:
                    poller.join()
                print(
                    f"{concurrency:>11}  {row['p50']:.2f}  {row['p90']:.2f}  {row['p99']:.2f}  "
                    f"{row['per_s']:.2f}      {row['p50'] / yardstick:.2f}"
                )
            print(
                f"/health p99 while all workers busy: {_pct(health, 0.99) * 1000:.1f} ms "
                f"({_pct(health, 0.99) / yardstick:.4f} x yardstick, {len(health)} probes)"
            )
            print(f"server peak RSS: {server.peak_rss_mb():.0f} MB")
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
