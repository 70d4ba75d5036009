"""The load scenario shared by tests/hostile/test_load.py and benchmarks/load_bench.py.

N requests at concurrency C on real photos, alternating /process/quick and /process with the fast
matte (every `quality_every`-th request uses the quality matte), while a second thread polls /health.
A 429 or 503 is a deliberate refusal when it carries Retry-After: the client waits Retry-After seconds,
capped at `max_pause` to keep the run short, and moves on to its next request.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

DATA = Path(__file__).resolve().parents[1] / "data"
PHOTOS = ["astronaut.jpg", "grace_hopper.jpg", "person_a.jpg", "person_b.jpg", "person_c.jpg", "person_d.jpg"]
REFUSALS = {429, 503}


@dataclass
class LoadReport:
    sent: int = 0
    by_status: Counter[int] = field(default_factory=Counter)
    by_code: Counter[str] = field(default_factory=Counter)  # "ok" for a 200
    refusals_without_retry_after: int = 0
    transport_errors: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)  # of 200 answers
    health_latencies: list[float] = field(default_factory=list)
    health_failures: list[str] = field(default_factory=list)
    job_ids: list[str] = field(default_factory=list)
    wall_s: float = 0.0

    @property
    def unexpected(self) -> dict[str, int]:
        """Answers that are neither a 200 nor a deliberate refusal."""
        return {
            code: n
            for code, n in self.by_code.items()
            if code != "ok" and code not in {"busy", "models_loading", "model_unavailable"}
        }


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run_load(
    url: str,
    total: int = 200,
    concurrency: int = 16,
    quality_every: int = 10,
    max_pause: float = 2.0,
    health_interval: float = 0.1,
) -> LoadReport:
    photos = [(DATA / name).read_bytes() for name in PHOTOS]
    report = LoadReport()
    lock = threading.Lock()
    counter = itertools.count()

    def client_loop() -> None:
        with httpx.Client(base_url=url, timeout=120) as http:
            while (i := next(counter)) < total:
                matting = "quality" if quality_every and i % quality_every == quality_every - 1 else "fast"
                path = "/api/v1/process/quick" if i % 2 == 0 else "/api/v1/process"
                form = {"matting": matting, "width": "256", "height": "256"}
                start = time.perf_counter()
                try:
                    response = http.post(path, data=form, files={"file": (f"p{i}.jpg", photos[i % len(photos)])})
                except httpx.HTTPError as exc:
                    with lock:
                        report.sent += 1
                        report.transport_errors.append(f"{path}: {exc!r}")
                    continue
                elapsed = time.perf_counter() - start
                code = "ok"
                if response.status_code != 200:
                    try:
                        code = str(response.json()["error"]["code"])
                    except (ValueError, KeyError, TypeError):
                        code = f"http_{response.status_code}"
                with lock:
                    report.sent += 1
                    report.by_status[response.status_code] += 1
                    report.by_code[code] += 1
                    if response.status_code == 200:
                        report.latencies.append(elapsed)
                        if path == "/api/v1/process":
                            report.job_ids.append(response.json()["job_id"])
                    elif response.status_code in REFUSALS and not response.headers.get("retry-after", "").isdigit():
                        report.refusals_without_retry_after += 1
                if response.status_code in REFUSALS:
                    retry_after = response.headers.get("retry-after", "")
                    time.sleep(min(max_pause, float(retry_after) if retry_after.isdigit() else max_pause))

    clients = [threading.Thread(target=client_loop, name=f"client-{n}") for n in range(concurrency)]
    with HealthPoller(url, health_interval) as poller:
        start = time.perf_counter()
        for thread in clients:
            thread.start()
        for thread in clients:
            thread.join()
        report.wall_s = time.perf_counter() - start
    report.health_latencies, report.health_failures = poller.latencies, poller.failures
    return report


# Runs in its own interpreter: sixteen client threads in this one would hold the GIL and make /health
# look slow when the server is not.
_POLLER = """
import json, sys, threading, time
import httpx
url, interval = sys.argv[1], float(sys.argv[2])
stop = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
latencies, failures = [], []
with httpx.Client(timeout=10) as http:
    while not stop.is_set():
        start = time.perf_counter()
        try:
            status = http.get(url + "/health").status_code
            if status != 200:
                failures.append(f"status {status}")
        except httpx.HTTPError as exc:
            failures.append(repr(exc))
        latencies.append(time.perf_counter() - start)
        stop.wait(interval)
print(json.dumps({"latencies": latencies, "failures": failures}))
"""


class HealthPoller:
    """GET /health every `interval` seconds from a separate process until the block ends."""

    def __init__(self, url: str, interval: float) -> None:
        self.command = [sys.executable, "-c", _POLLER, url, str(interval)]
        self.process: subprocess.Popen[str] | None = None
        self.latencies: list[float] = []
        self.failures: list[str] = []

    def __enter__(self) -> HealthPoller:
        self.process = subprocess.Popen(self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        time.sleep(0.5)  # let it import httpx before the load starts
        return self

    def __exit__(self, *_: object) -> None:
        assert self.process is not None
        out, _err = self.process.communicate("", timeout=30)
        result = json.loads(out)
        self.latencies, self.failures = result["latencies"], result["failures"]
