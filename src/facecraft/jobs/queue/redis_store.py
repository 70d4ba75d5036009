"""Uploads, results and job status in Redis, so that any API replica can answer for any job.

Imported only in queue mode (FACECRAFT_QUEUE_URL set). The data lives in its own Redis DB, the one
after the queue's (queue on db 0 -> data on db 1): dramatiq's maintenance runs KEYS over the queue DB,
and keeping megabytes of images out of it keeps that cheap. Every key has a TTL, so nothing outlives
its job even when a worker or an API replica dies half-way.

    fc:in:<id>                  the upload (bytes), EX 15 min at most; deleted by the worker when done
    fc:job:<id>                 hash: kind, state, stage, code, attempts, times, meta, formats; EX result TTL
    fc:out:<id>[:<item>]:<fmt>  a result (bytes); expires with its job
    fc:done:<id>                list the worker pushes to when the job ends (wakes the waiting API); EX 60 s
    fc:worker:<name>            liveness of one worker process, refreshed every few seconds; EX 3 periods
    fc:stats                    counters shared by all workers (jobs by final state, retries, wait/run time)

Redis runs with `maxmemory-policy noeviction`: when it is full a write fails (storage_full) instead of
Redis silently dropping someone's queued job or result.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from facecraft.errors import QueueUnavailableError, StorageFullError
from facecraft.jobs.ids import is_job_id, new_job_id
from facecraft.jobs.status import DONE, FINAL_STATES, JobStatus
from facecraft.jobs.store import ARTEFACTS, JobInfo, JobStore

INPUT_TTL_MAX_SECONDS = 900
DONE_SIGNAL_TTL_SECONDS = 60
STATS_KEY = "fc:stats"
WORKER_PREFIX = "fc:worker:"


def job_key(job_id: str) -> str:
    return f"fc:job:{job_id}"


def input_key(job_id: str) -> str:
    return f"fc:in:{job_id}"


def done_key(job_id: str) -> str:
    return f"fc:done:{job_id}"


def output_key(job_id: str, artefact: str, item: int | None = None) -> str:
    return f"fc:out:{job_id}:{artefact}" if item is None else f"fc:out:{job_id}:{item}:{artefact}"


def data_url(queue_url: str) -> str:
    """The queue URL with the next DB number: redis://h:6379/0 -> redis://h:6379/1."""
    parts = urlsplit(queue_url)
    path = parts.path.strip("/")
    db = int(path) if path.isdigit() else 0
    return urlunsplit((parts.scheme, parts.netloc, f"/{db + 1}", parts.query, parts.fragment))


def client_options() -> dict[str, Any]:
    """Fail fast: a request must get its 503 within a second or two, not after minutes of retries."""
    return {
        "socket_connect_timeout": 2,
        "socket_timeout": 10,
        "health_check_interval": 15,
        "retry": Retry(ExponentialBackoff(cap=0.2, base=0.05), 1),
    }


def connect(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, **client_options())


@contextlib.contextmanager
def redis_errors() -> Iterator[None]:
    """Redis failures as the two errors a client can act on: retry later, or the store is full."""
    try:
        yield
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        raise QueueUnavailableError("The job queue is unavailable; retry shortly.", retry_after=5) from exc
    except redis.ResponseError as exc:
        if str(exc).startswith("OOM"):
            raise StorageFullError("The job store is full; retry later.", retry_after=30) from exc
        raise


def decode_hash(raw: dict[Any, Any]) -> dict[str, str]:
    return {k.decode(): v.decode() for k, v in raw.items()}


def status_from_hash(job_id: str, fields: dict[str, str]) -> JobStatus:
    def number(name: str) -> float | None:
        value = fields.get(name)
        return float(value) if value else None

    return JobStatus(
        job_id=job_id,
        state=fields.get("state", DONE),
        kind=fields.get("kind", "single"),
        stage=fields.get("stage") or None,
        code=fields.get("code") or None,
        message=fields.get("message") or None,
        attempts=int(fields.get("attempts", "0")),
        created_at=number("created_at") or 0.0,
        started_at=number("started_at"),
        finished_at=number("finished_at"),
        is_async=fields.get("async") == "1",
        meta=json.loads(fields["meta"]) if fields.get("meta") else {},
    )


