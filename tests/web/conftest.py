"""The web tests reuse the API tests' live servers (real uvicorn, real models)."""

from __future__ import annotations

from tests.api.conftest import client, server, start_server

__all__ = ["client", "server", "start_server"]
