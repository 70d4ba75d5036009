"""The bounded worker pool that all image work runs in.

Decoding, inference and encoding are CPU-bound and release the GIL in numpy/OpenCV/ONNX Runtime, so
threads give real parallelism while the event loop stays free for /health and downloads. Admission
is decided on the event loop: at most `workers` jobs run and `max_queued` wait; anything beyond is
refused at once with `BusyError` (HTTP 429 + Retry-After) instead of queueing without bound.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from facecraft.errors import BusyError

P = ParamSpec("P")
T = TypeVar("T")


class WorkerPool:
    def __init__(self, workers: int, max_queued: int) -> None:
        self.workers = workers
        self.max_queued = max_queued
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="facecraft-worker")
        self._pending = 0  # running + waiting
        self._lock = threading.Lock()

    @property
    def pending(self) -> int:
        return self._pending

    @property
    def running(self) -> int:
        return min(self._pending, self.workers)

    @property
    def queued(self) -> int:
        return max(0, self._pending - self.workers)

    def is_full(self) -> bool:
        return self._pending >= self.workers + self.max_queued

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run `fn` in a worker, refusing with BusyError when the queue is full."""
        with self._lock:
            if self.is_full():
                raise BusyError("The server is busy; retry shortly.", retry_after=self.retry_after())
            self._pending += 1
        return await self._submit(fn, *args, **kwargs)

    async def run_waiting(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run `fn` without the queue check: for items of a batch that was already admitted."""
        with self._lock:
            self._pending += 1
        return await self._submit(fn, *args, **kwargs)

    async def _submit(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        try:
            future = self._executor.submit(fn, *args, **kwargs)
        except BaseException:
            self._release()
            raise
        # Released when the work really ends, not when the awaiting request goes away: a client that
        # disconnects must not free a slot its job still occupies.
        future.add_done_callback(lambda _: self._release())
        return await asyncio.wrap_future(future)

    def _release(self) -> None:
        with self._lock:
            self._pending -= 1

    def retry_after(self) -> int:
        """Seconds a refused client should wait: roughly one queue's worth of typical jobs."""
        return max(1, 1 + self.queued // self.workers)

    def shutdown(self) -> None:
        """Let every accepted job finish (called at server shutdown)."""
        self._executor.shutdown(wait=True)
