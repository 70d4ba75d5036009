"""Logging set up from FACECRAFT_LOG_LEVEL / FACECRAFT_LOG_FORMAT, and the one-line-per-request log.

The original printed to stdout and ignored LOG_LEVEL. With LOG_FORMAT=json every line is one JSON
object (fields of the request line become keys), which log shippers can index without parsing.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from facecraft.api.metrics import ApiMetrics
from facecraft.config import LogFormat, Settings

REQUEST_LOG = logging.getLogger("facecraft.request")
_HANDLER_MARK = "_facecraft_handler"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        body: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        body.update(getattr(record, "fields", {}))
        if record.exc_info:
            body["exception"] = self.formatException(record.exc_info)
        return json.dumps(body, default=str)


def configure_logging(settings: Settings) -> None:
    """Attach one handler to the `facecraft` logger (idempotent: several apps in one process share it)."""
    logger = logging.getLogger("facecraft")
    logger.setLevel(settings.log_level)
    for handler in list(logger.handlers):
        if getattr(handler, _HANDLER_MARK, False):
            logger.removeHandler(handler)
    handler = logging.StreamHandler()
    setattr(handler, _HANDLER_MARK, True)
    if settings.log_format is LogFormat.JSON:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.propagate = False


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
