"""POST /api/v1/process, /process/quick and /process/batch."""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from collections.abc import Awaitable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Request, UploadFile
from fastapi.responses import Response

from facecraft.api.deps import State, download_url, result_urls
from facecraft.api.options_form import Options
from facecraft.api.schemas import (
    BatchItem,
    BatchResponse,
    ProcessResponse,
    error_responses,
)
from facecraft.api.security import api_key_scheme
from facecraft.api.state import AppState
from facecraft.api.uploads import archive_stem, display_name, read_upload
from facecraft.config import OutputFormat
from facecraft.errors import BusyError, FacecraftError, TooManyFilesError
from facecraft.jobs import processing
from facecraft.pipeline.encode import EncodedImage
from facecraft.pipeline.options import PortraitOptions

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1", tags=["processing"], dependencies=[Depends(api_key_scheme)])

_ERRORS = error_responses(
    {
        401: "Missing or wrong X-API-Key (only when FACECRAFT_API_KEY is set).",
        413: "Upload, image pixels or file count over the limit.",
        415: "Not a decodable image (unsupported_image).",
        422: "no_face, multiple_faces, output_too_large or invalid_option (names the field).",
        429: "All workers busy and the queue full (busy); see Retry-After.",
        503: "Models loading or unavailable, or the result store not writable; see Retry-After.",
        507: "The result store is full (storage_full); see Retry-After.",
    }
)

Upload = Annotated[UploadFile, File(description="A photo: JPEG, PNG, WebP, BMP, TIFF, HEIC/HEIF or AVIF.")]


def _b64(image: EncodedImage | None) -> str | None:
    return base64.b64encode(image.data).decode("ascii") if image is not None else None


async def _run(state: AppState, request: Request, call: Awaitable[Any]) -> Any:
    """Await the runner's work, keeping counters, the in-flight gauge and the request log up to date."""
    start = time.perf_counter()
    state.metrics.in_flight.inc()
    try:
        result = await call
    except BusyError:
        state.metrics.rejections.labels(reason="busy").inc()
        raise
    except FacecraftError as exc:
        state.metrics.record_image(exc.code, time.perf_counter() - start)
        raise
    except Exception:
        state.metrics.record_image("internal_error", time.perf_counter() - start)
        raise
    finally:
        state.metrics.in_flight.dec()
    outcome = result[1] if isinstance(result, tuple) else result
    request.state.timings = outcome.result.timings_seconds
    state.metrics.record_image("ok", time.perf_counter() - start, outcome.result.timings_seconds)
    return result


@router.post("/process", response_model=ProcessResponse, responses=_ERRORS, summary="Process one photo")
async def process_single(request: Request, state: State, file: Upload, form: Options) -> ProcessResponse:
    """Find the face, level the eyes, remove the background and crop a centred headshot.

    PNG and JPEG (under `max_kb`) are always stored; WebP too when `output_format=webp`.
    Results can be downloaded until `expires_at` (FACECRAFT_CLEANUP_AGE_HOURS).
    """
    start = time.perf_counter()
    options = form.resolve(state.settings)
    state.runner.require_ready()
    data = await read_upload(file, state.settings.max_upload_bytes)
    job_id, outcome = await _run(state, request, state.runner.process_and_store(data, options))
    request.state.job_id = job_id
    fmt = options.output_format
    images = outcome.images
    return ProcessResponse(
        job_id=job_id,
        processing_time_ms=round((time.perf_counter() - start) * 1000),
        result=outcome.result,
        **result_urls(job_id, fmt.value, [f.value for f in images]),
        expires_at=time.time() + state.settings.cleanup_age_hours * 3600,
        png_base64=_b64(images[OutputFormat.PNG]) if form.return_base64 else None,
        jpg_base64=_b64(images.get(OutputFormat.JPG)) if form.return_base64 else None,
        webp_base64=_b64(images.get(OutputFormat.WEBP)) if form.return_base64 else None,
    )


@router.post(
    "/process/quick",
    response_class=Response,
    responses={
        200: {"content": {"image/png": {}, "image/jpeg": {}, "image/webp": {}}, "description": "The image."},
        **_ERRORS,
    },
    summary="Process one photo and return the image itself",
)
async def process_quick(
    request: Request,
    state: State,
    file: Upload,
    form: Options,
) -> Response:
    """No job is stored. `output_format` defaults to PNG here, as in the original (or the preset's)."""
    options = form.resolve(state.settings, output_format=OutputFormat.PNG)
    state.runner.require_ready()
    data = await read_upload(file, state.settings.max_upload_bytes)
    outcome = await _run(state, request, state.runner.process_image(data, options, [options.output_format]))
    image = outcome.images[options.output_format]
    compliance = outcome.result.compliance
    verdict = {} if compliance is None else {"X-Facecraft-Compliance": "pass" if compliance["passed"] else "fail"}
    return Response(
        image.data,
        media_type=image.media_type,
        headers={
            **verdict,
            "X-Face-Count": str(outcome.result.face_count),
            "Content-Disposition": f'inline; filename="portrait.{options.output_format.value}"',
        },
    )


