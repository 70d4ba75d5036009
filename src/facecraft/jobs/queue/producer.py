"""The producer side of queue mode: the API's `Runner` when FACECRAFT_QUEUE_URL is set.

`QueueRunner` puts the upload in Redis, enqueues a message with the job id, options and formats only,
and waits for the worker's "done" signal (BLPOP with a short timeout, re-reading the job hash between
waits, so a lost signal costs at most a second). It never loads models. The worker side is
worker.py; the keys both use are in redis_store.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any

import redis
import redis.asyncio as aioredis

from facecraft.config import OutputFormat, Settings
from facecraft.errors import FacecraftError, JobTimeoutError, QueueFullError, QueueUnavailableError
from facecraft.jobs import processing
from facecraft.jobs.processing import Outcome, ProcessResult
from facecraft.jobs.queue import broker
from facecraft.jobs.queue.redis_store import (
    STATS_KEY,
    WORKER_PREFIX,
    RedisJobStore,
    client_options,
    connect,
    data_url,
    decode_hash,
    done_key,
    input_key,
    job_key,
    redis_errors,
    status_from_hash,
)
from facecraft.jobs.runner import Runner
from facecraft.jobs.status import DONE, FINAL_STATES, QUEUED, JobStatus
from facecraft.pipeline.encode import EncodedImage
from facecraft.pipeline.options import PortraitOptions


class QueueRunner(Runner):
    """Queue mode: uploads and results in Redis, work on `facecraft worker` processes."""

    remote = True
    batch_width = 1000

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.queue_client: redis.Redis = connect(settings.queue_url)
        self.data: redis.Redis = connect(data_url(settings.queue_url))
        self.adata: redis.asyncio.Redis = aioredis.Redis.from_url(data_url(settings.queue_url), **client_options())
        self.store = RedisJobStore(self.data, settings.result_ttl_seconds)
        self._broker: Any = None
        # An upload waits at most 15 min, and never longer than its job record lives.
        self.input_ttl = min(900, settings.result_ttl_seconds, max(60, int(settings.job_timeout_seconds * 2)))
        self.snapshot: dict[str, Any] = {}

    @property
    def message_broker(self) -> Any:
        if self._broker is None:
            self._broker = broker.make_broker(self.settings)
        return self._broker

    def require_ready(self) -> None:
        return None  # Redis trouble shows up as a 503 from the first command that needs it

    async def check_capacity(self, jobs: int = 1) -> None:

        def depth() -> int:
            with redis_errors():
                return int(broker.queue_depth(self.queue_client))

        waiting = await asyncio.to_thread(depth)
        if waiting + jobs > self.settings.queue_max_depth:
            raise QueueFullError(
                f"{waiting} jobs are waiting (limit {self.settings.queue_max_depth}); retry shortly.",
                retry_after=max(1, min(60, waiting // 4)),
            )

    def _enqueue(
        self,
        data: bytes,
        options: PortraitOptions,
        formats: list[str],
        fields: dict[str, str],
    ) -> str:

        kind = fields.pop("kind", "single")
        job_id = self.store.create(kind, fields={"state": QUEUED, **fields})
        try:
            with redis_errors():
                self.data.set(input_key(job_id), data, ex=self.input_ttl)
                broker.enqueue(self.message_broker, job_id, options.model_dump(mode="json"), formats)
        except FacecraftError:
            with contextlib.suppress(Exception):
                self.data.delete(job_key(job_id), input_key(job_id))
            raise
        return job_id

    async def _start(
        self,
        data: bytes,
        options: PortraitOptions,
        formats: list[str],
        fields: dict[str, str] | None = None,
        *,
        check: bool = True,
    ) -> str:
        if check:
            await self.check_capacity()
        return await asyncio.to_thread(self._enqueue, data, options, formats, dict(fields or {}))

    async def _wait(self, job_id: str) -> JobStatus:

        deadline = time.monotonic() + self.settings.job_timeout_seconds
        try:
            while True:
                status = await self._status(job_id)  # batch items too
                if status is None:
                    raise QueueUnavailableError("The job was lost (the queue restarted); retry.", retry_after=5)
                if status.state in FINAL_STATES:
                    return status
                left = deadline - time.monotonic()
                if left <= 0:
                    raise JobTimeoutError(
                        f"No worker finished the job within {self.settings.job_timeout_seconds:g} s; "
                        f"it may still finish: GET /api/v1/jobs/{job_id}.",
                        job_id=job_id,
                    )
                await self.adata.blpop([done_key(job_id)], timeout=max(0.05, min(1.0, left)))
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise QueueUnavailableError("The job queue is unavailable; retry shortly.", retry_after=5) from exc

    def _outcome(self, job_id: str, status: JobStatus, formats: list[str], item: int | None = None) -> Outcome:
        if status.state != DONE:
            raise FacecraftError.from_code(status.code, status.message)
        meta = status.meta
        result = ProcessResult.model_validate(meta["result"])
        quality: dict[str, int | None] = meta.get("jpeg_quality", {})  # type: ignore[assignment]
        images: dict[OutputFormat, EncodedImage] = {}
        for fmt in meta.get("formats", formats):  # type: ignore[attr-defined]
            data = self.store.get_result(job_id, fmt, item)
            if data is None:
                raise QueueUnavailableError("The result expired before it could be read; retry.", retry_after=5)
            images[OutputFormat(fmt)] = EncodedImage(data, OutputFormat(fmt), quality.get(fmt))
        return Outcome(result, images)

    async def process_and_store(self, data: bytes, options: PortraitOptions) -> tuple[str, Outcome]:
        formats = [f.value for f in processing.stored_formats(options)]
        job_id = await self._start(data, options, formats)
        status = await self._wait(job_id)
        return job_id, await asyncio.to_thread(self._outcome, job_id, status, formats)

    async def process_image(self, data: bytes, options: PortraitOptions, formats: list[OutputFormat]) -> Outcome:
        names = [f.value for f in formats]
        job_id = await self._start(data, options, names)
        try:
            status = await self._wait(job_id)
            return await asyncio.to_thread(self._outcome, job_id, status, names)
        finally:
            with contextlib.suppress(FacecraftError):
                await asyncio.to_thread(self.store.delete, job_id)  # /quick keeps nothing

    async def process_batch_item(self, job_id: str, *, index: int, data: bytes, options: PortraitOptions) -> Outcome:
        formats = [f.value for f in processing.stored_formats(options)]
        item_id = await self._start(
            data, options, formats, {"kind": "item", "parent": job_id, "index": str(index)}, check=False
        )
        try:
            status = await self._wait(item_id)
            return await asyncio.to_thread(self._outcome, job_id, status, formats, index)
        finally:
            with contextlib.suppress(FacecraftError):
                await asyncio.to_thread(self.store.delete, item_id)

    async def submit(self, data: bytes, options: PortraitOptions, webhook_url: str | None) -> str:
        formats = [f.value for f in processing.stored_formats(options)]
        fields = {"async": "1", **({"webhook_url": webhook_url} if webhook_url else {})}
        return await self._start(data, options, formats, fields)

    async def job_status(self, job_id: str) -> JobStatus | None:
        """A job as clients may see it: batch items are internal (their batch is the job)."""
        status = await self._status(job_id)
        return None if status is None or status.kind == "item" else status

    async def _status(self, job_id: str) -> JobStatus | None:
        try:
            raw = await self.adata.hgetall(job_key(job_id))
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise QueueUnavailableError("The job queue is unavailable; retry shortly.", retry_after=5) from exc
        return status_from_hash(job_id, decode_hash(raw)) if raw else None

    async def ready_reason(self) -> tuple[str, str] | None:

        try:
            await self.adata.ping()
            info = await self.adata.info("memory")
        except (redis.ConnectionError, redis.TimeoutError):
            return "queue_unavailable", "Redis (FACECRAFT_QUEUE_URL) cannot be reached"
        limit, used = int(info.get("maxmemory", 0)), int(info.get("used_memory", 0))
        if limit and used >= limit * 0.98:
            return "storage_full", "Redis is full (maxmemory reached); jobs are refused until results expire"
        return None

    async def scale_status(self) -> dict[str, Any] | None:
        """Queue depth, live workers and the shared job counters; also cached for /metrics."""

        try:
            depth = await asyncio.to_thread(broker.queue_depth, self.queue_client)
            names = [k async for k in self.adata.scan_iter(match=WORKER_PREFIX + "*", count=100)]
            workers = [json.loads(v) for v in await self.adata.mget(names) if v] if names else []
            raw: dict[Any, Any] = await self.adata.hgetall(STATS_KEY)
            stats = {k.decode(): float(v) for k, v in raw.items()}
        except (redis.ConnectionError, redis.TimeoutError):
            self.snapshot = {"redis": "unreachable"}
            return self.snapshot
        finished = stats.get("jobs_finished", 0.0)
        failed = {k.split(":", 1)[1]: int(v) for k, v in stats.items() if k.startswith("jobs_failed:")}
        self.snapshot = {
            "mode": "queue",
            "redis": "ok",
            "queue_depth": depth,
            "queue_max_depth": self.settings.queue_max_depth,
            "workers_alive": len(workers),
            "workers": sorted(workers, key=lambda w: str(w.get("name"))),
            "jobs": {"done": int(stats.get("jobs_done", 0)), "failed": failed},
            "retries": int(stats.get("retries", 0)),
            "avg_wait_seconds": round(stats.get("wait_seconds_sum", 0.0) / finished, 3) if finished else None,
            "avg_run_seconds": round(stats.get("run_seconds_sum", 0.0) / finished, 3) if finished else None,
            "totals": stats,
        }
        return self.snapshot

    async def aclose(self) -> None:
        await self.adata.aclose()
        self.data.close()
        self.queue_client.close()
