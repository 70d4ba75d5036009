"""API key, CORS, limits, overload and path traversal."""

from __future__ import annotations

import http.client as http_client
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from tests.api.conftest import LiveServer, snapshot

Photo = Callable[[str], bytes]
KEY = "s3cret-key"
ORIGIN = "https://hr.example.org"


@pytest.fixture(scope="module")
def locked(start_server: Callable[..., LiveServer]) -> LiveServer:
    return start_server(api_key=KEY, cors_origins=ORIGIN)


def test_api_key_guards_everything_but_probes_and_docs(locked: LiveServer, photo: Photo) -> None:
    with locked.client() as http:
        for path in ("/health", "/ready", "/docs", "/openapi.json"):
            assert http.get(path).status_code == 200, path
        for method, path in (
            ("GET", "/status"),
            ("GET", "/metrics"),
            ("GET", f"/api/v1/jobs/{'a' * 32}"),
            ("DELETE", f"/api/v1/jobs/{'a' * 32}"),
            ("POST", "/api/v1/process"),
        ):
            for headers in ({}, {"X-API-Key": "wrong"}, {"X-API-Key": KEY + "x"}):
                response = http.request(method, path, headers=headers)
                assert response.status_code == 401, (method, path)
                assert response.json()["error"]["code"] == "unauthorized"
        good = {"X-API-Key": KEY}
        assert http.get("/status", headers=good).status_code == 200
        ok = http.post(
            "/api/v1/process",
            headers=good,
            files={"file": ("a.jpg", photo("astronaut.jpg"))},
            data={"width": "96", "height": "96"},
        )
        assert ok.status_code == 200
        assert http.get(ok.json()["png_url"]).status_code == 401
        assert http.get(ok.json()["png_url"], headers=good).status_code == 200


def test_cors_credentials_only_for_named_origins(locked: LiveServer, client: httpx.Client) -> None:
    preflight = {
        "Origin": ORIGIN,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "x-api-key",
    }
    with locked.client() as http:
        allowed = http.options("/api/v1/process", headers=preflight)
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == ORIGIN
        assert allowed.headers["access-control-allow-credentials"] == "true"
        denied = http.options("/api/v1/process", headers={**preflight, "Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in denied.headers
    wildcard = client.options("/api/v1/process", headers={**preflight, "Origin": "https://any.example"})
    assert wildcard.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in wildcard.headers


@pytest.fixture(scope="module")
def small(start_server: Callable[..., LiveServer]) -> LiveServer:
    return start_server(max_upload_size_mb=0.05, batch_max_files=2)


def test_upload_limit_while_reading_and_by_content_length(small: LiveServer, photo: Photo) -> None:
    with small.client() as http:
        big = http.post("/api/v1/process", files={"file": ("a.jpg", photo("astronaut.jpg"))})  # 72 KB > 50 KB
        assert big.status_code == 413 and big.json()["error"]["code"] == "upload_too_large"
        # Body far beyond the limit: cut off while streaming, long before it is all sent.
        huge = http.post("/api/v1/process/quick", files={"file": ("a.jpg", b"\xff" * 30_000_000)})
        assert huge.status_code == 413
    conn = http_client.HTTPConnection("127.0.0.1", small.port, timeout=10)
    conn.putrequest("POST", "/api/v1/process")
    conn.putheader("Content-Type", "multipart/form-data; boundary=x")
    conn.putheader("Content-Length", str(10**10))
    conn.endheaders()
    start = time.monotonic()
    response = conn.getresponse()  # answered without sending a single body byte
    assert response.status == 413 and time.monotonic() - start < 2
    conn.close()


def test_batch_file_count_limit(small: LiveServer, photo: Photo) -> None:
    files = [("files", (f"{i}.jpg", photo("tiny_16x16.png"))) for i in range(3)]
    with small.client() as http:
        response = http.post("/api/v1/process/batch", files=files)
    assert response.status_code == 413 and response.json()["error"]["code"] == "too_many_files"


def test_overload_gets_429_and_health_stays_fast(start_server: Callable[..., LiveServer], photo: Photo) -> None:
    server = start_server(max_concurrent_jobs=1, max_queued_jobs=0)
    data = photo("grace_hopper.jpg")

    def post() -> httpx.Response:
        with server.client() as http:
            return http.post("/api/v1/process", files={"file": ("g.jpg", data)})

    with ThreadPoolExecutor(6) as workers:
        futures = [workers.submit(post) for _ in range(6)]
        time.sleep(0.3)
        with server.client() as http:
            start = time.monotonic()
            assert http.get("/health").status_code == 200
            health_s = time.monotonic() - start
        responses = [f.result() for f in futures]
    statuses = sorted(r.status_code for r in responses)
    assert 200 in statuses and 429 in statuses, statuses
    busy = next(r for r in responses if r.status_code == 429)
    assert busy.json()["error"]["code"] == "busy" and int(busy.headers["retry-after"]) >= 1
    assert health_s < 0.5, f"/health took {health_s:.2f} s while the worker was busy"


BAD_IDS = [
    "%2E%2E",
    "%2E",
    "..",
    ".",
    "..%2F..%2F..%2Fetc",
    "%2E%2E%2F%2E%2E",
    "%2Fetc%2Fpasswd",
    "%2F",
    "..%5C..%5Cwindows",
    "%00",
    "abc%00def",
    "a" * 5000,
    "%EF%BC%8E%EF%BC%8E",
    "%E2%80%A5",
    "~",
    "*",
    "A" * 32,
    "0" * 31,
    "0" * 33,
    "%20" + "0" * 32,
]


def _raw(server: LiveServer, method: str, path: str) -> int:
    # http.client sends the path exactly as given: no normalising of '..' or re-encoding.
    conn = http_client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request(method, path)
        return conn.getresponse().status
    finally:
        conn.close()


def test_traversal_attempts_touch_nothing(server: LiveServer, client: httpx.Client, photo: Photo) -> None:
    victim = client.post(
        "/api/v1/process",
        files={"file": ("a.jpg", photo("astronaut.jpg"))},
        data={"width": "64", "height": "64"},
    ).json()["job_id"]
    root = Path(server.settings.output_dir).parent
    (root / "secret.png").write_bytes(b"do not serve or delete")
    before = snapshot(root)
    valid = "f" * 32
    for bad in BAD_IDS:
        paths = [
            ("GET", f"/api/v1/download/{bad}/png"),
            ("GET", f"/api/v1/download/{bad}/0/png"),
            ("GET", f"/api/v1/download/{victim}/{bad}"),
            ("GET", f"/api/v1/download/{victim}/{bad}/png"),
            ("GET", f"/api/v1/download/{valid}/{bad}/png"),
            ("GET", f"/api/v1/jobs/{bad}"),
            ("DELETE", f"/api/v1/jobs/{bad}"),
            ("DELETE", f"/api/v1/jobs/{bad}/{victim}"),
        ]
        for method, path in paths:
            status = _raw(server, method, path)
            assert status in (400, 404, 405, 422), (method, path, status)
    assert snapshot(root) == before
    assert client.get(f"/api/v1/jobs/{victim}").status_code == 200
