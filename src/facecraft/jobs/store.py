"""Where finished results live until they expire.

`JobStore` is the small interface the API talks to; `FileJobStore` keeps each job in its own folder
under the output directory. A Redis- or object-store-backed class can implement the same methods
later without the routes changing. Every name under a job folder is built here from a validated id,
a fixed artefact name and an integer item index: nothing a client typed is ever part of a path.

    <output_dir>/<job_id>/job.json              kind, created, expires, items; a single photo's result summary
    <output_dir>/<job_id>/result.<fmt>          single-image results (png, jpg, webp)
    <output_dir>/<job_id>/items/<n>/result.<fmt>  batch item n
    <output_dir>/<job_id>/results.zip           batch archive
"""

from __future__ import annotations

import contextlib
import errno
import json
import shutil
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from facecraft.errors import StorageFullError, StorageUnavailableError
from facecraft.files import write_atomic
from facecraft.jobs.ids import is_job_id, new_job_id

ARTEFACTS = frozenset({"png", "jpg", "webp", "zip"})
_META = "job.json"
_FULL = (errno.ENOSPC, errno.EDQUOT)


@contextlib.contextmanager
def storage_errors() -> Iterator[None]:
    """A failed write becomes storage_full or storage_unavailable; the OS message (a path) stays in the log."""
    try:
        yield
    except OSError as exc:
        if exc.errno in _FULL:
            raise StorageFullError("The result store is full; retry later.", retry_after=60) from exc
        raise StorageUnavailableError("The result store cannot be written; retry later.", retry_after=30) from exc


@dataclass(frozen=True)
class JobInfo:
    job_id: str
    kind: str  # "single" or "batch"
    created_at: float  # unix seconds
    expires_at: float
    formats: list[str] = field(default_factory=list)  # artefacts stored at job level
    items: dict[int, list[str]] = field(default_factory=dict)  # batch item -> artefacts
    result: dict[str, Any] | None = None  # a single photo's summary, as the /process answer's `result`


def _raise_unless_missing(_function: Any, _path: str, exc_info: Any) -> None:
    if not isinstance(exc_info[1], FileNotFoundError):
        raise exc_info[1]


class JobStore(ABC):
    """Create a job, store and fetch its artefacts, describe, delete and expire it."""

    @abstractmethod
    def create(self, kind: str, item_count: int = 0, *, result: dict[str, Any] | None = None) -> str:
        """A new job; `result` is a single photo's summary, kept so GET /jobs/{id} can repeat it."""

    @abstractmethod
    def put_result(self, job_id: str, artefact: str, data: bytes, item: int | None = None) -> None: ...

    @abstractmethod
    def get_result(self, job_id: str, artefact: str, item: int | None = None) -> bytes | None: ...

    @abstractmethod
    def describe(self, job_id: str) -> JobInfo | None: ...

    @abstractmethod
    def delete(self, job_id: str) -> bool: ...

    @abstractmethod
    def cleanup(self, now: float | None = None) -> int:
        """Remove expired jobs; return how many were removed."""


