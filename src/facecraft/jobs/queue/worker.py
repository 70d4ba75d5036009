"""`facecraft worker`: takes jobs from the Redis queue, runs the pipeline, stores the results.

Start-up loads, verifies (SHA-256) and warms the models before the first message is fetched, so a
worker with a broken install never takes a job. Each of FACECRAFT_WORKER_CONCURRENCY dramatiq threads
runs one job at a time; the consumer prefetches no more than that, so a busy worker never sits on
messages an idle one could run.

A job's life in the job hash (see redis_store): the worker counts an attempt before it touches the
upload, so when a photo kills the worker (OOM killer, a native crash) the rerun that dramatiq makes
after the heartbeat timeout sees the count; after FACECRAFT_JOB_ATTEMPTS starts the job fails with
`worker_crashed` instead of taking down one worker after another forever. A message delivered twice
for a job already finished is acknowledged and ignored.

Liveness: every worker keeps `fc:worker:<host>-<pid>` alive with a short TTL; /status counts them.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import threading
import time
from typing import TYPE_CHECKING, Any

import redis

from facecraft.config import OutputFormat, Settings
from facecraft.errors import FacecraftError
from facecraft.jobs.processing import Outcome, outcome_record, process_photo, store_outcome
from facecraft.jobs.queue import broker
from facecraft.jobs.queue.redis_store import (
    DONE_SIGNAL_TTL_SECONDS,
    STATS_KEY,
    WORKER_PREFIX,
    RedisJobStore,
    connect,
    data_url,
    done_key,
    input_key,
    job_key,
)
from facecraft.jobs.status import DONE, FAILED, FINAL_STATES, RUNNING
from facecraft.jobs.webhooks import deliver_in_background, job_payload
from facecraft.pipeline.options import PortraitOptions

if TYPE_CHECKING:
    from facecraft.pipeline.portrait import PortraitPipeline

log = logging.getLogger(__name__)

# Counts an attempt only while the job still exists (HINCRBY on a missing key would create one
# without a TTL); returns the new count, or -1 when the job expired or was deleted.
_START = """
if redis.call('exists', KEYS[1]) == 0 then return -1 end
return redis.call('hincrby', KEYS[1], 'attempts', 1)
"""


class JobWorker:
    """The per-process state the actor needs: pipeline, data-DB client, settings, identity."""

    def __init__(self, settings: Settings, pipeline: PortraitPipeline, data: redis.Redis) -> None:
        self.settings = settings
        self.pipeline = pipeline
        self.data = data
        self.store = RedisJobStore(data, settings.result_ttl_seconds)
        self.name = f"{socket.gethostname()}-{os.getpid()}"
        self.busy = 0
        self.done = 0
        self._start = data.register_script(_START)
        self._lock = threading.Lock()

    # --- the actor ----------------------------------------------------------------------------
    def process(self, upload: bytes, options: PortraitOptions, formats: list[OutputFormat]) -> Outcome:
        """The use case itself (a seam: the tests' fault-injecting worker wraps it)."""
        return process_photo(self.pipeline, upload, options, formats)

    def handle(self, job_id: str, options: dict[str, Any], formats: list[str]) -> None:
        with self._lock:
            self.busy += 1
        try:
            self._handle(job_id, options, formats)
        finally:
            with self._lock:
                self.busy -= 1

    def _handle(self, job_id: str, options: dict[str, Any], formats: list[str]) -> None:
        key = job_key(job_id)
        attempts = int(self._start(keys=[key]))
        if attempts < 0:
            log.info("job %s expired or was deleted before it ran", job_id)
            self.data.delete(input_key(job_id))
            return
        fields = {k.decode(): v.decode() for k, v in self.data.hgetall(key).items()}  # type: ignore[union-attr]
        if fields.get("state") in FINAL_STATES:
            return  # a second delivery of a finished job
        if attempts > 1:
            self.data.hincrby(STATS_KEY, "retries", 1)
        if attempts > self.settings.job_attempts:
            self._finish(
                job_id,
                fields,
                FAILED,
                code="worker_crashed",
                message=f"The job stopped its worker {attempts - 1} times and was given up.",
            )
            return
        started = time.time()
        fields["started_at"] = repr(started)
        self.data.hset(key, mapping={"state": RUNNING, "stage": "loading", "started_at": fields["started_at"]})
        self.data.hset(key, "worker", self.name)
        upload = self.data.get(input_key(job_id))
        if not isinstance(upload, bytes):
            self._finish(
                job_id, fields, FAILED, code="input_expired", message="The upload expired before a worker took it."
            )
            return
        try:
            self.data.hset(key, "stage", "processing")
            parsed = PortraitOptions.model_validate(options)
            outcome = self.process(upload, parsed, [OutputFormat(fmt) for fmt in formats])
            self.data.hset(key, "stage", "storing")
            target, item = fields.get("parent") or job_id, fields.get("index")
            store_outcome(self.store, target, outcome, int(item) if item is not None else None)
            meta = outcome_record(outcome)
        except FacecraftError as exc:
            self._finish(job_id, fields, FAILED, code=exc.code, message=exc.message)
            return
        except Exception:  # one bad job must never take the worker down; details stay in the log
            log.exception("job %s failed", job_id)
            self._finish(job_id, fields, FAILED, code="internal_error", message="Internal error while processing.")
            return
        self._finish(job_id, fields, DONE, meta=meta)

    def _finish(
        self,
        job_id: str,
        fields: dict[str, str],
        state: str,
        *,
        code: str | None = None,
        message: str | None = None,
        meta: dict[str, Any] | None = None,
    ) -> None:
        now = time.time()
        mapping: dict[Any, Any] = {"state": state, "stage": "", "finished_at": repr(now)}
        if code:
            mapping.update(code=code, message=message or code)
        if meta is not None:
            mapping["meta"] = json.dumps(meta)
        # The wake-up signal must not outlive the job (async jobs have nobody popping it).
        signal_ttl = max(1, min(DONE_SIGNAL_TTL_SECONDS, int(self.data.ttl(job_key(job_id)))))
        pipe = self.data.pipeline()
        pipe.hset(job_key(job_id), mapping=mapping)
        pipe.delete(input_key(job_id))
        pipe.rpush(done_key(job_id), state)
        pipe.expire(done_key(job_id), signal_ttl)
        pipe.hincrby(STATS_KEY, f"jobs_{state}" if state == DONE else f"jobs_failed:{code}", 1)
        enqueued = float(fields.get("created_at") or now)
        started = float(fields.get("started_at") or 0) or None
        pipe.hincrbyfloat(STATS_KEY, "wait_seconds_sum", max(0.0, (started or now) - enqueued))
        pipe.hincrbyfloat(STATS_KEY, "run_seconds_sum", max(0.0, now - started) if started else 0.0)
        pipe.hincrby(STATS_KEY, "jobs_finished", 1)
        pipe.execute()
        with self._lock:
            self.done += 1
        url = fields.get("webhook_url")
        if url:
            deliver_in_background(url, job_payload(job_id, state, code, message, meta), self.settings)

    # --- liveness -----------------------------------------------------------------------------
    def heartbeat_forever(self, stop: threading.Event, period: float) -> None:
        while not stop.is_set():
            info = {
                "name": self.name,
                "busy": self.busy,
                "done": self.done,
                "threads": self.settings.worker_concurrency,
            }
            try:
                self.data.set(WORKER_PREFIX + self.name, json.dumps(info), ex=max(2, int(period * 3)))
            except redis.RedisError as exc:
                log.warning("worker heartbeat failed: %s", exc)
            stop.wait(period)
        with contextlib.suppress(redis.RedisError):
            self.data.delete(WORKER_PREFIX + self.name)


def run_worker(settings: Settings, pipeline: PortraitPipeline | None = None) -> int:
    """Load the models, then take jobs until SIGTERM or SIGINT; returns the exit status."""
    import dramatiq  # noqa: PLC0415  (queue mode only)

    if not settings.queue_url:
        log.error("facecraft worker needs FACECRAFT_QUEUE_URL (a Redis URL)")
        return 2
    if pipeline is None:
        from facecraft.pipeline.factory import build_pipeline  # noqa: PLC0415

        start = time.perf_counter()
        try:
            pipeline = build_pipeline(settings)  # verifies every model's SHA-256 first
            pipeline.warm_up()
        except FacecraftError as exc:
            log.error("models failed to load: %s", exc.message)
            return 1
        log.info("worker: models verified, loaded and warmed up in %.1f s", time.perf_counter() - start)
    data = connect(data_url(settings.queue_url))
    job_worker = JobWorker(settings, pipeline, data)
    message_broker = broker.make_broker(settings)
    dramatiq.actor(broker=message_broker, actor_name=broker.ACTOR_NAME, queue_name=broker.QUEUE_NAME)(job_worker.handle)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    period = max(1.0, settings.queue_heartbeat_timeout_seconds / 3)
    beat = threading.Thread(target=job_worker.heartbeat_forever, args=(stop, period), daemon=True)
    beat.start()
    # An idle dramatiq consumer backs off exponentially up to worker_timeout between fetches; at the default
    # 1000 ms a new job waited ~0.6 s (median) before a worker took it. 100 ms costs an idle worker about
    # ten cheap Redis fetches a second.
    worker = dramatiq.Worker(message_broker, worker_threads=settings.worker_concurrency, worker_timeout=100)
    worker.queue_prefetch = settings.worker_concurrency
    worker.start()
    log.info("worker %s: taking jobs (%d threads)", job_worker.name, settings.worker_concurrency)
    stop.wait()
    log.info("worker %s: stopping after the jobs in hand", job_worker.name)
    worker.stop(timeout=int(settings.job_timeout_seconds * 1000))
    beat.join(timeout=5)
    return 0
