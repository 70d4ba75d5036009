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
from tests.hostile.loadgen import percentile, run_load
from tests.hostile.serverproc import ServerProcess, files_under

PEAK_RSS_LIMIT_MB = 1536


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_load_200_requests_at_16(spawn_server: Callable[..., ServerProcess]) -> None:
    server = spawn_server(
        max_concurrent_jobs=2,
        max_queued_jobs=6,
        cleanup_age_hours=1,
        cleanup_interval_minutes=0.01,  # every 0.6 s, so expiry is seen within the test
    )
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
    }
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "load.json").write_text(json.dumps(summary, indent=1))
    print(f"\nload: {summary}")

    assert server.alive(), server.log_tail()
    assert report.sent == 200 and not report.transport_errors, report.transport_errors[:5]
    assert report.unexpected == {}, report.by_code
    assert report.refusals_without_retry_after == 0
    assert report.by_code["ok"] >= 30, report.by_code
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
