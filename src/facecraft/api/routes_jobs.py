"""Downloads and job management. Ids are checked against a strict pattern before any file access."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from facecraft.api.deps import State, download_url, result_urls
from facecraft.api.schemas import ErrorResponse, JobResponse, MessageResponse
from facecraft.api.security import api_key_scheme
from facecraft.api.state import AppState
from facecraft.errors import InvalidOptionError, NotFoundError
from facecraft.jobs.ids import is_job_id, parse_item
from facecraft.jobs.processing import ProcessResult
from facecraft.jobs.status import JobStatus
from facecraft.jobs.store import ARTEFACTS

router = APIRouter(prefix="/api/v1", tags=["jobs"], dependencies=[Depends(api_key_scheme)])

MEDIA_TYPES = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp", "zip": "application/zip"}
_FILE = {"content": {t: {} for t in MEDIA_TYPES.values()}, "description": "The file."}
_MISSING: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorResponse, "description": "No such job, item or format (or it expired)."},
    422: {"model": ErrorResponse, "description": "Unknown format."},
}


def _check(job_id: str, fmt: str | None = None) -> None:
    if not is_job_id(job_id):
        raise NotFoundError("Job not found.")
    if fmt is not None and fmt not in ARTEFACTS:
        raise InvalidOptionError("Unknown format; use png, jpg, webp or zip.", field="format")


async def _send(state: AppState, job_id: str, fmt: str, item: int | None) -> Response:
    data = await asyncio.to_thread(state.store.get_result, job_id, fmt, item)
    if data is None:
        raise NotFoundError("Result not found (never stored, deleted or expired).")
    name = f"facecraft-{job_id[:12]}" + (f"-{item + 1:03d}" if item is not None else "")
    return Response(
        data,
        media_type=MEDIA_TYPES[fmt],
        headers={
            "Content-Disposition": f'attachment; filename="{name}.{fmt}"',
            "Cache-Control": "private, max-age=3600",
        },
    )


@router.get("/download/{job_id}/{fmt}", response_class=Response, responses={200: _FILE, **_MISSING})
async def download(state: State, job_id: str, fmt: str) -> Response:
    """A single-photo result (png, jpg, webp) or a batch's ZIP (zip)."""
    _check(job_id, fmt)
    return await _send(state, job_id, fmt, None)


@router.get("/download/{job_id}/{item}/{fmt}", response_class=Response, responses={200: _FILE, **_MISSING})
async def download_item(state: State, job_id: str, item: str, fmt: str) -> Response:
    """One item of a batch, by its index in the request (0-based)."""
    _check(job_id, fmt)
    index = parse_item(item)
    if index is None or fmt == "zip":
        raise NotFoundError("Result not found.")
    return await _send(state, job_id, fmt, index)


@router.get("/jobs/{job_id}", response_model=JobResponse, responses=_MISSING)
async def describe_job(state: State, job_id: str) -> JobResponse:
    """A job's results; for jobs from POST /jobs also `status`: queued, running (with `stage`),
    done (with `urls`) or failed (with `error.code`). Jobs from /process report `completed`; a single
    photo's job (from /process or a done POST /jobs) also repeats the answer's `result` and URLs."""
    _check(job_id)
    status = await state.runner.job_status(job_id)
    if status is not None and (status.is_async or status.state != "done"):
        return await _job_progress(state, status)
    info = await asyncio.to_thread(state.store.describe, job_id)
    if info is None:
        raise NotFoundError("Job not found.")
    answer: dict[str, Any] = {}
    if info.result is not None:
        result = ProcessResult.model_validate(info.result)
        answer = {"result": result, **result_urls(job_id, result.output_format, info.formats)}
    return JobResponse(
        **answer,
        job_id=job_id,
        kind=info.kind,
        created_at=info.created_at,
        expires_at=info.expires_at,
        formats=info.formats,
        urls={fmt: download_url(job_id, fmt) for fmt in info.formats},
        items={str(index): formats for index, formats in info.items.items()},
    )


async def _job_progress(state: AppState, status: JobStatus) -> JobResponse:
    info = await asyncio.to_thread(state.store.describe, status.job_id) if status.state == "done" else None
    formats = info.formats if info is not None else []
    expires = info.expires_at if info is not None else status.created_at + state.settings.result_ttl_seconds
    answer: dict[str, Any] = {}
    if info is not None and "result" in status.meta:
        result = ProcessResult.model_validate(status.meta["result"])
        answer = {"result": result, **result_urls(status.job_id, result.output_format, formats)}
    return JobResponse(
        **answer,
        job_id=status.job_id,
        kind=status.kind,
        status=status.state,
        created_at=status.created_at,
        expires_at=expires,
        formats=formats,
        urls={fmt: download_url(status.job_id, fmt) for fmt in formats},
        stage=status.stage,
        error={"code": status.code, "message": status.message or status.code} if status.code else None,
        attempts=status.attempts,
    )


@router.delete("/jobs/{job_id}", response_model=MessageResponse, responses=_MISSING)
async def delete_job(state: State, job_id: str) -> MessageResponse:
    """Delete every result of a job now (they expire on their own otherwise)."""
    _check(job_id)
    if not await asyncio.to_thread(state.store.delete, job_id):
        raise NotFoundError("Job not found.")
    return MessageResponse(message=f"Job {job_id} deleted", job_id=job_id)
