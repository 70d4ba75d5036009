"""`facecraft serve`: the HTTP API under uvicorn."""

from __future__ import annotations

import argparse
import subprocess
import sys
from typing import Any

from facecraft.config import Role, Settings


def register(commands: Any) -> None:
    parser = commands.add_parser("serve", help="Run the HTTP API (settings from FACECRAFT_* variables).")
    parser.add_argument("--host", help="Bind address (default FACECRAFT_HOST).")
    parser.add_argument("--port", type=int, help="Port (default FACECRAFT_PORT).")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from facecraft.cli.main import settings_or_exit  # noqa: PLC0415
    from facecraft.runtime.memory import limit_malloc_arenas  # noqa: PLC0415

    limit_malloc_arenas()  # before any worker thread exists (runtime/memory.py says why)
    settings = settings_or_exit()
    if settings.queue_url and settings.role is Role.WORKER:
        # The same image runs as a worker with FACECRAFT_ROLE=worker and its usual command.
        from facecraft.cli import worker_cmd  # noqa: PLC0415

        return worker_cmd.run(argparse.Namespace(concurrency=None))
    helper = None
    if settings.queue_url and settings.role is Role.ALL:
        # One container that is a whole queue-mode service: the API plus one worker process.
        helper = subprocess.Popen([sys.executable, "-m", "facecraft.cli.main", "worker"])
    try:
        _serve(args, settings)
    finally:
        if helper is not None:
            helper.terminate()
            helper.wait(timeout=60)
    return 0


def _serve(args: argparse.Namespace, settings: Settings) -> None:
    import uvicorn  # noqa: PLC0415

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
