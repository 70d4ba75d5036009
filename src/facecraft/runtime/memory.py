"""Bound glibc's heap arenas in the long-running processes (`facecraft serve`, `facecraft worker`).

glibc gives each thread that finds the heap busy an arena of its own, and the freed decode and matte buffers stay
mapped in every one of them: with 8 concurrent 12 MP uploads (MAX_CONCURRENT_JOBS=2) the server peaked at
1057 MB with 64 arenas and 958 MB with 2 (benchmarks/phone_bench.py, 2026-11-30; README). The images set
MALLOC_ARENA_MAX=2 in their environment; a server started without Docker gets the same bound here, before it
starts its worker threads. A MALLOC_ARENA_MAX the user set is left alone (glibc has applied it already).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from collections.abc import MutableMapping

DEFAULT_ARENAS = 2
_M_ARENA_MAX = -8  # mallopt's parameter number, from glibc's <malloc.h>


def limit_malloc_arenas(environ: MutableMapping[str, str] | None = None) -> int | None:
    """Apply MALLOC_ARENA_MAX to this process (DEFAULT_ARENAS unless `environ` sets one) and to the processes it
    starts; return the bound in force, or None where the C library is not glibc (musl, macOS) or the value is not a
    number."""
    environ = os.environ if environ is None else environ
    given = environ.get("MALLOC_ARENA_MAX")
    if given is not None:
        return int(given) if given.strip().isdigit() else None
    libc = _glibc()
    if libc is None or libc.mallopt(_M_ARENA_MAX, DEFAULT_ARENAS) != 1:
        return None
    environ["MALLOC_ARENA_MAX"] = str(DEFAULT_ARENAS)  # uvicorn's worker processes and `serve`'s queue worker
    return DEFAULT_ARENAS


def _glibc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
    except OSError:
        return None
    # Only glibc has gnu_get_libc_version; musl's mallopt is a stub, and other C libraries number it otherwise.
    return libc if hasattr(libc, "gnu_get_libc_version") and hasattr(libc, "mallopt") else None
