"""`facecraft serve`: the HTTP API under uvicorn."""

from __future__ import annotations

import argparse
from typing import Any


def register(commands: Any) -> None:
    parser = commands.add_parser("serve", help="Run the HTTP API (settings from FACECRAFT_* variables).")
    parser.add_argument("--host", help="Bind address (default FACECRAFT_HOST).")
    parser.add_argument("--port", type=int, help="Port (default FACECRAFT_PORT).")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn  # noqa: PLC0415

    from facecraft.cli.main import settings_or_exit  # noqa: PLC0415

    settings = settings_or_exit()
    uvicorn.run(
        "facecraft.api.app:create_app",
        factory=True,
        host=args.host or settings.host,
        port=args.port or settings.port,
        workers=settings.workers,
        reload=settings.debug,
        log_level=settings.log_level.lower(),
        proxy_headers=True,
        timeout_graceful_shutdown=30,
    )
    return 0
