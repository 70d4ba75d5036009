"""Errors are registered by their stable code, and every code has its one HTTP status."""

from __future__ import annotations

import pytest

import facecraft.api.app  # noqa: F401  (imports every module that defines an error)
from facecraft.api.errors import STATUS_BY_CODE
from facecraft.errors import FacecraftError, InternalError, NoFaceError, WorkerCrashedError


def test_every_code_has_an_http_status() -> None:
    codes = set(FacecraftError.by_code) - {"facecraft_error", "internal_error"}
    assert codes <= set(STATUS_BY_CODE), codes - set(STATUS_BY_CODE)


def test_errors_come_back_from_their_code() -> None:
    error = FacecraftError.from_code("no_face", "none here")
    assert type(error) is NoFaceError and error.message == "none here"
    assert type(FacecraftError.from_code("worker_crashed", None)) is WorkerCrashedError
    assert type(FacecraftError.from_code("no_such_code", "x")) is InternalError


def test_a_code_is_registered_once() -> None:
    with pytest.raises(TypeError, match="no_face"):

        class TwinError(FacecraftError):
            code = "no_face"
