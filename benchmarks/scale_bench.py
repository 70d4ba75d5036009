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
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import redis

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))
from pipeline_bench import yardstick_seconds  # noqa: E402

PHOTO = (REPO / "tests" / "data" / "grace_hopper.jpg").read_bytes()
FORM = {"matting": "quality", "width": "648", "height": "648"}
# Assumptions for the saturation estimate (one Redis 7 instance, one core, values of ~0.1-1 MB):
REDIS_OPS_PER_SECOND = 50_000  # commands/s with Lua scripts and pipelines mixed in (conservative)
REDIS_BYTES_PER_SECOND = 1.0e9  # payload in+out per second before the network or memcpy saturates


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def env(root: Path, queue_url: str | None) -> dict[str, str]:
    values = {k: v for k, v in os.environ.items() if not k.startswith("FACECRAFT_")}
    values.update(
        FACECRAFT_MODELS_DIR=str(REPO / "models"),
        FACECRAFT_OUTPUT_DIR=str(root / "processed"),
        FACECRAFT_UPLOAD_DIR=str(root / "uploads"),
        FACECRAFT_INFERENCE_THREADS="1",
        FACECRAFT_MAX_CONCURRENT_JOBS="1",
        FACECRAFT_MAX_QUEUED_JOBS="100",
        FACECRAFT_LOG_LEVEL="WARNING",
        FACECRAFT_ROLE="api",
    )
    if queue_url:
        values["FACECRAFT_QUEUE_URL"] = queue_url
    return values


def start_api(root: Path, queue_url: str | None) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    args = [sys.executable, "-m", "uvicorn", "facecraft.api.app:create_app", "--factory", "--port", str(port)]
    proc = subprocess.Popen(args, env=env(root, queue_url), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(url + "/ready", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("API did not get ready")
        time.sleep(0.2)


def start_worker(root: Path, queue_url: str, data: redis.Redis, count: int) -> subprocess.Popen[bytes]:
    args = [sys.executable, "-m", "facecraft.cli.main", "worker"]
    proc = subprocess.Popen(args, env=env(root, queue_url), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while len(data.keys("fc:worker:*")) < count:
        if time.monotonic() > deadline:
            raise RuntimeError("worker did not start")
        time.sleep(0.2)
    return proc


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
    server = shutil.which("redis-server")
    if server is None:
        sys.exit("needs redis-server (apt-get install redis-server)")
    yardstick = yardstick_seconds(REPO / "models")
    root = Path(tempfile.mkdtemp(prefix="scale-bench-"))
    port = free_port()
    redis_proc = subprocess.Popen(
        [server, "--port", str(port), "--save", "", "--maxmemory", "1gb", "--maxmemory-policy", "noeviction"],
        stdout=subprocess.DEVNULL,
    )
    procs: list[subprocess.Popen[bytes]] = [redis_proc]
    queue_url = f"redis://127.0.0.1:{port}/0"
    time.sleep(0.5)
    data = redis.Redis(port=port, db=1)
    rows: list[tuple[str, float, str]] = []
    try:
        embedded, embedded_url = start_api(root, None)
        procs.append(embedded)
        embedded_latency = sequential_latency(embedded_url, args.jobs)
        embedded.terminate()
        embedded.wait()
        api, api_url = start_api(root, queue_url)
        procs.append(api)
        procs.append(start_worker(root, queue_url, data, 1))
        queue_latency = sequential_latency(api_url, args.jobs)
        before = redis_counters(redis.Redis(port=port))
        one = throughput(api_url, args.jobs)
        after = redis_counters(redis.Redis(port=port))
        procs.append(start_worker(root, queue_url, data, 2))
        two = throughput(api_url, args.jobs)
    finally:
        for proc in reversed(procs):
            proc.terminate()
            proc.wait(timeout=60)
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
