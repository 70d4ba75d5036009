"""Completion webhooks: one signed POST per finished job, to hosts the operator allowed.

Off unless FACECRAFT_WEBHOOK_ALLOWED_HOSTS names the target host and FACECRAFT_WEBHOOK_SECRET is set.
A webhook is a request the server makes on a client's behalf, so it is fenced like one (SSRF):
- only http(s), only a listed host name, no user:password in the URL;
- the host is resolved and every address checked: private, loopback, link-local, multicast,
  reserved and unspecified addresses are refused unless FACECRAFT_WEBHOOK_ALLOW_PRIVATE is true;
- the connection goes to the address that was checked (no second lookup an attacker's DNS could
  answer differently), with the host name kept for the Host header and TLS verification;
- redirects are never followed (a 3xx is a failed delivery), the reply body is never read;
- a few retries with backoff on connection errors and 5xx/429, then it gives up (logged).
The body is JSON; `X-Facecraft-Signature: sha256=<hex>` is the HMAC-SHA256 of the exact body bytes
with the secret, and the body carries a timestamp so a receiver can refuse replays.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import socket
import ssl
import threading
import time
from typing import Any
from urllib.parse import urlsplit

from facecraft.config import Settings
from facecraft.errors import InvalidOptionError

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Facecraft-Signature"
ATTEMPTS = 4
BACKOFF_SECONDS = (1.0, 3.0, 9.0)
TIMEOUT_SECONDS = 5.0


def _refuse(message: str) -> InvalidOptionError:
    return InvalidOptionError(message, field="webhook_url")


def resolve_checked(host: str, port: int, allow_private: bool) -> list[str]:
    """Every address `host` resolves to, refusing the lot when any one is not public."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise _refuse("The webhook host does not resolve.") from exc
    addresses = sorted({str(info[4][0]) for info in infos})
    for text in addresses:
        ip = ipaddress.ip_address(text.split("%", 1)[0])
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if not allow_private and (
            ip.is_private
            or ip.is_loopback
            or ip.is_link_local
            or ip.is_multicast
            or ip.is_reserved
            or ip.is_unspecified
            or not ip.is_global
        ):
            raise _refuse("The webhook host resolves to a private, loopback or link-local address.")
    if not addresses:
        raise _refuse("The webhook host does not resolve.")
    return addresses


def check_webhook_url(url: str, settings: Settings) -> tuple[str, str, int, str, list[str]]:
    """(scheme, host, port, path, checked addresses) or InvalidOptionError naming webhook_url."""
    if not settings.webhook_allowed_hosts or settings.webhook_secret is None:
        raise _refuse("Webhooks are not enabled on this server.")
    if len(url) > 2048:
        raise _refuse("The webhook URL is too long.")
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise _refuse("The webhook URL is not a valid URL.") from exc
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        raise _refuse("The webhook URL must be http:// or https:// with a host.")
    if parts.username is not None or parts.password is not None:
        raise _refuse("The webhook URL must not carry credentials.")
    if host not in settings.webhook_allowed_hosts:
        raise _refuse("The webhook host is not in FACECRAFT_WEBHOOK_ALLOWED_HOSTS.")
    addresses = resolve_checked(host, port, settings.webhook_allow_private)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, host, port, path, addresses


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """Connects to a checked address but verifies the certificate for the host name."""

    def __init__(self, host: str, address: str, port: int, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, address: str, port: int, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


def _post_once(url: str, settings: Settings, body: bytes, headers: dict[str, str]) -> int:
    scheme, host, port, path, addresses = check_webhook_url(url, settings)  # re-checked at send time
    cls = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
    connection = cls(host, addresses[0], port, TIMEOUT_SECONDS)
    try:
        connection.request("POST", path, body=body, headers=headers)
        return connection.getresponse().status
    finally:
        connection.close()


def deliver(url: str, payload: dict[str, Any], settings: Settings) -> bool:
    """POST `payload` with retries; True once the receiver answered 2xx. Never raises."""
    secret = settings.webhook_secret
    if secret is None:
        return False
    body = json.dumps({**payload, "timestamp": int(time.time())}, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "facecraft-webhook",
        SIGNATURE_HEADER: sign(body, secret.get_secret_value()),
    }
    job = payload.get("job_id")
    for attempt in range(ATTEMPTS):
        try:
            status = _post_once(url, settings, body, headers)
        except InvalidOptionError as exc:
            log.warning("webhook for job %s refused: %s", job, exc.message)
            return False
        except OSError as exc:
            log.info("webhook for job %s: attempt %d failed: %s", job, attempt + 1, exc)
        else:
            if 200 <= status < 300:
                return True
            if 300 <= status < 400 or (400 <= status < 500 and status != 429):
                log.warning("webhook for job %s: receiver answered %d; not retried", job, status)
                return False
            log.info("webhook for job %s: attempt %d got %d", job, attempt + 1, status)
        if attempt < len(BACKOFF_SECONDS):
            time.sleep(BACKOFF_SECONDS[attempt])
    log.warning("webhook for job %s: gave up after %d attempts", job, ATTEMPTS)
    return False


def deliver_in_background(url: str, payload: dict[str, Any], settings: Settings) -> threading.Thread:
    """Retries sleep, so they never hold an image worker: each delivery gets a small daemon thread."""
    thread = threading.Thread(target=deliver, args=(url, payload, settings), name="facecraft-webhook", daemon=True)
    thread.start()
    return thread


def job_payload(
    job_id: str, state: str, code: str | None, message: str | None, meta: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The webhook body; `meta` is the job's outcome_record (result and stored formats) when it is done."""
    formats: list[str] = list((meta or {}).get("formats", []))
    return {
        "event": "job.finished",
        "job_id": job_id,
        "status": state,
        "error": {"code": code, "message": message} if code else None,
        "status_url": f"/api/v1/jobs/{job_id}",
        "urls": {fmt: f"/api/v1/download/{job_id}/{fmt}" for fmt in formats},
        "result": (meta or {}).get("result"),
    }
