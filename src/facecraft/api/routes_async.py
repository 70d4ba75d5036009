"""POST /api/v1/jobs: accept a photo now, process it later; GET /api/v1/jobs/{id} tells how it went.

Works in both modes: embedded (the local pool runs it) and queue mode (a worker anywhere runs it;
any API replica answers for it). An optional `webhook_url` is called once the job ends (see
facecraft.jobs.webhooks for what is allowed).
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse

from facecraft.api.deps import State
from facecraft.api.options_form import Options
from facecraft.api.schemas import JobAccepted, error_responses
from facecraft.api.security import api_key_scheme
from facecraft.api.uploads import read_upload
from facecraft.jobs.webhooks import check_webhook_url

router = APIRouter(prefix="/api/v1", tags=["jobs"], dependencies=[Depends(api_key_scheme)])

_ERRORS = error_responses(
    {
        413: "Upload or image over the limit.",
        422: "invalid_option (names the field; webhook_url not allowed, private or malformed).",
        429: "Pool busy (busy) or too many jobs waiting (queue_full); see Retry-After.",
        503: "Models loading, or the queue unavailable (queue_unavailable); see Retry-After.",
        507: "The job store is full (storage_full); see Retry-After.",
    }
)


@router.post("/jobs", status_code=202, response_model=JobAccepted, responses=_ERRORS, summary="Queue one photo (async)")
async def submit_job(
    request: Request,
    state: State,
    file: Annotated[UploadFile, File(description="A photo: JPEG, PNG, WebP, BMP, TIFF, HEIC/HEIF or AVIF.")],
    form: Options,
    webhook_url: Annotated[
        str | None,
        Form(max_length=2048, description="Called with a signed POST when the job ends (if the server allows it)."),
    ] = None,
) -> JSONResponse:
    """Same options as /process. Answers 202 at once with the job id; poll `status_url` until
    `status` is `done` (with result URLs) or `failed` (with an error code)."""
    options = form.resolve(state.settings)
    if webhook_url:
        # Refuse now rather than fail silently later; the DNS lookup runs in a thread, off the event loop.
        await asyncio.to_thread(check_webhook_url, webhook_url, state.settings)
    state.runner.require_ready()
    data = await read_upload(file, state.settings.max_upload_bytes)
    job_id = await state.runner.submit(data, options, webhook_url or None)
    request.state.job_id = job_id
    status_url = f"/api/v1/jobs/{job_id}"
    body = JobAccepted(job_id=job_id, status="queued", status_url=status_url)
    return JSONResponse(body.model_dump(), status_code=202, headers={"Location": status_url})
