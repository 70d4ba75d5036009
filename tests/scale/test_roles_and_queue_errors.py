"""Queue mode beyond the happy path: `facecraft serve` as FACECRAFT_ROLE=worker and =all (the image's
default), 504 `job_timeout` and `input_expired` when no worker gets to a job in time, and the webhook
that a queue worker sends (the API that took the job is gone by then); the API key and a preset
through the queue.

One module-scoped cluster (real Redis, real processes); the tests run in file order and each leaves no
worker running.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from PIL import Image
from tests.conftest import free_port
from tests.scale.conftest import FAST_FORM, Cluster, wait_job
from tests.servers import Proc, base_env

SECRET = "queue-webhook-secret"
Photo = Callable[[str], bytes]


class Receiver:
    def __init__(self) -> None:
        self.calls: list[tuple[dict[str, str], bytes]] = []
        calls = self.calls

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                calls.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def queue(cluster: Cluster) -> Iterator[Cluster]:
    cluster.env_extra = {
        "webhook_allowed_hosts": "127.0.0.1",
        "webhook_secret": SECRET,
        "webhook_allow_private": "true",
    }
    yield cluster


def _stop_workers(cluster: Cluster) -> None:
    for worker in cluster.workers:
        worker.stop()
    deadline = time.monotonic() + 30
    while cluster.workers_alive():  # a worker's liveness key outlives it by a few heartbeats at most
        assert time.monotonic() < deadline, "a stopped worker still counts as alive"
        time.sleep(0.2)


def _serve(cluster: Cluster, role: str, port: int) -> Proc:
    env = base_env(cluster.redis.url, cluster.root, role=role, host="127.0.0.1", port=port, **cluster.env_extra)
    proc = Proc([sys.executable, "-m", "facecraft.cli.main", "serve"], env, cluster.root / f"serve-{role}.log")
    cluster.workers.append(proc)  # stopped with the cluster
    return proc


def test_job_timeout_when_no_worker_finishes(queue: Cluster, photo_bytes: Photo) -> None:
    assert queue.workers_alive() == 0
    api = queue.start_api(job_timeout_seconds=1)
    api.wait_up("/health")
    with api.client() as client:
        started = time.monotonic()
        answer = client.post("/api/v1/process", files={"file": ("a.jpg", photo_bytes("astronaut.jpg"))}, data=FAST_FORM)
        assert answer.status_code == 504, answer.text
        assert time.monotonic() - started < 10, "the wait is bounded by FACECRAFT_JOB_TIMEOUT_SECONDS"
        error = answer.json()["error"]
        assert error["code"] == "job_timeout"
        assert "/api/v1/jobs/" in error["message"], "the message says where the job can still be followed"


def test_input_expired_before_a_worker_took_the_job(queue: Cluster, photo_bytes: Photo) -> None:
    api = queue.apis[-1]
    with api.client() as client:
        answer = client.post("/api/v1/jobs", files={"file": ("a.jpg", photo_bytes("astronaut.jpg"))}, data=FAST_FORM)
        assert answer.status_code == 202, answer.text
        job_id = answer.json()["job_id"]
        # The upload's TTL (at least 60 s) running out, without waiting for it: the key goes.
        assert queue.redis.client(1).delete(f"fc:in:{job_id}") == 1
        queue.start_worker()
        body = wait_job(client, job_id, timeout=120)
    assert body["status"] == "failed"
    assert body["error"]["code"] == "input_expired"


def test_api_key_and_presets_through_the_queue(queue: Cluster, photo_bytes: Photo) -> None:
    """The key guards a queue-mode API as it does an embedded one; a preset's values reach the worker."""
    queue.wait_workers(1, timeout=120)
    api = queue.start_api(api_key="queue-key")
    api.wait_up("/health")
    files = {"file": ("g.jpg", photo_bytes("grace_hopper.jpg"))}
    with api.client() as client:
        refused = client.post("/api/v1/process", files=files, data={"preset": "passport"})
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized"
        answer = client.post(
            "/api/v1/process", files=files, data={"preset": "passport"}, headers={"X-API-Key": "queue-key"}
        )
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["result"]["output_size"] == {"width": 413, "height": 531}
        assert body["download_url"] == body["jpg_url"]
        assert client.get(body["jpg_url"]).status_code == 401, "downloads need the key too"
        jpeg = client.get(body["jpg_url"], headers={"X-API-Key": "queue-key"}).content
    assert len(jpeg) <= 500 * 1024
    with Image.open(io.BytesIO(jpeg)) as image:
        assert (image.format, image.size) == ("JPEG", (413, 531))
    api.stop()


