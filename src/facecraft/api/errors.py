"""The one place that turns errors into HTTP responses.

Every error body has the same shape, `{"error": {"code", "message"}, "detail": message}`; `detail`
keeps clients of the original API working. Messages come from FacecraftError (written for users,
never containing paths) or are fixed strings here; unexpected exceptions are logged with their
traceback and answered with a bare 500 `internal_error`.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from facecraft.errors import FacecraftError

log = logging.getLogger(__name__)


STATUS_BY_CODE: dict[str, int] = {
    "invalid_option": 422,
    "no_face": 422,
    "multiple_faces": 422,
    "output_too_large": 422,
    "not_compliant": 422,
    "unsupported_image": 415,
    "image_too_large": 413,
    "upload_too_large": 413,
    "too_many_files": 413,
    "not_found": 404,
    "unauthorized": 401,
    "busy": 429,
    "model_unavailable": 503,
    "model_checksum_mismatch": 503,
    "models_loading": 503,
    "storage_full": 507,
    "storage_unavailable": 503,
    "queue_unavailable": 503,  # queue mode: Redis down or restarting
    "queue_full": 429,  # queue mode: FACECRAFT_QUEUE_MAX_DEPTH jobs waiting
    "input_expired": 503,  # queue mode: the upload expired before a worker took the job
    "job_timeout": 504,  # queue mode: no result within FACECRAFT_JOB_TIMEOUT_SECONDS
    "worker_crashed": 500,  # queue mode: the job stopped its worker FACECRAFT_JOB_ATTEMPTS times
}

_CODE_BY_STATUS = {
    400: "bad_request",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    413: "upload_too_large",
    415: "unsupported_image",
    422: "invalid_option",
    429: "busy",
}


def status_for(error: FacecraftError) -> int:
    return STATUS_BY_CODE.get(error.code, 500)


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"success": False, "error": {"code": code, "message": message, **extra}, "detail": message}


def error_response(code: str, message: str, status: int, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(code, message), status_code=status, headers=headers)


def facecraft_error_response(error: FacecraftError) -> JSONResponse:
    status = status_for(error)
    headers = {}
    if status in (429, 503, 507):
        headers["Retry-After"] = str(error.details.get("retry_after", 5))
    extra: dict[str, Any] = {}
    field = error.details.get("field")
    if isinstance(field, str):
        extra["field"] = field
    if error.code == "multiple_faces" and "face_count" in error.details:
        extra["face_count"] = error.details["face_count"]
    return JSONResponse(error_body(error.code, error.message, **extra), status_code=status, headers=headers)


async def _facecraft_handler(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, FacecraftError)
    return facecraft_error_response(exc)


async def _validation_handler(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    fields = []
    for problem in exc.errors():
        loc = [str(part) for part in problem.get("loc", ()) if part not in ("body", "query", "path", "header")]
        fields.append(".".join(loc) or "request")
    field = fields[0] if fields else "request"
    first = exc.errors()[0].get("msg", "invalid value") if exc.errors() else "invalid value"
    message = f"Invalid value for '{field}': {first}"
    return JSONResponse(error_body("invalid_option", message, field=field, fields=fields), status_code=422)


async def _http_handler(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _CODE_BY_STATUS.get(exc.status_code, "http_error")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    return error_response(code, message, exc.status_code, dict(exc.headers or {}))


async def _unexpected_handler(request: Request, exc: Exception) -> JSONResponse:
    # Full detail goes to the log only; the client learns nothing about the internals.
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response("internal_error", "Internal server error.", 500)


class UnexpectedErrorMiddleware:
    """Answers a bug with the 500 `internal_error` body and keeps the connection open.

    Starlette's own last-resort handler (ServerErrorMiddleware) sends the same 500 but then re-raises,
    and uvicorn closes the keep-alive connection, so a client that reuses it gets a reset on its next
    request. Here the error is answered and swallowed, unless the response had already started, when
    the only honest thing left is to let the server drop the connection.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception as exc:
            if started:
                raise
            log.error("unhandled error on %s %s", scope["method"], scope["path"][:200], exc_info=exc)
            response = error_response("internal_error", "Internal server error.", 500)
            await response(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(FacecraftError, _facecraft_handler)
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.add_exception_handler(StarletteHTTPException, _http_handler)
    # Innermost middleware: answers bugs from the routes; the handler below is the backstop for a bug in
    # another middleware (Starlette calls it from its outermost layer, which then closes the connection).
    app.add_middleware(UnexpectedErrorMiddleware)
    app.add_exception_handler(Exception, _unexpected_handler)
