"""/health, /ready, /status, /metrics, start-up and cleanup."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient
from tests.api.conftest import MODELS_DIR, LiveServer, make_settings

from facecraft.api.app import create_app
from facecraft.logs import JsonFormatter

Photo = Callable[[str], bytes]


def test_health_ready_root_docs(client: httpx.Client) -> None:
    assert client.get("/health").json() == {"status": "healthy"}
    assert client.get("/ready").json()["ready"] is True
    page = client.get("/", follow_redirects=False)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert client.get("/docs").status_code == 200
    schema = client.get("/openapi.json").json()
    assert {"/api/v1/process", "/api/v1/process/batch", "/api/v1/download/{job_id}/{fmt}"} <= set(schema["paths"])


def _metric(text: str, sample: str) -> float:
    """The value of one sample line of /metrics (0 when the series does not exist yet)."""
    match = re.search(rf"^{re.escape(sample)} (\S+)$", text, re.M)
    return float(match[1]) if match else 0.0


def test_status_and_metrics_count_work(client: httpx.Client, photo: Photo) -> None:
    # The session server is shared with other tests: count this test's own requests as differences.
    ok_requests = 'facecraft_http_requests_total{method="POST",route="/api/v1/process",status="200"}'
    no_face_images = 'facecraft_images_total{outcome="no_face"}'
    before, metrics_before = client.get("/status").json()["statistics"], client.get("/metrics").text
    assert (
        client.post(
            "/api/v1/process",
            files={"file": ("a.jpg", photo("astronaut.jpg"))},
            data={"width": "128", "height": "128"},
        ).status_code
        == 200
    )
    assert client.post("/api/v1/process", files={"file": ("c.jpg", photo("coffee.jpg"))}).status_code == 422
    status = client.get("/status").json()
    assert status["status"] == "operational" and status["version"]
    assert status["device"]["providers"] and status["device"]["type"] in {"cpu", "cuda"}
    # On this CPU, FACECRAFT_MATTING_PRECISION=auto loads the int8 ISNet and leaves the fp32 file unloaded.
    assert status["models"]["isnet_int8"]["loaded"] is True and len(status["models"]["isnet_int8"]["sha256"]) == 64
    assert status["models"]["isnet"]["loaded"] is False and status["models"]["isnet"]["sha256_ok"] is True
    stats = status["statistics"]
    assert stats["succeeded"] == before["succeeded"] + 1
    assert stats["failed"].get("no_face", 0) == before["failed"].get("no_face", 0) + 1
    assert stats["latency_ms"]["p50"] > 0 and stats["latency_ms"]["p99"] >= stats["latency_ms"]["p50"]
    assert status["queue"]["depth"] == 0
    metrics = client.get("/metrics").text
    assert _metric(metrics, ok_requests) == _metric(metrics_before, ok_requests) + 1
    assert _metric(metrics, no_face_images) == _metric(metrics_before, no_face_images) + 1
    assert 'facecraft_stage_seconds_count{stage="matte"}' in metrics
    assert "facecraft_jobs_in_flight" in metrics and 'facecraft_images_total{outcome="no_face"}' in metrics


def test_ready_is_503_until_models_load(start_server: Callable[..., LiveServer], pipeline: Any, photo: Photo) -> None:
    release = threading.Event()

    def slow_factory(_: Any) -> Any:
        release.wait(60)
        return pipeline

    server = start_server(pipeline_factory=slow_factory, wait=False)
    with server.client() as http:
        assert http.get("/health").status_code == 200
        ready = http.get("/ready")
        assert ready.status_code == 503 and ready.json()["error"]["code"] == "models_loading"
        busy = http.post("/api/v1/process", files={"file": ("a.jpg", photo("astronaut.jpg"))})
        assert busy.status_code == 503 and "retry-after" in busy.headers
        assert http.get("/status").json()["status"] == "starting"
        release.set()
        server.wait_ready(30)


def test_ready_reports_missing_and_corrupt_models(tmp_path: Path, pipeline: Any) -> None:
    empty = make_settings(tmp_path / "a", models_dir=tmp_path / "no-models")
    with TestClient(create_app(empty)) as http:  # the real build_pipeline: it must refuse to load
        for _ in range(200):
            body = http.get("/ready").json()
            if body.get("error", {}).get("code") == "model_unavailable":
                break
            time.sleep(0.05)
        assert http.get("/ready").status_code == 503
        assert "isnet" in body["reason"] and str(tmp_path) not in body["reason"]

    models = tmp_path / "models"
    shutil.copytree(MODELS_DIR, models)
    settings = make_settings(tmp_path / "b", models_dir=models)
    with TestClient(create_app(settings, pipeline_factory=lambda _: pipeline)) as http:
        for _ in range(200):
            if http.get("/ready").status_code == 200:
                break
            time.sleep(0.05)
        assert http.get("/ready").status_code == 200
        isnet = models / "isnet-general-fp32-dynamic.onnx"
        with isnet.open("r+b") as handle:  # corrupt it in place, as a bad disk or a bad copy would
            handle.seek(1000)
            handle.write(b"\x00" * 64)
        ready = http.get("/ready")
        assert ready.status_code == 503 and "isnet: checksum mismatch" in ready.json()["reason"]
        assert http.get("/status").json()["models"]["isnet"]["sha256_ok"] is False
        isnet.unlink()
        assert "isnet: missing" in http.get("/ready").json()["reason"]


def test_cleanup_runs_periodically_and_at_start(
    start_server: Callable[..., LiveServer], tmp_path: Path, photo: Photo
) -> None:
    processed, uploads = tmp_path / "processed", tmp_path / "uploads"
    processed.mkdir()
    uploads.mkdir()
    (processed / ".result.png.abc.part").write_bytes(b"half")
    (uploads / "old_upload.jpg").write_bytes(b"x")
    server = start_server(root=tmp_path, cleanup_interval_minutes=0.005, cleanup_age_hours=1)
    assert not (processed / ".result.png.abc.part").exists() and not (uploads / "old_upload.jpg").exists()
    with server.client() as http:
        old = http.post(
            "/api/v1/process",
            files={"file": ("a.jpg", photo("astronaut.jpg"))},
            data={"width": "96", "height": "96"},
        ).json()
        new = http.post(
            "/api/v1/process",
            files={"file": ("a.jpg", photo("astronaut.jpg"))},
            data={"width": "96", "height": "96"},
        ).json()
        two_hours_ago = time.time() - 2 * 3600
        for path in (processed / old["job_id"]).rglob("*"):
            os.utime(path, (two_hours_ago, two_hours_ago))
        deadline = time.monotonic() + 10
        while (processed / old["job_id"]).exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not (processed / old["job_id"]).exists()
        assert http.get(old["png_url"]).status_code == 404
        assert http.get(new["png_url"]).status_code == 200


def test_json_log_lines_carry_request_fields() -> None:
    record = logging.LogRecord("facecraft.request", logging.INFO, __file__, 1, "POST /x 200", None, None)
    record.fields = {"method": "POST", "status": 200, "job_id": "ab", "timings_ms": {"matte": 1.0}}
    line = json.loads(JsonFormatter().format(record))
    assert line["status"] == 200 and line["timings_ms"] == {"matte": 1.0} and line["level"] == "INFO"
