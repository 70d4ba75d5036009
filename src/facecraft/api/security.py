"""Optional API key and CORS.

With FACECRAFT_API_KEY set, every path except the probes, the docs and the web page (/ and
/static/*) needs header `X-API-Key`.
The check runs as ASGI middleware, before the body is read, so an unauthenticated client cannot make
the server receive and spool a 20 MB upload first. /docs and /openapi.json stay open: the schema
describes the API but grants nothing, and the docs page needs it to offer "Authorize".
"""

from __future__ import annotations

import hmac

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.security import APIKeyHeader
from starlette.types import ASGIApp, Receive, Scope, Send

from facecraft.api.errors import error_response
from facecraft.config import Settings

API_KEY_HEADER = "X-API-Key"
OPEN_PATHS = frozenset({"/health", "/ready", "/docs", "/docs/oauth2-redirect", "/openapi.json", "/"})
# The web page's own files (HTML, CSS, JS): public, so the page can load and ask for the key.
OPEN_PREFIXES = ("/static/",)

# Declared on the protected routers so the OpenAPI document shows the scheme; enforcement is below.
api_key_scheme = APIKeyHeader(
    name=API_KEY_HEADER, auto_error=False, description="Needed when FACECRAFT_API_KEY is set."
)


def _is_open(path: str) -> bool:
    return path in OPEN_PATHS or path.startswith(OPEN_PREFIXES)


def key_matches(expected: str, given: str | None) -> bool:
    # compare_digest on bytes: constant time, and no exception for non-ASCII input.
    return given is not None and hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace"))


class ApiKeyMiddleware:
    def __init__(self, app: ASGIApp, api_key: str) -> None:
        self.app = app
        self.api_key = api_key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] == "OPTIONS" or _is_open(scope["path"]):
            await self.app(scope, receive, send)
            return
        header = API_KEY_HEADER.lower().encode()
        given = next((v.decode("latin-1") for k, v in scope["headers"] if k == header), None)
        if not key_matches(self.api_key, given):
            response = error_response("unauthorized", "A valid X-API-Key header is required.", 401)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def install_security(app: FastAPI, settings: Settings) -> None:
    """Add the key check (inner) and CORS (outer, so preflight requests are answered without a key)."""
    if settings.api_key is not None:
        app.add_middleware(ApiKeyMiddleware, api_key=settings.api_key.get_secret_value())
    origins = settings.cors_origins or []
    wildcard = "*" in origins
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"] if wildcard else origins,
        # Credentials only for named origins: with "*" Starlette would echo any Origin and let every
        # web page drive the API with the user's cookies (a defect of the original).
        allow_credentials=not wildcard,
        allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
        allow_headers=[API_KEY_HEADER, "Content-Type"],
        expose_headers=["Content-Disposition", "Retry-After"],
    )
