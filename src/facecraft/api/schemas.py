"""Response bodies, as documented in /docs and /openapi.json."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from facecraft.jobs.processing import ProcessResult


class ErrorInfo(BaseModel):
    code: str = Field(examples=["no_face"])
    message: str = Field(examples=["No face was found in the image."])
    field: str | None = Field(default=None, description="The offending form field, for invalid_option.")


class ErrorResponse(BaseModel):
    success: bool = False
    error: ErrorInfo
    detail: str = Field(description="Same as error.message; kept for clients of the original API.")


class ProcessResponse(BaseModel):
    success: bool = True
    job_id: str = Field(examples=["3f9c2a7e41b04d6f9a1e55c0d2b7a8e1"])
    processing_time_ms: int
    result: ProcessResult
    download_url: str = Field(description="URL of the output in the requested output_format.")
    png_url: str = Field(examples=["/api/v1/download/3f9c2a7e41b04d6f9a1e55c0d2b7a8e1/png"])
    jpg_url: str | None = Field(
        examples=["/api/v1/download/3f9c2a7e41b04d6f9a1e55c0d2b7a8e1/jpg"],
        description="The JPEG under max_kb; null when another format was asked for and no JPEG fits max_kb.",
    )
    webp_url: str | None = None
    expires_at: float = Field(description="Unix time after which the results are deleted.")
    png_base64: str | None = None
    jpg_base64: str | None = None
    webp_base64: str | None = None


class BatchItem(BaseModel):
    index: int
    filename: str = Field(description="The uploaded file name, sanitised; for display only.")
    success: bool
    error: str | None = Field(default=None, description="Stable error code when this file failed.")
    error_message: str | None = None
    face_count: int | None = None
    download_url: str | None = Field(default=None, description="URL of this item in the requested output_format.")
    png_url: str | None = None
    jpg_url: str | None = None
    webp_url: str | None = None
    png_base64: str | None = None
    jpg_base64: str | None = None
    webp_base64: str | None = None


class BatchResponse(BaseModel):
    success: bool = True
    job_id: str
    total: int
    successful: int
    failed: int
    processing_time_ms: int
    download_url: str | None = Field(None, description="ZIP of every successful result; null when none succeeded.")
    expires_at: float
    results: list[BatchItem]


class JobResponse(BaseModel):
    job_id: str
    kind: str = Field(examples=["single", "batch"])
    status: str = Field(default="completed", examples=["completed"])
    created_at: float
    expires_at: float
    formats: list[str] = Field(description="Downloadable artefacts of the job (png, jpg, webp, zip).")
    urls: dict[str, str]
    items: dict[str, list[str]] = Field(default_factory=dict, description="Batch item index -> formats.")
    stage: str | None = Field(None, description="While `running`: processing or storing.")
    error: dict[str, str] | None = Field(None, description="When `failed`: {code, message}.")
    attempts: int | None = Field(None, description="Times a worker started the job (more than 1 after a crash).")
    # Once an async job is `done`: the same fields as the answer of POST /api/v1/process.
    result: ProcessResult | None = Field(
        None, description="A single photo's summary, as in the /process answer (POST /jobs: once `done`)."
    )
    download_url: str | None = Field(None, description="When `done`: the output in the requested output_format.")
    png_url: str | None = None
    jpg_url: str | None = Field(None, description="Null when no JPEG fits max_kb (and another format was asked).")
    webp_url: str | None = None


class JobAccepted(BaseModel):
    success: bool = True
    job_id: str
    status: str = Field(examples=["queued"])
    status_url: str = Field(examples=["/api/v1/jobs/3f9c2a7e41b04d6f9a1e55c0d2b7a8e1"])


class MessageResponse(BaseModel):
    message: str
    job_id: str


class HealthResponse(BaseModel):
    status: str = Field(default="healthy", examples=["healthy"])


class ReadyResponse(BaseModel):
    ready: bool
    models_loaded: bool
    reason: str | None = None


def error_responses(descriptions: dict[int, str]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for a route: each status documented with the shared error body."""
    return {status: {"model": ErrorResponse, "description": text} for status, text in descriptions.items()}