class FileJobStore(JobStore):
    def __init__(self, root: Path, ttl_seconds: float) -> None:
        self.root = root
        self.ttl_seconds = ttl_seconds
        root.mkdir(parents=True, exist_ok=True)

    def _job_dir(self, job_id: str) -> Path | None:
        # The only way from an id to a path; anything but 32 hex characters never reaches the disk.
        return self.root / job_id if is_job_id(job_id) else None

    def _artefact_path(self, job_dir: Path, artefact: str, item: int | None) -> Path | None:
        if artefact not in ARTEFACTS:
            return None
        name = "results.zip" if artefact == "zip" else f"result.{artefact}"
        if item is None:
            return job_dir / name
        if not 0 <= item < 10_000:
            return None
        return job_dir / "items" / str(item) / name

    def create(self, kind: str, item_count: int = 0, *, result: dict[str, Any] | None = None) -> str:
        job_id = new_job_id()
        job_dir = self.root / job_id
        now = time.time()
        meta: dict[str, Any] = {"kind": kind, "created_at": now, "expires_at": now + self.ttl_seconds}
        meta |= {"items": item_count, **({"result": result} if result is not None else {})}
        with storage_errors():
            job_dir.mkdir(parents=True)  # no exist_ok: a collision of 128 random bits is a bug worth seeing
            try:
                write_atomic(job_dir / _META, json.dumps(meta).encode())
            except OSError:
                shutil.rmtree(job_dir, ignore_errors=True)  # no job folder without its metadata
                raise
        return job_id

    def put_result(self, job_id: str, artefact: str, data: bytes, item: int | None = None) -> None:
        job_dir = self._job_dir(job_id)
        if job_dir is None or not job_dir.is_dir():
            raise KeyError(job_id)
        target = self._artefact_path(job_dir, artefact, item)
        if target is None:
            raise ValueError(f"unknown artefact {artefact!r}")
        with storage_errors():
            target.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(target, data)

    def get_result(self, job_id: str, artefact: str, item: int | None = None) -> bytes | None:
        job_dir = self._job_dir(job_id)
        if job_dir is None:
            return None
        target = self._artefact_path(job_dir, artefact, item)
        if target is None or self._expired(job_dir):
            return None
        try:
            return target.read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None

    def describe(self, job_id: str) -> JobInfo | None:
        job_dir = self._job_dir(job_id)
        meta = self._read_meta(job_dir) if job_dir is not None else None
        if job_dir is None or meta is None or meta["expires_at"] <= time.time():
            return None
        formats = sorted(a for a in ARTEFACTS if self._artefact_path(job_dir, a, None).is_file())  # type: ignore[union-attr]
        items: dict[int, list[str]] = {}
        for index in range(int(meta.get("items", 0))):
            present = [a for a in ("png", "jpg", "webp") if (job_dir / "items" / str(index) / f"result.{a}").is_file()]
            items[index] = present
        result = meta.get("result") if isinstance(meta.get("result"), dict) else None
        created, expires = float(meta["created_at"]), float(meta["expires_at"])
        return JobInfo(job_id, str(meta["kind"]), created, expires, formats, items, result)

    def delete(self, job_id: str) -> bool:
        job_dir = self._job_dir(job_id)
        if job_dir is None or not job_dir.is_dir():
            return False
        # Errors other than "already gone" (a concurrent delete) are raised: on a read-only disk the
        # client must not hear "deleted" while the files stay.
        with storage_errors():
            shutil.rmtree(job_dir, onerror=_raise_unless_missing)
        return True

    def cleanup(self, now: float | None = None) -> int:
        """Remove jobs past their expiry, judged by metadata or, without it, by folder age."""
        now = time.time() if now is None else now
        removed = 0
        for entry in self.root.iterdir():
            if not entry.is_dir() or not is_job_id(entry.name):
                continue
            meta = self._read_meta(entry)
            try:
                expires = float(meta["expires_at"]) if meta else entry.stat().st_mtime + self.ttl_seconds
                # The metadata file's mtime also counts, so an operator (or a test) can age a job with touch.
                expires = min(expires, (entry / _META).stat().st_mtime + self.ttl_seconds) if meta else expires
            except OSError:
                continue
            if expires <= now:
                shutil.rmtree(entry, ignore_errors=True)
                removed += 1
        return removed

    def _expired(self, job_dir: Path) -> bool:
        meta = self._read_meta(job_dir)
        return meta is None or float(meta["expires_at"]) <= time.time()

    @staticmethod
    def _read_meta(job_dir: Path) -> dict[str, Any] | None:
        try:
            meta = json.loads((job_dir / _META).read_text())
        except (OSError, ValueError):
            return None
        return meta if isinstance(meta, dict) and "expires_at" in meta else None
