"""200 requests at concurrency 16 against a 2-worker server with a short queue.

Passes when every answer is a 200 or a deliberate refusal (429/503 with Retry-After), /health
answers within a second throughout, the server's peak RSS stays under 1.5 GB, every stored result
downloads and decodes whole, and no file is left once the jobs are deleted or have expired.
"""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Callable

import httpx
import pytest
from PIL import Image
from tests.hostile.conftest import ARTIFACTS
from tests.hostile.loadgen import DATA, PHOTOS, percentile, run_load
from tests.hostile.serverproc import ServerProcess, files_under

PEAK_RSS_LIMIT_MB = 1536


def seconds_per_photo_alone(url: str) -> float:
    """One client, one request at a time, the load's own mix (quick/process alternating, every tenth
    with quality matting): the server's unloaded pace. Stored jobs are deleted again."""
    photos = [(DATA / name).read_bytes() for name in PHOTOS]
    with httpx.Client(base_url=url, timeout=120) as http:
        http.post("/api/v1/process/quick", data={"width": "256", "height": "256"}, files={"file": ("w.jpg", photos[0])})
        start = time.perf_counter()
        for i in range(10):
            path = "/api/v1/process/quick" if i % 2 == 0 else "/api/v1/process"
            form = {"matting": "quality" if i == 9 else "fast", "width": "256", "height": "256"}
            response = http.post(path, data=form, files={"file": (f"c{i}.jpg", photos[i % len(photos)])})
            assert response.status_code == 200, response.text
            if path == "/api/v1/process":
                assert http.delete(f"/api/v1/jobs/{response.json()['job_id']}").status_code == 200
        return (time.perf_counter() - start) / 10


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_load_200_requests_at_16(spawn_server: Callable[..., ServerProcess]) -> None:
    server = spawn_server(
        max_concurrent_jobs=2,
        max_queued_jobs=6,
        cleanup_age_hours=1,
        cleanup_interval_minutes=0.01,  # every 0.6 s, so expiry is seen within the test
    )
    lone_s = seconds_per_photo_alone(server.url)
    baseline_files = server.open_files()
    baseline_tmp = files_under(server.tmp_dir)  # ONNX Runtime leaves a telemetry session id (.ses) at load
    report = run_load(server.url, total=200, concurrency=16)
    peak_rss = server.peak_rss_mb()
    summary = {
        "requests": report.sent,
        "by_status": dict(report.by_status),
        "by_code": dict(report.by_code),
        "wall_s": round(report.wall_s, 1),
        "latency_s": {
            q: round(percentile(report.latencies, v), 2) for q, v in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99))
        },
        "health_max_ms": round(max(report.health_latencies) * 1000, 1),
        "health_probes": len(report.health_latencies),
        "peak_rss_mb": round(peak_rss),
        "lone_client_s_per_photo": round(lone_s, 3),
    }
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "load.json").write_text(json.dumps(summary, indent=1))
    print(f"\nload: {summary}")

    assert server.alive(), server.log_tail()
    assert report.sent == 200 and not report.transport_errors, report.transport_errors[:5]
    assert report.unexpected == {}, report.by_code
    assert report.refusals_without_retry_after == 0
    # Overload must not collapse throughput: the refusals are cheap, the two workers stay busy. So the
    # server under 16 clients serves at least half the photos per second it serves one polite client
    # (a full pool does ~1-2x that on 2 cores). A fixed count would pass on a server that stalled.
    served_per_s = report.by_code["ok"] / report.wall_s
    assert served_per_s >= 0.5 / lone_s, f"{served_per_s:.2f} photos/s under load, {1 / lone_s:.2f} alone"
    assert report.by_code["busy"] > 0, "the queue never filled: the overload path was not exercised"
    assert not report.health_failures, report.health_failures[:5]
    assert max(report.health_latencies) < 1.0, f"/health took {max(report.health_latencies):.2f} s under load"
    assert len(report.health_latencies) >= 20
    assert peak_rss < PEAK_RSS_LIMIT_MB, f"peak RSS {peak_rss:.0f} MB"

    # Nothing lost: every stored job serves whole images.
    with server.client() as http:
        for job_id in report.job_ids:
            for fmt in ("png", "jpg"):
                response = http.get(f"/api/v1/download/{job_id}/{fmt}")
                assert response.status_code == 200, (job_id, fmt, response.status_code)
                with Image.open(io.BytesIO(response.content)) as image:
                    image.load()
                    assert image.size == (256, 256)
        # Nothing left behind: half the jobs deleted by the client, the rest expired by the cleaner.
        deleted, aged = report.job_ids[::2], report.job_ids[1::2]
        for job_id in deleted:
            assert http.delete(f"/api/v1/jobs/{job_id}").status_code == 200
        two_hours_ago = time.time() - 2 * 3600
        for job_id in aged:
            for path in (server.output_dir / job_id).rglob("*"):
                os.utime(path, (two_hours_ago, two_hours_ago))
        deadline = time.monotonic() + 15
        while files_under(server.output_dir) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert files_under(server.output_dir, server.upload_dir) == set()
        assert files_under(server.tmp_dir) == baseline_tmp
        assert [p for p in server.output_dir.iterdir()] == []
        for job_id in aged:
            assert http.get(f"/api/v1/jobs/{job_id}").status_code == 404
    assert server.open_files() == baseline_files
    assert httpx.get(server.url + "/health").status_code == 200
