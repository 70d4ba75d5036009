"""The one use case under every front end: photo bytes + options -> outcome -> stored.

The CLI, the embedded backend (the server's own pool) and the queue worker all call `process_photo`,
so the companion-format rule and the result summary exist once:

- `stored_formats`: a stored job keeps PNG and the size-capped JPEG always (the original's two
  files), WebP too when asked for. Only the requested format may fail the request: a PNG whose
  companion JPEG cannot fit `max_kb` still succeeds, without the JPEG (`jpg_url: null`).
- `ProcessResult`: what an answer says about a processed photo. The synchronous answer, the async
  job status and the queue's job record all carry this one model; a new field (set in `of`) shows up
  in all of them.
"""

from __future__ import annotations

import contextlib
import io
import zipfile
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field

from facecraft.config import OutputFormat
from facecraft.errors import OutputTooLargeError
from facecraft.jobs.store import JobStore
from facecraft.pipeline.compliance import compliance_report, enforce
from facecraft.pipeline.encode import EncodedImage, encode_portrait
from facecraft.pipeline.options import PortraitOptions
from facecraft.pipeline.portrait import Portrait, PortraitPipeline


class FacePosition(BaseModel):
    x: int
    y: int
    width: int
    height: int


class OutputSize(BaseModel):
    width: int
    height: int


class ProcessResult(BaseModel):
    """The `result` object of every answer about a processed photo (sync, async, embedded or queue)."""

    face_detected: bool = True
    face_count: int = Field(description="Faces found in the photo (the largest is used).")
    face_position: FacePosition = Field(description="The chosen face, in input-image pixels.")
    output_size: OutputSize = Field(description="Measured size of the output image.")
    file_size_bytes: int = Field(description="Size of the output in the requested output_format.")
    output_format: str = Field(examples=["png"])
    timings_ms: dict[str, float] = Field(default_factory=dict, description="Time per pipeline stage.")
    matte_method: str = Field("", description="How the background was removed, e.g. `trimap_isnet`.")
    warnings: list[str] = Field(
        default_factory=list, description="Things the caller should know, e.g. `face_cut_by_frame`."
    )
    turn_degrees: int = Field(
        0,
        description="How far (degrees, counter-clockwise) the photo had to be turned for a face to be found: "
        "0 when upright or set right by its EXIF tag; 90, 180 or 270 for a sideways or upside-down photo "
        "without one; 30 or -30 for a strongly tilted face.",
    )
    face_detector: str = Field(
        "full_range",
        description="The face detection model that found the face: `full_range` (tried first) or `short_range` "
        "(tried when the full-range one finds none: close-ups and tight crops).",
    )
    compliance: dict[str, Any] | None = Field(
        None,
        description="With a document preset: {standard, passed, checks: [{id, value, unit, range, passed}]}.",
    )

    @classmethod
    def of(cls, portrait: Portrait, image: EncodedImage, compliance: dict[str, Any] | None = None) -> ProcessResult:
        """The one conversion from a pipeline result to the answer; add new Portrait fields here."""
        x, y, w, h = portrait.face_box.as_ints()
        height, width = portrait.rgb.shape[:2]
        return cls(
            face_count=portrait.face_count,
            face_position=FacePosition(x=x, y=y, width=w, height=h),
            output_size=OutputSize(width=int(width), height=int(height)),
            file_size_bytes=len(image.data),
            output_format=image.format.value,
            timings_ms={stage: round(seconds * 1000, 1) for stage, seconds in portrait.timings.items()},
            matte_method=portrait.matte_method,
            warnings=list(portrait.warnings),
            compliance=compliance,
            turn_degrees=portrait.turn_degrees,
            face_detector=portrait.face_detector,
        )

    @property
    def timings_seconds(self) -> dict[str, float]:
        return {stage: ms / 1000 for stage, ms in self.timings_ms.items()}


@dataclass
class Outcome:
    """A processed photo: its result summary and every format that was encoded."""

    result: ProcessResult
    images: dict[OutputFormat, EncodedImage]


def stored_formats(options: PortraitOptions) -> list[OutputFormat]:
    """PNG and the size-capped JPEG always (the original's two files), WebP when asked for."""
    formats = [OutputFormat.PNG, OutputFormat.JPG]
    if options.output_format not in formats:
        formats.append(options.output_format)
    return formats


def process_photo(
    pipeline: PortraitPipeline, data: bytes, options: PortraitOptions, formats: list[OutputFormat] | None = None
) -> Outcome:
    """Process once, encode the requested format and the companions in `formats` (default: none).

    Only the requested format may fail: a companion that cannot fit `max_kb` is left out."""
    portrait = pipeline.process(data, options)
    wanted = options.output_format
    images = {wanted: encode_portrait(portrait, wanted, options)}
    for fmt in formats or []:
        if fmt not in images:
            with contextlib.suppress(OutputTooLargeError):
                images[fmt] = encode_portrait(portrait, fmt, options)
    report = compliance_report(portrait, images[wanted], options)
    enforce(report, options)  # compliance=strict: a failed check is not_compliant (422)
    return Outcome(ProcessResult.of(portrait, images[wanted], report), images)


def store_outcome(store: JobStore, job_id: str, outcome: Outcome, item: int | None = None) -> None:
    for fmt, image in outcome.images.items():
        store.put_result(job_id, fmt.value, image.data, item)


def process_and_store(
    pipeline: PortraitPipeline, store: JobStore, data: bytes, options: PortraitOptions
) -> tuple[str, Outcome]:
    """A single request: the job is created only once every format is encoded (no empty jobs)."""
    outcome = process_photo(pipeline, data, options, stored_formats(options))
    job_id = store.create("single", result=outcome.result.model_dump(mode="json"))
    try:
        store_outcome(store, job_id, outcome)
    except BaseException:
        # A failed write (disk full) must not leave a job with some formats missing; the write's own
        # error is the one to report, so a failing delete is not allowed to replace it.
        with contextlib.suppress(Exception):
            store.delete(job_id)
        raise
    return job_id, outcome


def process_into_job(
    pipeline: PortraitPipeline,
    store: JobStore,
    job_id: str,
    data: bytes,
    options: PortraitOptions,
    item: int | None = None,
) -> Outcome:
    """Process into a job that already exists: an async job, or item `item` of a batch."""
    outcome = process_photo(pipeline, data, options, stored_formats(options))
    store_outcome(store, job_id, outcome, item)
    return outcome


def build_zip(store: JobStore, job_id: str, entries: list[tuple[str, dict[OutputFormat, EncodedImage]]]) -> None:
    """One archive of every successful item; entry names are sanitised stems, never client paths."""
    buffer = io.BytesIO()
    # Images are already compressed; storing them avoids burning CPU for ~0% gain.
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for stem, images in entries:
            for fmt, image in images.items():
                archive.writestr(f"{stem}.{fmt.value}", image.data)
    store.put_result(job_id, "zip", buffer.getvalue())


def outcome_record(outcome: Outcome) -> dict[str, Any]:
    """What a job's record keeps about its outcome (in memory when embedded, in Redis in queue mode)."""
    return {
        "result": outcome.result.model_dump(mode="json"),
        "formats": [fmt.value for fmt in outcome.images],
        "jpeg_quality": {fmt.value: image.jpeg_quality for fmt, image in outcome.images.items()},
    }
