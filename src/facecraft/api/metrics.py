"""Counters for /metrics (Prometheus) and /status (people).

Each app gets its own CollectorRegistry, so tests and several apps in one process never collide on
metric names. /status needs percentiles, which Prometheus histograms only approximate, so a bounded
window of recent latencies is kept beside them; all updates happen on the event loop thread.
"""

from __future__ import annotations

from collections import Counter as CountMap
from collections import deque
from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

_LATENCY_WINDOW = 1000
_STAGE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_REQUEST_BUCKETS = (0.005, 0.025, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)


class ApiMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "facecraft_http_requests",
            "HTTP requests by route template, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.request_seconds = Histogram(
            "facecraft_http_request_seconds",
            "HTTP request duration by route template.",
            ["route"],
            buckets=_REQUEST_BUCKETS,
            registry=self.registry,
        )
        self.stage_seconds = Histogram(
            "facecraft_stage_seconds",
            "Pipeline stage duration.",
            ["stage"],
            buckets=_STAGE_BUCKETS,
            registry=self.registry,
        )
        self.in_flight = Gauge("facecraft_jobs_in_flight", "Images being processed or waiting.", registry=self.registry)
        self.rejections = Counter(
            "facecraft_rejections",
            "Requests refused before processing, by reason.",
            ["reason"],
            registry=self.registry,
        )
        self.images = Counter(
            "facecraft_images",
            "Images processed, by outcome (ok or an error code).",
            ["outcome"],
            registry=self.registry,
        )
        self.processed = 0
        self.failed: CountMap[str] = CountMap()
        self._latencies_ms: deque[float] = deque(maxlen=_LATENCY_WINDOW)

    def record_image(self, outcome: str, seconds: float, timings: dict[str, float] | None = None) -> None:
        self.images.labels(outcome=outcome).inc()
        if outcome == "ok":
            self.processed += 1
            self._latencies_ms.append(seconds * 1000.0)
            for stage, value in (timings or {}).items():
                self.stage_seconds.labels(stage=stage).observe(value)
        else:
            self.failed[outcome] += 1

    def record_request(self, route: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(route=route, method=method, status=str(status)).inc()
        self.request_seconds.labels(route=route).observe(seconds)

    def percentiles(self) -> dict[str, float | int | None]:
        values = sorted(self._latencies_ms)
        if not values:
            return {"p50": None, "p90": None, "p99": None, "window": 0}

        def pick(q: float) -> float:
            return round(values[min(len(values) - 1, int(q * len(values)))], 1)

        return {"p50": pick(0.5), "p90": pick(0.9), "p99": pick(0.99), "window": len(values)}

    def mean_ms(self) -> float:
        return round(sum(self._latencies_ms) / len(self._latencies_ms), 1) if self._latencies_ms else 0.0

    def exposition(self) -> bytes:
        return bytes(generate_latest(self.registry))


class ScaleCollector:
    """Queue-mode figures for /metrics, from the snapshot the /metrics route refreshes first."""

    def __init__(self, snapshot: Callable[[], dict[str, Any]]) -> None:
        self.snapshot = snapshot

    def collect(self) -> Any:
        snap = self.snapshot()
        up = GaugeMetricFamily("facecraft_queue_redis_up", "1 when Redis answered the last /metrics scrape.")
        up.add_metric([], 1.0 if snap.get("redis") == "ok" else 0.0)
        yield up
        if snap.get("redis") != "ok":
            return
        depth = GaugeMetricFamily("facecraft_queue_depth", "Jobs waiting in the queue.")
        depth.add_metric([], float(snap["queue_depth"]))
        yield depth
        alive = GaugeMetricFamily("facecraft_workers_alive", "Worker processes with a live heartbeat.")
        alive.add_metric([], float(snap["workers_alive"]))
        yield alive
        totals: dict[str, float] = snap["totals"]
        jobs = CounterMetricFamily("facecraft_queue_jobs", "Queued jobs by final state and code.", labels=["state"])
        jobs.add_metric(["done"], totals.get("jobs_done", 0.0))
        for key, value in totals.items():
            if key.startswith("jobs_failed:"):
                jobs.add_metric([key.split(":", 1)[1]], value)
        yield jobs
        retries = CounterMetricFamily("facecraft_queue_retries", "Job starts after a worker died mid-job.")
        retries.add_metric([], totals.get("retries", 0.0))
        yield retries
        for name, key, text in (
            ("facecraft_queue_wait_seconds", "wait_seconds_sum", "Seconds jobs waited for a worker, summed."),
            ("facecraft_queue_run_seconds", "run_seconds_sum", "Seconds workers spent on jobs, summed."),
        ):
            family = CounterMetricFamily(name, text)
            family.add_metric([], totals.get(key, 0.0))
            yield family
        finished = CounterMetricFamily("facecraft_queue_jobs_finished", "Jobs that reached a final state.")
        finished.add_metric([], totals.get("jobs_finished", 0.0))
        yield finished
