"""The load scenario of tests/hostile/test_load.py as a benchmark, with the numbers printed.

    .venv/bin/python benchmarks/load_bench.py [--requests 200] [--concurrency 16] [--jobs 2] [--queue 6]

Starts `uvicorn facecraft.api.app:create_app --factory` as a subprocess (tmp dirs, models from
./models), sends the requests (alternating /process/quick and /process at 256 px, fast matte, every
10th with the quality matte; a client refused with 429/503 waits Retry-After, capped at 2 s) while a
separate process polls /health every 0.1 s. Prints requests sent, answers by status and code,
latency percentiles of the 200s, /health max and p99, the server's peak RSS (VmHWM), and every time
also as a ratio to the yardstick: one raw ISNet inference at 1024x1024 (see pipeline_bench.py).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from tests.hostile.loadgen import percentile, run_load  # noqa: E402
from tests.hostile.serverproc import ServerProcess  # noqa: E402

from pipeline_bench import yardstick_seconds  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--jobs", type=int, default=2, help="FACECRAFT_MAX_CONCURRENT_JOBS")
    parser.add_argument("--queue", type=int, default=6, help="FACECRAFT_MAX_QUEUED_JOBS")
    args = parser.parse_args()

    yardstick = yardstick_seconds(REPO / "models")
    with tempfile.TemporaryDirectory() as tmp:
        server = ServerProcess(Path(tmp), max_concurrent_jobs=args.jobs, max_queued_jobs=args.queue)
        start = time.perf_counter()
        server.start()
        ready_s = time.perf_counter() - start
        try:
            report = run_load(server.url, total=args.requests, concurrency=args.concurrency)
            peak_rss = server.peak_rss_mb()
        finally:
            server.stop()

    def ratio(seconds: float) -> str:
        return f"{seconds:.3f} s ({seconds / yardstick:.3f} x yardstick)"

    print(
        f"# {datetime.now(UTC):%Y-%m-%d} {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; "
        f"MAX_CONCURRENT_JOBS={args.jobs}, MAX_QUEUED_JOBS={args.queue}, concurrency {args.concurrency}"
    )
    print(f"yardstick (one ISNet inference at 1024x1024): {yardstick:.3f} s; server ready after {ready_s:.1f} s")
    print(f"requests sent: {report.sent} in {report.wall_s:.1f} s")
    print("answers by status: " + ", ".join(f"{s}: {n}" for s, n in sorted(report.by_status.items())))
    print("answers by code:   " + ", ".join(f"{c}: {n}" for c, n in sorted(report.by_code.items())))
    print(f"unexpected errors: {report.unexpected or 'none'}; transport errors: {len(report.transport_errors)}")
    print(f"refusals without Retry-After: {report.refusals_without_retry_after}")
    ok = report.by_code.get("ok", 0)
    print(f"throughput: {ok / report.wall_s:.2f} photos/s ({ok / report.wall_s * yardstick:.2f} per yardstick)")
    for name, q in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99)):
        print(f"latency {name} (200s): {ratio(percentile(report.latencies, q))}")
    health = report.health_latencies
    print(
        f"/health: {len(health)} probes, {len(report.health_failures)} failed, "
        f"max {ratio(max(health))}, p99 {ratio(percentile(health, 0.99))}"
    )
    print(f"server peak RSS (VmHWM): {peak_rss:.0f} MB")
    return 1 if report.unexpected or report.transport_errors or report.health_failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
