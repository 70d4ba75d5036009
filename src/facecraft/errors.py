"""Errors with stable codes.

Every failure a user can cause or see is a FacecraftError subclass with a `code` that never changes
between releases (clients switch on it) and a message that never contains internal paths.
The mapping from code to HTTP status lives in one place: facecraft.api.errors.
"""

from __future__ import annotations

from typing import Any, ClassVar


class FacecraftError(Exception):
    """Base class: `code` is stable and machine-readable, `message` is for people."""

    code: ClassVar[str] = "facecraft_error"

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
