"""Where the routes' image work runs: here (embedded) or on queue workers (FACECRAFT_QUEUE_URL).

The routes call one `Runner` and never learn which backend answers. `EmbeddedRunner` is the
original behaviour: the bounded local pool, the local disk store, and in-memory status for
asynchronous jobs. `QueueRunner` puts the upload in Redis, enqueues a message with the job id and
options only, and waits for the worker's "done" signal (BLPOP with a short timeout, re-reading the
job hash between waits, so a lost signal costs at most a second). It never loads models.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from facecraft.config import OutputFormat, Settings
from facecraft.errors import FacecraftError
from facecraft.jobs import processing
from facecraft.jobs.processing import Outcome, ProcessResult, outcome_record
from facecraft.jobs.status import (
    DONE,
    ERRORS_BY_CODE,
    FAILED,
    FINAL_STATES,
    QUEUED,
    RUNNING,
    InternalJobError,
    JobStatus,
    JobTimeoutError,
    QueueFullError,
    QueueUnavailableError,
)
from facecraft.jobs.store import JobStore
from facecraft.jobs.webhooks import deliver_in_background, job_payload
from facecraft.pipeline.encode import EncodedImage
from facecraft.pipeline.options import PortraitOptions
from facecraft.pipeline.portrait import PortraitPipeline
from facecraft.runtime.pool import BusyError, WorkerPool

if TYPE_CHECKING:
    import redis
    import redis.asyncio

log = logging.getLogger(__name__)


def error_from(code: str | None, message: str | None, **details: Any) -> FacecraftError:
    """Rebuild the error a worker reported, keeping its stable code."""
    from facecraft import errors as core  # noqa: PLC0415

    known: dict[str, type[FacecraftError]] = dict(ERRORS_BY_CODE)
    for value in vars(core).values():
        if isinstance(value, type) and issubclass(value, FacecraftError):
            known.setdefault(value.code, value)
    cls = known.get(code or "", InternalJobError)
    return cls(message or "The job failed.", **details)


class Runner(ABC):
    remote = False
    batch_width = 1

    @abstractmethod
    def require_ready(self) -> None:
        """Raise the 503 a request should get before its upload is even read."""

    @abstractmethod
    async def check_capacity(self, jobs: int = 1) -> None:
        """Raise BusyError / QueueFullError when `jobs` more would not be admitted."""

    @abstractmethod
    async def process_and_store(self, data: bytes, options: PortraitOptions) -> tuple[str, Outcome]: ...

    @abstractmethod
    async def process_image(self, data: bytes, options: PortraitOptions, formats: list[OutputFormat]) -> Outcome: ...

    @abstractmethod
    async def process_batch_item(
        self, job_id: str, *, index: int, data: bytes, options: PortraitOptions
    ) -> Outcome: ...

    @abstractmethod
    async def submit(self, data: bytes, options: PortraitOptions, webhook_url: str | None) -> str:
        """Accept an asynchronous job; returns its id at once."""

    @abstractmethod
    async def job_status(self, job_id: str) -> JobStatus | None: ...

    async def ready_reason(self) -> tuple[str, str] | None:
        return None

    async def scale_status(self) -> dict[str, Any] | None:
        return None

    async def aclose(self) -> None:
        return None


class EmbeddedRunner(Runner):
    """One process: the local pool and store; asynchronous jobs' status kept in memory."""

    def __init__(
        self, settings: Settings, pool: WorkerPool, store: JobStore, pipeline: Callable[[], PortraitPipeline]
    ) -> None:
        self.settings = settings
        self.pool = pool
        self.store = store
        self.pipeline = pipeline
        self.batch_width = pool.workers
        self._jobs: dict[str, JobStatus] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def require_ready(self) -> None:
        self.pipeline()

    async def check_capacity(self, jobs: int = 1) -> None:
        if self.pool.is_full():
            raise BusyError("The server is busy; retry shortly.", retry_after=self.pool.retry_after())

    async def process_and_store(self, data: bytes, options: PortraitOptions) -> tuple[str, Outcome]:
        return await self.pool.run(processing.process_and_store, self.pipeline(), self.store, data, options)

    async def process_image(self, data: bytes, options: PortraitOptions, formats: list[OutputFormat]) -> Outcome:
        return await self.pool.run(processing.process_photo, self.pipeline(), data, options, formats)

    async def process_batch_item(self, job_id: str, *, index: int, data: bytes, options: PortraitOptions) -> Outcome:
        return await self.pool.run_waiting(
            processing.process_into_job, self.pipeline(), self.store, job_id, data, options, index
        )

    async def submit(self, data: bytes, options: PortraitOptions, webhook_url: str | None) -> str:
        pipeline = self.pipeline()
        await self.check_capacity()
        job_id = await asyncio.to_thread(self.store.create, "single")
        status = JobStatus(job_id, QUEUED, created_at=time.time(), is_async=True)
        self._forget_old()
        self._jobs[job_id] = status
        task = asyncio.create_task(self._run(status, pipeline, data, options, webhook_url))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return job_id

    async def _run(
        self, status: JobStatus, pipeline: PortraitPipeline, data: bytes, options: PortraitOptions, webhook: str | None
    ) -> None:
        def job() -> Outcome:
            status.state, status.stage, status.started_at, status.attempts = RUNNING, "processing", time.time(), 1
            return processing.process_into_job(pipeline, self.store, status.job_id, data, options)

        formats: list[str] = []
        try:
            outcome = await self.pool.run_waiting(job)
            formats = [fmt.value for fmt in outcome.images]
            status.meta = outcome_record(outcome)
            status.state = DONE
        except FacecraftError as exc:
            status.state, status.code, status.message = FAILED, exc.code, exc.message
        except Exception:
            log.exception("job %s failed", status.job_id)
            status.state, status.code, status.message = FAILED, "internal_error", "Internal error while processing."
        status.stage, status.finished_at = None, time.time()
        if webhook:
            deliver_in_background(
                webhook, job_payload(status.job_id, status.state, status.code, status.message, formats), self.settings
            )

    def _forget_old(self) -> None:
        horizon = time.time() - self.settings.cleanup_age_hours * 3600
        for job_id in [j for j, s in self._jobs.items() if s.created_at < horizon and s.state in FINAL_STATES]:
            del self._jobs[job_id]

    async def job_status(self, job_id: str) -> JobStatus | None:
        return self._jobs.get(job_id)

    async def aclose(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


class QueueRunner(Runner):
    """Queue mode: uploads and results in Redis, work on `facecraft worker` processes."""

    remote = True
    batch_width = 1000

    def __init__(self, settings: Settings) -> None:
        import redis.asyncio as aioredis  # noqa: PLC0415

        from facecraft.jobs import queue  # noqa: PLC0415  (imports dramatiq lazily, queue mode only)
        from facecraft.jobs.redis_store import RedisJobStore, client_options, connect, data_url  # noqa: PLC0415

        self.settings = settings
        self.queue = queue
        self.queue_client: redis.Redis = connect(settings.queue_url)
        self.data: redis.Redis = connect(data_url(settings.queue_url))
        self.adata: redis.asyncio.Redis = aioredis.Redis.from_url(data_url(settings.queue_url), **client_options())
        self.store = RedisJobStore(self.data, settings.result_ttl_seconds)
        self._broker: Any = None
        # An upload waits at most 15 min, and never longer than its job record lives.
        self.input_ttl = min(900, settings.result_ttl_seconds, max(60, int(settings.job_timeout_seconds * 2)))
        self.snapshot: dict[str, Any] = {}

    @property
    def broker(self) -> Any:
        if self._broker is None:
            self._broker = self.queue.make_broker(self.settings)
        return self._broker

    def require_ready(self) -> None:
        return None  # Redis trouble shows up as a 503 from the first command that needs it

    async def check_capacity(self, jobs: int = 1) -> None:
        from facecraft.jobs.redis_store import redis_errors  # noqa: PLC0415

        def depth() -> int:
            with redis_errors():
                return int(self.queue.queue_depth(self.queue_client))

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
        from facecraft.jobs.redis_store import input_key, job_key, redis_errors  # noqa: PLC0415

        kind = fields.pop("kind", "single")
        job_id = self.store.create(kind, fields={"state": QUEUED, **fields})
        try:
            with redis_errors():
                self.data.set(input_key(job_id), data, ex=self.input_ttl)
                self.queue.enqueue(self.broker, job_id, options.model_dump(mode="json"), formats)
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
        import redis as sync_redis  # noqa: PLC0415

        from facecraft.jobs.redis_store import done_key  # noqa: PLC0415

        deadline = time.monotonic() + self.settings.job_timeout_seconds
        try:
            while True:
                status = await self.job_status(job_id)
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
        except (sync_redis.ConnectionError, sync_redis.TimeoutError) as exc:
            raise QueueUnavailableError("The job queue is unavailable; retry shortly.", retry_after=5) from exc

    def _outcome(self, job_id: str, status: JobStatus, formats: list[str], item: int | None = None) -> Outcome:
        if status.state != DONE:
            raise error_from(status.code, status.message)
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
        import redis as sync_redis  # noqa: PLC0415

        from facecraft.jobs.redis_store import decode_hash, job_key, status_from_hash  # noqa: PLC0415

        try:
            raw = await self.adata.hgetall(job_key(job_id))
        except (sync_redis.ConnectionError, sync_redis.TimeoutError) as exc:
            raise QueueUnavailableError("The job queue is unavailable; retry shortly.", retry_after=5) from exc
        if not raw or decode_hash(raw).get("kind") == "item":
            return None
        return status_from_hash(job_id, decode_hash(raw))

    async def ready_reason(self) -> tuple[str, str] | None:
        import redis as sync_redis  # noqa: PLC0415

        try:
            await self.adata.ping()
            info = await self.adata.info("memory")
        except (sync_redis.ConnectionError, sync_redis.TimeoutError):
            return "queue_unavailable", "Redis (FACECRAFT_QUEUE_URL) cannot be reached"
        limit, used = int(info.get("maxmemory", 0)), int(info.get("used_memory", 0))
        if limit and used >= limit * 0.98:
            return "storage_full", "Redis is full (maxmemory reached); jobs are refused until results expire"
        return None

    async def scale_status(self) -> dict[str, Any] | None:
        """Queue depth, live workers and the shared job counters; also cached for /metrics."""
        import redis as sync_redis  # noqa: PLC0415

        from facecraft.jobs.redis_store import STATS_KEY, WORKER_PREFIX  # noqa: PLC0415

        try:
            depth = await asyncio.to_thread(self.queue.queue_depth, self.queue_client)
            names = [k async for k in self.adata.scan_iter(match=WORKER_PREFIX + "*", count=100)]
            workers = [json.loads(v) for v in await self.adata.mget(names) if v] if names else []
            raw: dict[Any, Any] = await self.adata.hgetall(STATS_KEY)
            stats = {k.decode(): float(v) for k, v in raw.items()}
        except (sync_redis.ConnectionError, sync_redis.TimeoutError):
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


class ScaleCollector:
    """Queue-mode figures for /metrics, from the snapshot the /metrics route refreshes first."""

    def __init__(self, runner: QueueRunner) -> None:
        self.runner = runner

    def collect(self) -> Any:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily  # noqa: PLC0415

        snap = self.runner.snapshot
        up = GaugeMetricFamily("facecraft_queue_redis_up", "1 when Redis answered the last /metrics scrape.")
        up.add_metric([], 1.0 if snap.get("redis") == "ok" else 0.0)
        yield up
        if snap.get("redis") != "ok":
            return
        depth = GaugeMetricFamily("facecraft_queue_depth", "Jobs waiting in the queue.")
        depth.add_metric([], float(snap["queue_depth"]))
        yield depth
        alive = GaugeMetricFamily("facecraft_workers_alive", "Worker processes with a live heartbeat.")
        alive.add_metric([], float(snap["workers_alive"]))
        yield alive
        totals: dict[str, float] = snap["totals"]
        jobs = CounterMetricFamily("facecraft_queue_jobs", "Queued jobs by final state and code.", labels=["state"])
        jobs.add_metric(["done"], totals.get("jobs_done", 0.0))
        for key, value in totals.items():
            if key.startswith("jobs_failed:"):
                jobs.add_metric([key.split(":", 1)[1]], value)
        yield jobs
        retries = CounterMetricFamily("facecraft_queue_retries", "Job starts after a worker died mid-job.")
        retries.add_metric([], totals.get("retries", 0.0))
        yield retries
        for name, key, text in (
            ("facecraft_queue_wait_seconds", "wait_seconds_sum", "Seconds jobs waited for a worker, summed."),
            ("facecraft_queue_run_seconds", "run_seconds_sum", "Seconds workers spent on jobs, summed."),
        ):
            family = CounterMetricFamily(name, text)
            family.add_metric([], totals.get(key, 0.0))
            yield family
        finished = CounterMetricFamily("facecraft_queue_jobs_finished", "Jobs that reached a final state.")
        finished.add_metric([], totals.get("jobs_finished", 0.0))
        yield finished
