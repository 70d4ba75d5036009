"""Queue mode against embedded mode on this machine: throughput, API overhead, Redis cost per job.

    .venv/bin/python benchmarks/scale_bench.py [--jobs 8]

Starts a real redis-server (apt package), `facecraft worker` processes (one job and one inference
thread each) and uvicorn API processes, all on this machine, so workers compete for its cores:
with 2 cores, 2 workers is the most that can scale. Figures are also printed as ratios to the
yardstick of benchmarks/pipeline_bench.py (one raw ISNet inference at 1024x1024).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import redis

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "benchmarks")]
from tests.servers import REDIS_SERVER, WORKER, Api, Proc, RedisServer, base_env  # noqa: E402

from pipeline_bench import yardstick_seconds  # noqa: E402

PHOTO = (REPO / "tests" / "data" / "grace_hopper.jpg").read_bytes()
FORM = {"matting": "quality", "width": "648", "height": "648"}
# Assumptions for the saturation estimate (one Redis 7 instance, one core, values of ~0.1-1 MB):
REDIS_OPS_PER_SECOND = 50_000  # commands/s with Lua scripts and pipelines mixed in (conservative)
REDIS_BYTES_PER_SECOND = 1.0e9  # payload in+out per second before the network or memcpy saturates


def start_api(root: Path, queue_url: str | None) -> Api:
    env = base_env(queue_url, root, max_concurrent_jobs=1, max_queued_jobs=100, log_level="WARNING", role="api")
    api = Api(env, root / f"api-{'queue' if queue_url else 'embedded'}.log")
    api.wait_up("/ready", timeout=120)
    return api


def start_worker(root: Path, cluster: RedisServer, count: int) -> Proc:
    worker = Proc(WORKER, base_env(cluster.url, root, log_level="WARNING"), root / f"worker{count}.log")
    deadline = time.monotonic() + 120
    while len(cluster.client(1).keys("fc:worker:*")) < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"worker did not start:\n{worker.tail()}")
        time.sleep(0.2)
    return worker


def sequential_latency(url: str, count: int) -> float:
    with httpx.Client(base_url=url, timeout=120) as client:
        client.post("/api/v1/process", files={"file": ("p.jpg", PHOTO)}, data=FORM)  # warm-up
        times = []
        for _ in range(count):
            start = time.perf_counter()
            answer = client.post("/api/v1/process", files={"file": ("p.jpg", PHOTO)}, data=FORM)
            times.append(time.perf_counter() - start)
            answer.raise_for_status()
    return statistics.median(times)


def throughput(url: str, count: int) -> float:
    """Photos per second for `count` jobs submitted at once through POST /jobs."""
    with httpx.Client(base_url=url, timeout=120) as client:
        start = time.perf_counter()
        ids = [
            client.post("/api/v1/jobs", files={"file": ("p.jpg", PHOTO)}, data=FORM).json()["job_id"]
            for _ in range(count)
        ]
        pending = set(ids)
        while pending:
            for job_id in list(pending):
                if client.get(f"/api/v1/jobs/{job_id}").json()["status"] in ("done", "failed"):
                    pending.discard(job_id)
            time.sleep(0.05)
        return count / (time.perf_counter() - start)


def redis_counters(client: redis.Redis) -> dict[str, float]:
    stats: dict[str, Any] = client.info("stats")
    memory: dict[str, Any] = client.info("memory")
    return {
        "commands": float(stats["total_commands_processed"]),
        "bytes": float(stats["total_net_input_bytes"]) + float(stats["total_net_output_bytes"]),
        "memory": float(memory["used_memory"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=8)
    args = parser.parse_args()
    if REDIS_SERVER is None:
        sys.exit("needs redis-server (apt-get install redis-server)")
    yardstick = yardstick_seconds(REPO / "models")
    root = Path(tempfile.mkdtemp(prefix="scale-bench-"))
    redis_server = RedisServer(root, maxmemory="1gb")
    redis_server.start()
    procs: list[Proc] = []
    rows: list[tuple[str, float, str]] = []
    try:
        embedded = start_api(root, None)
        procs.append(embedded)
        embedded_latency = sequential_latency(embedded.url, args.jobs)
        embedded.stop()
        api = start_api(root, redis_server.url)
        procs.append(api)
        procs.append(start_worker(root, redis_server, 1))
        queue_latency = sequential_latency(api.url, args.jobs)
        before = redis_counters(redis_server.client(0))
        one = throughput(api.url, args.jobs)
        after = redis_counters(redis_server.client(0))
        procs.append(start_worker(root, redis_server, 2))
        two = throughput(api.url, args.jobs)
    finally:
        for proc in reversed(procs):
            proc.stop()
        redis_server.stop()
        shutil.rmtree(root, ignore_errors=True)
    jobs = args.jobs
    ops = (after["commands"] - before["commands"]) / jobs
    traffic = (after["bytes"] - before["bytes"]) / jobs
    memory = (after["memory"] - before["memory"]) / jobs
    rows += [
        ("yardstick: ISNet 1024x1024 inference (s)", yardstick, ""),
        ("embedded /process latency, median (s)", embedded_latency, f"ratio {embedded_latency / yardstick:.2f}"),
        ("queue /process latency, median (s)", queue_latency, f"ratio {queue_latency / yardstick:.2f}"),
        ("API overhead of the queue per job (ms)", (queue_latency - embedded_latency) * 1000, ""),
        ("throughput, 1 worker (photos/s)", one, f"x yardstick {one * yardstick:.2f}"),
        ("throughput, 2 workers (photos/s)", two, f"x yardstick {two * yardstick:.2f}; scaling {two / one:.2f}x"),
        ("Redis commands per job", ops, "(POST /jobs + polling GETs + worker)"),
        ("Redis bytes in+out per job", traffic, ""),
        ("Redis memory per finished job (bytes)", memory, "results + job hash until their TTL"),
    ]
    limit_ops = REDIS_OPS_PER_SECOND / ops
    limit_bytes = REDIS_BYTES_PER_SECOND / traffic
    print(
        f"# scale_bench {datetime.now(UTC):%Y-%m-%d} on {platform.machine()}, {os.cpu_count()} cores, "
        "workers and API on this one machine"
    )
    for name, value, note in rows:
        print(f"{name:48s} {value:12.3f}  {note}")
    print(
        f"one Redis saturates near {min(limit_ops, limit_bytes):,.0f} jobs/s "
        f"(commands: {limit_ops:,.0f}/s at {REDIS_OPS_PER_SECOND:,}/s assumed; bytes: {limit_bytes:,.0f}/s at "
        f"{REDIS_BYTES_PER_SECOND / 1e9:.0f} GB/s assumed), i.e. about {min(limit_ops, limit_bytes) / one:,.0f} "
        f"workers like these; 1 GB of maxmemory holds {1e9 / memory:,.0f} finished jobs' results"
    )


if __name__ == "__main__":
    main()
