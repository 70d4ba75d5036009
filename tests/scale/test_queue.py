"""Queue mode end to end: real Redis, real workers, real API replicas, real faults.

The tests share one cluster and run in file order: three workers start at once (each loads the
models), the kill tests use some of them up and start replacements, as a restart policy would.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator

import pytest
from tests.scale.conftest import FAST_FORM, Api, Cluster, wait_job

from facecraft.config import Settings
from facecraft.jobs.queue.worker import run_worker

SLOW_PHOTO = "person_a.jpg"  # processing sleeps 4 s first (FAULT_SLOW_ON), so it can be killed mid-job
CRASH_PHOTO = "person_b.jpg"  # kills its worker every time (FAULT_CRASH_ON); see tests/fault_worker.py


def _prefix(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


@pytest.fixture(scope="module")
def apis(cluster: Cluster, photo_bytes: Callable[[str], bytes]) -> Iterator[tuple[Api, Api]]:
    cluster.faults = {
        "FAULT_SLOW_ON": f"{_prefix(photo_bytes(SLOW_PHOTO))}:4",
        "FAULT_CRASH_ON": _prefix(photo_bytes(CRASH_PHOTO)),
    }
    for _ in range(3):
        cluster.start_worker()
    first, second = cluster.start_api(), cluster.start_api(job_timeout_seconds=60)
    first.wait_up("/ready")
    second.wait_up("/ready")
    cluster.wait_workers(3)
    yield first, second


def _submit(api: Api, data: bytes, **form: str) -> str:
    with api.client() as client:
        answer = client.post("/api/v1/jobs", files={"file": ("p.jpg", data)}, data={**FAST_FORM, **form})
    assert answer.status_code == 202, answer.text
    assert answer.headers["location"] == answer.json()["status_url"]
    return str(answer.json()["job_id"])


def test_async_job_lifecycle_across_replicas(apis: tuple[Api, Api], photo_bytes: Callable[[str], bytes]) -> None:
    first, second = apis
    job_id = _submit(first, photo_bytes("grace_hopper.jpg"))
    with second.client() as client:
        body = wait_job(client, job_id)  # the other replica answers for the job
        assert body["status"] == "done", body
        assert body["attempts"] == 1
        assert set(body["formats"]) == {"png", "jpg"}
        png = client.get(body["urls"]["png"])
        assert png.status_code == 200 and png.content[:8] == b"\x89PNG\r\n\x1a\n"
        # The synchronous endpoints behave as in embedded mode, through the queue.
        answer = client.post(
            "/api/v1/process", files={"file": ("g.jpg", photo_bytes("grace_hopper.jpg"))}, data=FAST_FORM
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["result"]["output_size"] == {"width": 160, "height": 160}
        quick = client.post(
            "/api/v1/process/quick", files={"file": ("g.jpg", photo_bytes("grace_hopper.jpg"))}, data=FAST_FORM
        )
        assert quick.status_code == 200 and quick.headers["content-type"] == "image/png"
        no_face = client.post("/api/v1/process", files={"file": ("c.jpg", photo_bytes("coffee.jpg"))}, data=FAST_FORM)
        assert no_face.status_code == 422 and no_face.json()["error"]["code"] == "no_face"
        status = client.get("/status").json()["scale"]
        assert status["workers_alive"] == 3 and status["jobs"]["done"] >= 3
        assert "facecraft_workers_alive 3.0" in client.get("/metrics").text
    with first.client() as client:  # and the first replica serves the result the worker stored
        assert client.get(f"/api/v1/download/{answer.json()['job_id']}/jpg").status_code == 200


def test_sigkilled_worker_job_finishes_elsewhere(
    cluster: Cluster, apis: tuple[Api, Api], photo_bytes: Callable[[str], bytes]
) -> None:
    first, _ = apis
    job_id = _submit(first, photo_bytes(SLOW_PHOTO))
    data = cluster.redis.client(1)
    deadline = time.monotonic() + 20
    while not data.hget(f"fc:job:{job_id}", "worker"):
        assert time.monotonic() < deadline, "no worker took the job"
        time.sleep(0.05)
    victim = cluster.worker_by_name(data.hget(f"fc:job:{job_id}", "worker").decode())
    killed_at = time.monotonic()
    victim.kill()
    cluster.start_worker()  # the restart policy's replacement; it loads while the others carry on
    with first.client() as client:
        body = wait_job(client, job_id, timeout=40)
    assert body["status"] == "done", body
    assert body["attempts"] == 2  # exactly one rerun: the busy survivor kept its heartbeat
    print(f"killed job finished {time.monotonic() - killed_at:.1f} s after the kill")
    with first.client() as client:
        assert client.get(body["urls"]["png"]).status_code == 200
        assert client.get("/status").json()["scale"]["retries"] >= 1


def test_photo_that_kills_every_worker_fails_after_attempts(
    cluster: Cluster, apis: tuple[Api, Api], photo_bytes: Callable[[str], bytes]
) -> None:
    first, _ = apis
    cluster.wait_workers(3)  # two will die (FACECRAFT_JOB_ATTEMPTS=2), the third gives the job up
    job_id = _submit(first, photo_bytes(CRASH_PHOTO))
    with first.client() as client:
        body = wait_job(client, job_id, timeout=60)
    assert body["status"] == "failed", body
    assert body["error"]["code"] == "worker_crashed"
    assert body["attempts"] == 3
    assert cluster.redis.client(1).exists(f"fc:in:{job_id}") == 0  # the upload is gone
    assert sum(w.alive() for w in cluster.workers) >= 1


def test_redis_down_then_back(cluster: Cluster, apis: tuple[Api, Api], photo_bytes: Callable[[str], bytes]) -> None:
    first, _ = apis
    cluster.wait_workers(1)
    cluster.redis.stop()
    with first.client() as client:
        for path in ("/api/v1/process", "/api/v1/jobs"):
            start = time.monotonic()
            answer = client.post(path, files={"file": ("g.jpg", photo_bytes("grace_hopper.jpg"))}, data=FAST_FORM)
            assert answer.status_code == 503, answer.text
            assert answer.json()["error"]["code"] == "queue_unavailable"
            assert int(answer.headers["retry-after"]) > 0
            assert time.monotonic() - start < 5  # a clear answer, not a hang
        ready = client.get("/ready")
        assert ready.status_code == 503 and ready.json()["error"]["code"] == "queue_unavailable"
        assert client.get("/health").status_code == 200
    cluster.redis.start()  # same port, empty (no persistence): queued work was lost with it
    with first.client() as client:
        deadline = time.monotonic() + 20
        while client.get("/ready").status_code != 200:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        cluster.wait_workers(1, timeout=30)  # the surviving worker reconnected by itself
        answer = client.post(
            "/api/v1/process", files={"file": ("g.jpg", photo_bytes("grace_hopper.jpg"))}, data=FAST_FORM
        )
        assert answer.status_code == 200, answer.text


def test_expired_jobs_leave_no_keys(
    cluster: Cluster, apis: tuple[Api, Api], photo_bytes: Callable[[str], bytes]
) -> None:
    short = cluster.start_api(result_ttl_seconds=3)
    short.wait_up("/ready")
    data = cluster.redis.client(1)
    with short.client() as client:
        answer = client.post(
            "/api/v1/process", files={"file": ("g.jpg", photo_bytes("grace_hopper.jpg"))}, data=FAST_FORM
        )
        assert answer.status_code == 200, answer.text
        sync_id = answer.json()["job_id"]
        async_id = _submit(short, photo_bytes("grace_hopper.jpg"))
        assert wait_job(client, async_id)["status"] == "done"
        assert data.keys(f"fc:*{sync_id}*")
        time.sleep(3.5)
        assert client.get(f"/api/v1/download/{sync_id}/png").status_code == 404
        assert client.get(f"/api/v1/jobs/{async_id}").status_code == 404
    for job_id in (sync_id, async_id):
        assert data.keys(f"fc:*{job_id}*") == []
    assert data.keys("fc:in:*") == []
    assert cluster.redis.client(0).hlen("dramatiq:facecraft.msgs") == 0  # every message acknowledged


def test_queue_full_gets_429(cluster: Cluster, apis: tuple[Api, Api], photo_bytes: Callable[[str], bytes]) -> None:
    tight = cluster.start_api(queue_max_depth=1)
    tight.wait_up("/ready")
    photo = photo_bytes("grace_hopper.jpg")
    with tight.client() as client:  # a batch of two would put two jobs in a queue allowed one
        answer = client.post("/api/v1/process/batch", files=[("files", ("a.jpg", photo)), ("files", ("b.jpg", photo))])
    assert answer.status_code == 429, answer.text
    assert answer.json()["error"]["code"] == "queue_full" and "retry-after" in answer.headers


def test_worker_needs_queue_url() -> None:
    assert run_worker(Settings(_env_file=None), pipeline=None) == 2  # type: ignore[call-arg]
