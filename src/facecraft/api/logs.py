"""The one-line-per-request log (set up by facecraft.logs like every other line).

With FACECRAFT_LOG_FORMAT=json the fields of the request line become keys of its JSON object.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from facecraft.api.metrics import ApiMetrics

REQUEST_LOG = logging.getLogger("facecraft.request")


class RequestLogMiddleware:
    """Logs method, path, status, duration, job id and stage timings; feeds the request metrics."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            seconds = time.perf_counter() - start
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.metrics.record_request(template, scope["method"], status, seconds)
            state = scope.get("state") or {}
            fields: dict[str, Any] = {
                "method": scope["method"],
                "path": scope["path"][:200],
                "status": status,
                "duration_ms": round(seconds * 1000, 1),
            }
            if "job_id" in state:
                fields["job_id"] = state["job_id"]
            if "timings" in state:
                fields["timings_ms"] = {k: round(v * 1000, 1) for k, v in state["timings"].items()}
            extra = " ".join(f"{k}={v}" for k, v in fields.items() if k not in ("method", "path", "status"))
            REQUEST_LOG.info("%s %s %s %s", fields["method"], fields["path"], status, extra, extra={"fields": fields})
