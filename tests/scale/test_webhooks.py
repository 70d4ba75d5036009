"""Completion webhooks and async jobs in embedded mode (no Redis): a real server, a real receiver."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from tests.scale.conftest import FAST_FORM, Api, base_env, wait_job

from facecraft.config import Settings
from facecraft.errors import InvalidOptionError
from facecraft.jobs.webhooks import check_webhook_url

SECRET = "test-webhook-secret"


class Receiver:
    def __init__(self) -> None:
        self.calls: list[tuple[dict[str, str], bytes]] = []
        received = self.calls

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.server.shutdown()


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    root = tmp_path_factory.mktemp("embedded")
    env = base_env(
        None,
        root,
        webhook_allowed_hosts="127.0.0.1,localhost",
        webhook_secret=SECRET,
        webhook_allow_private="true",
    )
    api = Api(env, root / "api.log")
    try:
        api.wait_up("/ready", timeout=90)
        yield api
    finally:
        api.stop()


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """Webhooks on, private addresses refused (the default); no models needed for the refusals."""
    root = tmp_path_factory.mktemp("strict")
    env = base_env(None, root, webhook_allowed_hosts="127.0.0.1,localhost", webhook_secret=SECRET)
    env["FACECRAFT_MODELS_DIR"] = str(root / "no-models")
    api = Api(env, root / "api.log")
    try:
        api.wait_up("/health")
        yield api
    finally:
        api.stop()


def test_async_job_with_signed_webhook(embedded: Api, receiver: Receiver, photo_bytes: Callable[[str], bytes]) -> None:
    url = f"http://127.0.0.1:{receiver.port}/hook?source=facecraft"
    with embedded.client() as client:
        answer = client.post(
            "/api/v1/jobs",
            files={"file": ("g.jpg", photo_bytes("grace_hopper.jpg"))},
            data={**FAST_FORM, "webhook_url": url},
        )
        assert answer.status_code == 202, answer.text
        job_id = answer.json()["job_id"]
        body = wait_job(client, job_id)
        assert body["status"] == "done" and set(body["formats"]) == {"png", "jpg"}
        assert client.get(body["urls"]["jpg"]).status_code == 200
        failed = client.post("/api/v1/jobs", files={"file": ("c.jpg", photo_bytes("coffee.jpg"))}, data=FAST_FORM)
        assert wait_job(client, failed.json()["job_id"])["error"]["code"] == "no_face"
    deadline = time.monotonic() + 10
    while not receiver.calls:
        assert time.monotonic() < deadline, "webhook never arrived"
        time.sleep(0.05)
    headers, raw = receiver.calls[0]
    expected = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["x-facecraft-signature"], expected)
    payload = json.loads(raw)
    assert payload["job_id"] == job_id and payload["status"] == "done"
    assert payload["urls"]["png"] == f"/api/v1/download/{job_id}/png"
    assert abs(payload["timestamp"] - time.time()) < 60


def test_webhook_refused_for_other_hosts_and_private_addresses(
    strict: Api, embedded: Api, photo_bytes: Callable[[str], bytes]
) -> None:
    cases = [
        (strict, "http://127.0.0.1:9/hook", "private"),  # allowed host, but loopback
        (strict, "http://localhost:9/hook", "private"),
        (embedded, "http://example.com/hook", "not in"),  # not in the allowed list
        (embedded, "ftp://127.0.0.1/hook", "http"),
        (embedded, "http://user:pw@127.0.0.1/hook", "credentials"),
    ]
    for api, url, words in cases:
        with api.client() as client:
            answer = client.post(
                "/api/v1/jobs",
                files={"file": ("g.jpg", photo_bytes("grace_hopper.jpg"))},
                data={**FAST_FORM, "webhook_url": url},
            )
        assert answer.status_code == 422, (url, answer.text)
        error = answer.json()["error"]
        assert error["code"] == "invalid_option" and error["field"] == "webhook_url"
        assert words in error["message"], (url, error)


def test_webhook_address_checks() -> None:
    on = Settings(_env_file=None, webhook_allowed_hosts="a.test,127.0.0.1,169.254.169.254,10.1.2.3", webhook_secret="s")  # type: ignore[call-arg]
    for url in ("http://169.254.169.254/latest", "http://10.1.2.3/", "http://127.0.0.1/"):
        with pytest.raises(InvalidOptionError, match="private"):
            check_webhook_url(url, on)
    off = Settings(_env_file=None, webhook_allowed_hosts="127.0.0.1")  # type: ignore[call-arg]
    with pytest.raises(InvalidOptionError, match="not enabled"):
        check_webhook_url("http://127.0.0.1/", off)  # no secret: webhooks stay off
