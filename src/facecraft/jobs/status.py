"""The life of an asynchronous or queued job, as clients see it.

    queued -> running (stage) -> done
                               -> failed (code)

Both backends report the same `JobStatus`: the embedded one keeps it in memory (lost on restart,
like its pool), the queue one in a Redis hash that every API replica can read.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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