def test_the_worker_sends_the_webhook(queue: Cluster, photo_bytes: Photo) -> None:
    """The API enqueues and is stopped at once: only the worker can deliver the job's webhook."""
    receiver = Receiver()
    try:
        queue.wait_workers(1, timeout=120)
        api = queue.start_api()
        api.wait_up("/health")
        with api.client() as client:
            answer = client.post(
                "/api/v1/jobs",
                files={"file": ("g.jpg", photo_bytes("grace_hopper.jpg"))},
                data={**FAST_FORM, "webhook_url": receiver.url},
            )
        assert answer.status_code == 202, answer.text
        job_id = answer.json()["job_id"]
        api.stop()
        deadline = time.monotonic() + 60
        while not receiver.calls:
            assert time.monotonic() < deadline, "the worker never sent the webhook"
            time.sleep(0.05)
    finally:
        receiver.server.shutdown()
    headers, body = receiver.calls[0]
    assert headers["x-facecraft-signature"] == "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    payload = json.loads(body)
    assert (payload["job_id"], payload["status"], payload["error"]) == (job_id, "done", None)
    assert set(payload["urls"]) == {"png", "jpg"}
    _stop_workers(queue)


def test_worker_concurrency_runs_jobs_side_by_side(queue: Cluster, photo_bytes: Photo) -> None:
    """FACECRAFT_WORKER_CONCURRENCY=2: one worker process runs two jobs at the same time."""
    assert queue.workers_alive() == 0
    queue.env_extra["worker_concurrency"] = "2"
    try:
        queue.start_worker()
    finally:
        del queue.env_extra["worker_concurrency"]
    queue.wait_workers(1, timeout=120)
    api = queue.start_api()
    api.wait_up("/ready")
    slow = {"matting": "quality", "width": "648", "height": "648"}  # ISNet: long enough to overlap
    with api.client() as client:
        ids = []
        for name in ("astronaut.jpg", "grace_hopper.jpg"):
            answer = client.post("/api/v1/jobs", files={"file": (name, photo_bytes(name))}, data=slow)
            assert answer.status_code == 202, answer.text
            ids.append(answer.json()["job_id"])
        for job_id in ids:
            assert wait_job(client, job_id, timeout=120)["status"] == "done"
    data = queue.redis.client(1)
    spans = [
        tuple(float(data.hget(f"fc:job:{job_id}", key) or 0) for key in ("started_at", "finished_at")) for job_id in ids
    ]
    assert all(0 < start < end for start, end in spans), spans
    assert max(start for start, _ in spans) < min(end for _, end in spans), (
        f"the two jobs ran one after the other: {spans}"
    )
    api.stop()
    _stop_workers(queue)


def test_serve_with_role_worker_runs_a_worker_and_no_http(queue: Cluster, photo_bytes: Photo) -> None:
    assert queue.workers_alive() == 0
    port = free_port()
    worker = _serve(queue, "worker", port)
    queue.wait_workers(1, timeout=120)
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
    api = queue.start_api()
    api.wait_up("/ready")
    with api.client() as client:
        answer = client.post("/api/v1/process", files={"file": ("a.jpg", photo_bytes("astronaut.jpg"))}, data=FAST_FORM)
    assert answer.status_code == 200, answer.text + worker.tail()
    assert answer.json()["result"]["output_size"] == {"width": 160, "height": 160}
    _stop_workers(queue)


def test_serve_with_role_all_is_an_api_with_its_own_worker(queue: Cluster, photo_bytes: Photo) -> None:
    """The image's default role: one container is a whole queue-mode service."""
    assert queue.workers_alive() == 0
    port = free_port()
    both = _serve(queue, "all", port)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(url + "/ready", timeout=2).status_code == 200 and queue.workers_alive() == 1:
                break
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline and both.alive(), both.tail()
        time.sleep(0.2)
    with httpx.Client(base_url=url, timeout=60) as client:
        assert client.get("/status").json()["scale"]["workers_alive"] == 1
        answer = client.post("/api/v1/process", files={"file": ("a.jpg", photo_bytes("astronaut.jpg"))}, data=FAST_FORM)
        assert answer.status_code == 200, answer.text + both.tail()
    _stop_workers(queue)