class RedisJobStore(JobStore):
    """`JobStore` on Redis: the same methods the routes already use with `FileJobStore`."""

    def __init__(self, client: redis.Redis, ttl_seconds: float) -> None:
        self.client = client
        self.ttl_seconds = int(ttl_seconds)

    def create(
        self,
        kind: str,
        item_count: int = 0,
        *,
        result: dict[str, Any] | None = None,
        fields: dict[str, str] | None = None,
    ) -> str:
        job_id = new_job_id()
        now = time.time()
        fields = fields or {}
        if result is not None:
            fields = {**fields, "meta": json.dumps({"result": result})}
        mapping: dict[Any, Any] = {
            "kind": kind,
            "created_at": repr(now),
            "expires_at": repr(now + self.ttl_seconds),
            "items": str(item_count),
            "state": DONE if kind == "batch" else fields.get("state", DONE),
            **fields,
        }
        with redis_errors():
            pipe = self.client.pipeline()
            pipe.hset(job_key(job_id), mapping=mapping)
            pipe.expire(job_key(job_id), self.ttl_seconds)
            pipe.execute()
        return job_id

    def put_result(self, job_id: str, artefact: str, data: bytes, item: int | None = None) -> None:
        if not is_job_id(job_id):
            raise KeyError(job_id)
        if artefact not in ARTEFACTS or (item is not None and not 0 <= item < 10_000):
            raise ValueError(f"unknown artefact {artefact!r}")
        with redis_errors():
            # A result never outlives its job record: it takes the job's remaining time to live.
            ttl_ms = int(self.client.pttl(job_key(job_id)))
            if ttl_ms <= 0:
                raise KeyError(job_id)
            index_field = "formats" if item is None else f"item:{item}"
            pipe = self.client.pipeline()
            pipe.set(output_key(job_id, artefact, item), data, px=ttl_ms)
            pipe.hget(job_key(job_id), index_field)
            _, present = pipe.execute()
            formats = set(present.decode().split(",")) if present else set()
            formats.discard("")
            formats.add(artefact)
            self.client.hset(job_key(job_id), index_field, ",".join(sorted(formats)))

    def get_result(self, job_id: str, artefact: str, item: int | None = None) -> bytes | None:
        if not is_job_id(job_id) or artefact not in ARTEFACTS:
            return None
        with redis_errors():
            data = self.client.get(output_key(job_id, artefact, item))
        return data if isinstance(data, bytes) else None

    def fields(self, job_id: str) -> dict[str, str] | None:
        if not is_job_id(job_id):
            return None
        with redis_errors():
            raw = self.client.hgetall(job_key(job_id))
        return decode_hash(raw) if raw else None

    def describe(self, job_id: str) -> JobInfo | None:
        fields = self.fields(job_id)
        if fields is None or fields.get("kind") == "item":
            return None
        formats = [f for f in fields.get("formats", "").split(",") if f]
        items = {
            index: [f for f in fields.get(f"item:{index}", "").split(",") if f]
            for index in range(int(fields.get("items", "0")))
        }
        # The worker records a photo's outcome (with its result summary) in the job's `meta` field.
        result = json.loads(fields["meta"]).get("result") if fields.get("meta") else None
        return JobInfo(
            job_id,
            fields.get("kind", "single"),
            float(fields.get("created_at", "0")),
            float(fields.get("expires_at", "0")),
            sorted(formats),
            items,
            result if isinstance(result, dict) else None,
        )

    def status(self, job_id: str) -> JobStatus | None:
        fields = self.fields(job_id)
        return status_from_hash(job_id, fields) if fields else None

    def delete(self, job_id: str) -> bool:
        fields = self.fields(job_id)
        if fields is None:
            return False
        keys = [job_key(job_id), input_key(job_id), done_key(job_id)]
        keys += [output_key(job_id, f) for f in fields.get("formats", "").split(",") if f]
        for name, value in fields.items():
            if name.startswith("item:"):
                index = int(name[5:])
                keys += [output_key(job_id, f, index) for f in value.split(",") if f]
        with redis_errors():
            self.client.delete(*keys)
        return True

    def cleanup(self, now: float | None = None) -> int:
        return 0  # every key carries a TTL: Redis expires them itself

    def is_final(self, job_id: str) -> bool:
        fields = self.fields(job_id)
        return fields is not None and fields.get("state") in FINAL_STATES
