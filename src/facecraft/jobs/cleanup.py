"""Removing what a running server no longer needs.

The original cleaned up once at start-up and never again, so a long-running container kept every
result; here expired jobs are removed periodically while the server runs, and start-up clears what a
crash can leave behind (half-written `*.part` files, uploads from an older version that spooled them
to disk). A failure to remove one file is logged and never stops start-up or the loop.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

from facecraft.jobs.store import JobStore

log = logging.getLogger(__name__)


def remove_leftovers(upload_dir: Path, output_dir: Path) -> int:
    """Delete temp files from interrupted writes and every stale upload; return how many went."""
    removed = 0
    candidates = list(output_dir.rglob("*.part")) if output_dir.is_dir() else []
    if upload_dir.is_dir():
        # Uploads are held in memory now, so anything in the upload folder predates this process.
        candidates += [p for p in upload_dir.rglob("*") if p.is_file()]
    for path in candidates:
        try:
            path.unlink()
            removed += 1
        except OSError as exc:
            log.warning("could not remove leftover file: %s", exc.strerror)
    return removed


def remove_expired(store: JobStore) -> int:
    try:
        return store.cleanup(time.time())
    except OSError as exc:
        log.warning("cleanup failed: %s", exc.strerror)
        return 0


async def run_periodically(store: JobStore, interval_seconds: float) -> None:
    """Remove expired jobs every `interval_seconds` until cancelled; file work runs in a thread."""
    while True:
        await asyncio.sleep(interval_seconds)
        removed = await asyncio.to_thread(remove_expired, store)
        if removed:
            log.info("removed %d expired jobs", removed)
