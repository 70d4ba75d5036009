"""Webhook delivery: retries with backoff on 5xx/429 and connection errors, none on 4xx or 3xx, signed
bodies, and the payload of a failed job. A real HTTP receiver answers a scripted list of statuses;
only `time.sleep` inside the webhooks module is replaced (recorded, not slept), so a give-up after four
attempts takes milliseconds instead of 13 s."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from tests.api.conftest import LiveServer
from tests.conftest import free_port

from facecraft.config import Settings
from facecraft.jobs import webhooks

SECRET = "delivery-test-secret"


class ScriptedReceiver:
    """Answers each POST with the next status of `script` (the last one repeats)."""

    def __init__(self, script: list[int]) -> None:
        self.script = list(script)
        self.calls: list[tuple[str, dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.calls.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                status = receiver.script.pop(0) if len(receiver.script) > 1 else receiver.script[0]
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Callable[[list[int]], ScriptedReceiver]]:
    made: list[ScriptedReceiver] = []

    def make(script: list[int]) -> ScriptedReceiver:
        made.append(ScriptedReceiver(script))
        return made[-1]

    yield make
    for item in made:
        item.close()


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    slept: list[float] = []
    monkeypatch.setattr(webhooks.time, "sleep", slept.append)
    return slept


SETTINGS = Settings(
    _env_file=None,  # type: ignore[call-arg]
    webhook_allowed_hosts="127.0.0.1",
    webhook_secret=SECRET,
    webhook_allow_private=True,
)
PAYLOAD = webhooks.job_payload("job-1", "done", None, None, {"formats": ["png"]})


def _signed(headers: dict[str, str], body: bytes) -> bool:
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(headers["x-facecraft-signature"], expected)


def test_5xx_and_429_are_retried_with_backoff_until_2xx(receiver: Any, sleeps: list[float]) -> None:
    hook = receiver([500, 429, 204])
    assert webhooks.deliver(hook.url, PAYLOAD, SETTINGS) is True
    assert len(hook.calls) == 3
    assert sleeps == [1.0, 3.0], "backoff 1 s, then 3 s"
    bodies = {body for _, _, body in hook.calls}
    assert len(bodies) == 1, "every attempt sends the same signed body"
    for _, headers, body in hook.calls:
        assert _signed(headers, body)


def test_gives_up_after_four_attempts(receiver: Any, sleeps: list[float]) -> None:
    hook = receiver([503])
    assert webhooks.deliver(hook.url, PAYLOAD, SETTINGS) is False
    assert len(hook.calls) == webhooks.ATTEMPTS == 4
    assert sleeps == [1.0, 3.0, 9.0], "no sleep after the last attempt"


@pytest.mark.parametrize("status", [400, 404, 410, 301, 302])
def test_4xx_and_redirects_are_not_retried(receiver: Any, sleeps: list[float], status: int) -> None:
    hook = receiver([status, 204])
    assert webhooks.deliver(hook.url, PAYLOAD, SETTINGS) is False
    assert len(hook.calls) == 1 and sleeps == []
    assert all(path == "/hook" for path, _, _ in hook.calls), "a redirect is never followed"


def test_connection_refused_is_retried(sleeps: list[float]) -> None:
    url = f"http://127.0.0.1:{free_port()}/hook"  # nothing listens there
    assert webhooks.deliver(url, PAYLOAD, SETTINGS) is False
    assert sleeps == [1.0, 3.0, 9.0]


def test_a_host_refused_at_send_time_is_not_retried(receiver: Any, sleeps: list[float]) -> None:
    hook = receiver([204])
    strict = SETTINGS.model_copy(update={"webhook_allow_private": False})
    assert webhooks.deliver(hook.url, PAYLOAD, strict) is False
    assert hook.calls == [] and sleeps == []


def test_failed_job_payload_over_http(receiver: Any, start_server: Callable[..., LiveServer], photo: Any) -> None:
    """An async job that fails (no face) sends its webhook too, with the error and no download URLs."""
    hook = receiver([204])
    server = start_server(webhook_allowed_hosts=["127.0.0.1"], webhook_secret=SECRET, webhook_allow_private=True)
    with server.client() as http:
        answer = http.post(
            "/api/v1/jobs",
            files={"file": ("c.jpg", photo("coffee.jpg"))},
            data={"matting": "fast", "webhook_url": hook.url},
        )
        assert answer.status_code == 202, answer.text
        job_id = answer.json()["job_id"]
    deadline = time.monotonic() + 30
    while not hook.calls:
        assert time.monotonic() < deadline, "the failed job's webhook never arrived"
        time.sleep(0.05)
    _, headers, body = hook.calls[0]
    assert _signed(headers, body)
    payload = json.loads(body)
    assert payload["event"] == "job.finished" and payload["job_id"] == job_id
    assert payload["status"] == "failed"
    assert payload["error"]["code"] == "no_face" and payload["error"]["message"]
    assert payload["urls"] == {}
    assert payload["status_url"] == f"/api/v1/jobs/{job_id}"
    assert httpx.get(server.url + payload["status_url"]).json()["error"]["code"] == "no_face"
