"""Upload size limits, enforced while the bytes arrive.

Two layers: `BodyLimitMiddleware` counts request-body bytes as the server receives them (and refuses
at once when Content-Length already says too much), so a 2 GB upload is cut off after the limit
instead of being spooled to disk; `read_upload` then reads each file part in chunks against the
per-file limit. Uploads are held in memory only for the request, never written under UPLOAD_DIR.
"""

from __future__ import annotations

from fastapi import UploadFile
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from facecraft.api.errors import error_response
from facecraft.config import Settings
from facecraft.errors import UploadTooLargeError

_CHUNK = 1 << 16
_FORM_OVERHEAD = 1 << 20  # multipart boundaries and option fields


def body_limit(settings: Settings, path: str) -> int:
    files = settings.batch_max_files if path.endswith("/batch") else 1
    return settings.max_upload_bytes * files + _FORM_OVERHEAD


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        limit = body_limit(self.settings, scope["path"])
        message = f"The upload is larger than the {self.settings.max_upload_size_mb:g} MB limit."
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if declared is not None and declared.isdigit() and int(declared) > limit:
            response = error_response("upload_too_large", message, 413, {"Connection": "close"})
            await response(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            incoming = await receive()
            if incoming["type"] == "http.request":
                received += len(incoming.get("body", b""))
                if received > limit:
                    # FastAPI re-raises HTTPException from body parsing; our handler shapes the 413.
                    raise HTTPException(413, message)
            return incoming

        await self.app(scope, limited_receive, send)


async def read_upload(upload: UploadFile, max_bytes: int) -> bytes:
    """The whole file part, or UploadTooLargeError as soon as it passes `max_bytes`."""
    chunks: list[bytes] = []
    total = 0
    while chunk := await upload.read(_CHUNK):
        total += len(chunk)
        if total > max_bytes:
            raise UploadTooLargeError(f"The upload is larger than the {max_bytes / 1048576:g} MB limit.")
        chunks.append(chunk)
    return b"".join(chunks)


def display_name(filename: str | None, index: int) -> str:
    """A client's file name made safe to echo back: printable, no folders, at most 100 characters."""
    base = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(c for c in base if c.isprintable() and c not in "\x00\"'<>")
    return cleaned[:100] or f"file-{index + 1}"


def archive_stem(filename: str | None, index: int) -> str:
    """A name for entries in the batch ZIP: ASCII letters, digits, dot, dash, underscore only."""
    stem = display_name(filename, index).rsplit(".", 1)[0]
    safe = "".join(c if c.isascii() and (c.isalnum() or c in "-_") else "_" for c in stem).strip("._")
    return f"{index + 1:03d}_{safe[:60] or 'photo'}"
