"""The life of an asynchronous or queued job, as clients see it, and the errors of queue mode.

    queued -> running (stage) -> done
                               -> failed (code)

Both backends report the same `JobStatus`: the embedded one keeps it in memory (lost on restart,
like its pool), the queue one in a Redis hash that every API replica can read.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from facecraft.errors import FacecraftError

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
FINAL_STATES = frozenset({DONE, FAILED})


@dataclass
class JobStatus:
    job_id: str
    state: str
    kind: str = "single"
    stage: str | None = None
    code: str | None = None  # error code when failed
    message: str | None = None
    attempts: int = 0
    created_at: float = 0.0
    started_at: float | None = None
    finished_at: float | None = None
    is_async: bool = False  # submitted through POST /api/v1/jobs
    meta: dict[str, object] = field(default_factory=dict)  # face_count, face_box, size, timings when done


class QueueUnavailableError(FacecraftError):
    """Redis cannot be reached (down, restarting, network)."""

    code = "queue_unavailable"


class QueueFullError(FacecraftError):
    """More jobs wait than FACECRAFT_QUEUE_MAX_DEPTH allows."""

    code = "queue_full"


class WorkerCrashedError(FacecraftError):
    """The job killed its worker FACECRAFT_JOB_ATTEMPTS times (or the worker died every time)."""

    code = "worker_crashed"


class JobTimeoutError(FacecraftError):
    """No worker finished the job within FACECRAFT_JOB_TIMEOUT_SECONDS; it may still finish later."""

    code = "job_timeout"


class InputExpiredError(FacecraftError):
    """The upload expired in Redis before a worker took the job (queue stalled for too long)."""

    code = "input_expired"


class InternalJobError(FacecraftError):
    code = "internal_error"


ERRORS_BY_CODE: dict[str, type[FacecraftError]] = {
    cls.code: cls
    for cls in (QueueUnavailableError, QueueFullError, WorkerCrashedError, JobTimeoutError, InputExpiredError)
}
