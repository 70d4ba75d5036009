"""Atomic file writes: a reader sees the old file, or the whole new one, never half of it.

Used for results (jobs), CLI outputs and fetched models alike; imports nothing of ours.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(target: Path, data: bytes, mode: int | None = None) -> None:
    """Write to a temporary file in the same folder, flush it to disk, then rename it over `target`.

    `mode` defaults to the usual umask-based permissions (mkstemp alone would leave the file 0600).
    """
    fd, temp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        if mode is None:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        Path(temp_name).replace(target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
