"""What runs inside a worker thread: process, encode, store. Nothing here touches the event loop."""

from __future__ import annotations

import contextlib
import io
import zipfile
from dataclasses import dataclass

from facecraft.config import OutputFormat
from facecraft.errors import OutputTooLargeError
from facecraft.jobs.store import JobStore
from facecraft.pipeline.encode import EncodedImage, encode_portrait
from facecraft.pipeline.options import PortraitOptions
from facecraft.pipeline.portrait import Portrait, PortraitPipeline


@dataclass(frozen=True)
class PortraitSummary:
    """What a response says about a processed photo; all that crosses the queue besides the images."""

    face_count: int
    face_box: tuple[int, int, int, int]  # x, y, width, height in input pixels
    size: tuple[int, int]  # output width, height
    timings: dict[str, float]
    matte_method: str = ""
    warnings: tuple[str, ...] = ()

    @classmethod
    def of(cls, portrait: Portrait) -> PortraitSummary:
        height, width = portrait.rgb.shape[:2]
        return cls(
            portrait.face_count,
            portrait.face_box.as_ints(),
            (int(width), int(height)),
            portrait.timings,
            portrait.matte_method,
            tuple(portrait.warnings),
        )


@dataclass
class Outcome:
    summary: PortraitSummary
    images: dict[OutputFormat, EncodedImage]


def stored_formats(options: PortraitOptions) -> list[OutputFormat]:
    """PNG and the size-capped JPEG always (the original's two files), WebP when asked for."""
    formats = [OutputFormat.PNG, OutputFormat.JPG]
    if options.output_format is OutputFormat.WEBP:
        formats.append(OutputFormat.WEBP)
    return formats


def process_image(
    pipeline: PortraitPipeline, data: bytes, options: PortraitOptions, formats: list[OutputFormat]
) -> Outcome:
    """Process once and encode every format. Only the requested format may fail the request: a large
    PNG must not be refused because its companion JPEG cannot fit `max_kb` (that JPEG is left out)."""
    portrait = pipeline.process(data, options)
    images: dict[OutputFormat, EncodedImage] = {}
    for fmt in formats:
        try:
            images[fmt] = encode_portrait(portrait, fmt, options)
        except OutputTooLargeError:
            if fmt is options.output_format:
                raise
    return Outcome(PortraitSummary.of(portrait), images)


def process_and_store(
    pipeline: PortraitPipeline, store: JobStore, data: bytes, options: PortraitOptions
) -> tuple[str, Outcome]:
    """A single request: the job is created only once every format is encoded (no empty jobs)."""
    outcome = process_image(pipeline, data, options, stored_formats(options))
    job_id = store.create("single")
    try:
        for fmt, image in outcome.images.items():
            store.put_result(job_id, fmt.value, image.data)
    except BaseException:
        # A failed write (disk full) must not leave a job with some formats missing; the write's own
        # error is the one to report, so a failing delete is not allowed to replace it.
        with contextlib.suppress(Exception):
            store.delete(job_id)
        raise
    return job_id, outcome


def process_batch_item(
    pipeline: PortraitPipeline,
    store: JobStore,
    job_id: str,
    *,
    index: int,
    data: bytes,
    options: PortraitOptions,
) -> Outcome:
    outcome = process_image(pipeline, data, options, stored_formats(options))
    for fmt, image in outcome.images.items():
        store.put_result(job_id, fmt.value, image.data, item=index)
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
