"""`facecraft worker`: a queue-mode worker (FACECRAFT_QUEUE_URL must point at Redis)."""

from __future__ import annotations

import argparse
from typing import Any


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "worker", help="Take jobs from the Redis queue (FACECRAFT_QUEUE_URL); loads the models first."
    )
    parser.add_argument("--concurrency", type=int, help="Jobs at once (default FACECRAFT_WORKER_CONCURRENCY).")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from facecraft.cli.main import settings_or_exit  # noqa: PLC0415
    from facecraft.jobs.queue.worker import run_worker  # noqa: PLC0415
    from facecraft.logs import configure_logging  # noqa: PLC0415
    from facecraft.runtime.memory import limit_malloc_arenas  # noqa: PLC0415

    limit_malloc_arenas()  # before any worker thread exists (runtime/memory.py says why)
    settings = settings_or_exit()
    if args.concurrency:
        settings = settings.model_copy(update={"worker_concurrency": args.concurrency})
    configure_logging(settings)
    return run_worker(settings)