async def _batch_item(
    state: AppState,
    job_id: str,
    *,
    index: int,
    data: bytes | FacecraftError,
    options: PortraitOptions,
    name: str,
    slots: asyncio.Semaphore,
    return_base64: bool,
) -> tuple[BatchItem, dict[OutputFormat, EncodedImage] | None]:
    item = BatchItem(index=index, filename=name, success=False)
    try:
        if isinstance(data, FacecraftError):
            raise data
        state.runner.require_ready()
        async with slots:
            start = time.perf_counter()
            state.metrics.in_flight.inc()
            try:
                outcome = await state.runner.process_batch_item(job_id, index=index, data=data, options=options)
            finally:
                state.metrics.in_flight.dec()
        state.metrics.record_image("ok", time.perf_counter() - start, outcome.result.timings_seconds)
    except FacecraftError as exc:
        state.metrics.record_image(exc.code, 0.0)
        item.error, item.error_message = exc.code, exc.message
        return item, None
    except Exception:  # one broken file must not sink the batch; details go to the log only
        log.exception("batch item %d of job %s failed", index, job_id)
        state.metrics.record_image("internal_error", 0.0)
        item.error, item.error_message = "internal_error", "Internal error while processing this file."
        return item, None
    images = outcome.images
    item.success = True
    item.face_count = outcome.result.face_count
    for field, url in result_urls(job_id, options.output_format.value, [f.value for f in images], index).items():
        setattr(item, field, url)
    if return_base64:
        item.png_base64 = _b64(images[OutputFormat.PNG])
        item.jpg_base64 = _b64(images.get(OutputFormat.JPG))
        item.webp_base64 = _b64(images.get(OutputFormat.WEBP))
    return item, images


@router.post("/process/batch", response_model=BatchResponse, responses=_ERRORS, summary="Process many photos")
async def process_batch(
    request: Request,
    state: State,
    files: Annotated[list[UploadFile], File(description="Photos (at most FACECRAFT_BATCH_MAX_FILES).")],
    form: Options,
) -> BatchResponse:
    """Each file is processed in the worker pool, in parallel up to MAX_CONCURRENT_JOBS; a failed file
    is reported in its item and never stops the rest. Every result has its own URLs, and
    `download_url` is a ZIP of all successful results."""
    start = time.perf_counter()
    settings = state.settings
    if len(files) > settings.batch_max_files:
        state.metrics.rejections.labels(reason="too_many_files").inc()
        raise TooManyFilesError(f"At most {settings.batch_max_files} files per batch; got {len(files)}.")
    options = form.resolve(settings)
    state.runner.require_ready()
    try:
        await state.runner.check_capacity(len(files))
    except FacecraftError as exc:
        state.metrics.rejections.labels(reason=exc.code).inc()
        raise
    payloads: list[bytes | FacecraftError] = []
    for upload in files:
        try:
            payloads.append(await read_upload(upload, settings.max_upload_bytes))
        except FacecraftError as exc:
            payloads.append(exc)
    job_id = await asyncio.to_thread(state.store.create, "batch", len(files))
    request.state.job_id = job_id
    # A batch occupies at most the pool's width, so single requests still get a turn between items.
    slots = asyncio.Semaphore(state.runner.batch_width)
    names = [display_name(f.filename, i) for i, f in enumerate(files)]
    done = await asyncio.gather(
        *(
            _batch_item(
                state,
                job_id,
                index=i,
                data=payload,
                options=options,
                name=names[i],
                slots=slots,
                return_base64=form.return_base64,
            )
            for i, payload in enumerate(payloads)
        )
    )
    entries = [(archive_stem(files[i].filename, i), images) for i, (_, images) in enumerate(done) if images]
    if entries:
        await state.pool.run_waiting(processing.build_zip, state.store, job_id, entries)
    results = [item for item, _ in done]
    successful = sum(item.success for item in results)
    return BatchResponse(
        job_id=job_id,
        total=len(results),
        successful=successful,
        failed=len(results) - successful,
        processing_time_ms=round((time.perf_counter() - start) * 1000),
        download_url=download_url(job_id, "zip") if entries else None,
        expires_at=time.time() + settings.cleanup_age_hours * 3600,
        results=results,
    )
