"""The jobs tests reuse the API tests' in-process servers (real uvicorn, real models)."""

from __future__ import annotations

from tests.api.conftest import start_server

__all__ = ["start_server"]
