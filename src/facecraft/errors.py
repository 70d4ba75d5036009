"""Errors with stable codes.

Every failure a user can cause or see is a FacecraftError subclass with a `code` that never changes
between releases (clients switch on it) and a message that never contains internal paths. Each
subclass registers itself by its code, so an error that crossed the queue as (code, message) comes
back as the same class (`FacecraftError.from_code`). The mapping from code to HTTP status lives in
one place: facecraft.api.errors.
"""

from __future__ import annotations

from typing import Any, ClassVar


class FacecraftError(Exception):
    """Base class: `code` is stable and machine-readable, `message` is for people."""

    code: ClassVar[str] = "facecraft_error"
    by_code: ClassVar[dict[str, type[FacecraftError]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        known = FacecraftError.by_code.setdefault(cls.code, cls)
        if known is not cls:
            raise TypeError(f"error code {cls.code!r} is taken by {known.__name__}")

    @classmethod
    def from_code(cls, code: str | None, message: str | None, **details: Any) -> FacecraftError:
        """Rebuild an error reported by code (a queue worker's), keeping its stable code."""
        known = FacecraftError.by_code.get(code or "", InternalError)
        return known(message or "The job failed.", **details)

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body


class InvalidOptionError(FacecraftError):
    code = "invalid_option"


class UnsupportedImageError(FacecraftError):
    code = "unsupported_image"


class ImageTooLargeError(FacecraftError):
    code = "image_too_large"


class NoFaceError(FacecraftError):
    code = "no_face"


class MultipleFacesError(FacecraftError):
    code = "multiple_faces"


class OutputTooLargeError(FacecraftError):
    code = "output_too_large"


class NotCompliantError(FacecraftError):
    """compliance=strict and the photo fails at least one check of its document (details list them)."""

    code = "not_compliant"


class ModelUnavailableError(FacecraftError):
    code = "model_unavailable"


class ModelChecksumError(ModelUnavailableError):
    code = "model_checksum_mismatch"


class StorageFullError(FacecraftError):
    """The result store has no space left (ENOSPC, quota): clears as results expire or are deleted."""

    code = "storage_full"


class StorageUnavailableError(FacecraftError):
    """The result store cannot be written (read-only, missing, I/O error)."""

    code = "storage_unavailable"


class InternalError(FacecraftError):
    """Something unexpected; the details are in the log, never in the answer."""

    code = "internal_error"


# --- requests -----------------------------------------------------------------------------------


class UploadTooLargeError(FacecraftError):
    code = "upload_too_large"


class TooManyFilesError(FacecraftError):
    code = "too_many_files"


class NotFoundError(FacecraftError):
    code = "not_found"


class UnauthorizedError(FacecraftError):
    code = "unauthorized"


class ModelsLoadingError(FacecraftError):
    code = "models_loading"


class BusyError(FacecraftError):
    """Every worker of the local pool is busy and its waiting line is full."""

    code = "busy"


# --- queue mode ---------------------------------------------------------------------------------


class QueueUnavailableError(FacecraftError):
    """Redis cannot be reached (down, restarting, network)."""

    code = "queue_unavailable"


class QueueFullError(FacecraftError):
    """More jobs wait than FACECRAFT_QUEUE_MAX_DEPTH allows."""

    code = "queue_full"


class WorkerCrashedError(FacecraftError):
    """The job killed its worker FACECRAFT_JOB_ATTEMPTS times (or the worker died every time)."""

    code = "worker_crashed"


class JobTimeoutError(FacecraftError):
    """No worker finished the job within FACECRAFT_JOB_TIMEOUT_SECONDS; it may still finish later."""

    code = "job_timeout"


class InputExpiredError(FacecraftError):
    """The upload expired in Redis before a worker took the job (queue stalled for too long)."""

    code = "input_expired"
