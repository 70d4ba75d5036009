"""Where the routes' image work runs, behind one interface: `Runner`.

The routes call one `Runner` and never learn which backend answers. `EmbeddedRunner` (here) is the
original behaviour: the bounded local pool, the local disk store, and in-memory status for
asynchronous jobs. `QueueRunner` (jobs/queue/producer.py) hands the work to `facecraft worker`
processes through Redis. Both run the same use case, jobs/processing.py.
"""

from __future__ import annotations

import asyncio
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

from facecraft.config import OutputFormat, Settings
from facecraft.errors import BusyError, FacecraftError
from facecraft.jobs import processing
from facecraft.jobs.processing import Outcome, outcome_record
from facecraft.jobs.status import DONE, FAILED, FINAL_STATES, QUEUED, RUNNING, JobStatus
from facecraft.jobs.store import JobStore
from facecraft.jobs.webhooks import deliver_in_background, job_payload
from facecraft.pipeline.options import PortraitOptions
from facecraft.pipeline.portrait import PortraitPipeline
from facecraft.runtime.pool import WorkerPool

log = logging.getLogger(__name__)


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

        try:
            outcome = await self.pool.run_waiting(job)
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
                webhook,
                job_payload(status.job_id, status.state, status.code, status.message, status.meta),
                self.settings,
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
