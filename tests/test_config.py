"""Settings: environment variables, validation and clear start-up errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from facecraft.config import Settings
from facecraft.pipeline.options import PortraitOptions


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACECRAFT_DEFAULT_WIDTH", "400")
    monkeypatch.setenv("FACECRAFT_CORS_ORIGINS", "https://a.example, https://b.example")
    monkeypatch.setenv("FACECRAFT_API_KEY", "s3cret")
    monkeypatch.setenv("FACECRAFT_DEFAULT_OVAL_MASK", "no")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.default_width == 400
    assert settings.cors_origins == ["https://a.example", "https://b.example"]
    assert settings.api_key is not None and settings.api_key.get_secret_value() == "s3cret"
    options = PortraitOptions.from_settings(settings)
    assert options.width == 400 and options.use_oval_mask is False


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("FACECRAFT_PORT", "abc"),
        ("FACECRAFT_DEFAULT_BACKGROUND_R", "300"),
        ("FACECRAFT_DEFAULT_FACE_MARGIN", "-1"),
        ("FACECRAFT_LOG_LEVEL", "LOUD"),
        ("FACECRAFT_DEVICE", "tpu"),
        ("FACECRAFT_MATTING_SIZE", "500"),
        ("FACECRAFT_MAX_CONCURRENT_JOBS", "0"),
    ],
)
def test_invalid_values_are_refused(monkeypatch: pytest.MonkeyPatch, variable: str, value: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_cli_names_the_bad_variable_and_exits_nonzero(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "facecraft.cli.main", "config"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        env={"FACECRAFT_DEFAULT_BACKGROUND_R": "300", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode != 0
    assert "FACECRAFT_DEFAULT_BACKGROUND_R" in result.stderr
    assert "Traceback" not in result.stderr


def test_request_values_override_operator_defaults() -> None:
    settings = Settings(default_width=400, default_face_margin=0.5, _env_file=None)  # type: ignore[call-arg]
    options = PortraitOptions.from_settings(settings, width=300, face_margin=None)
    assert options.width == 300
    assert options.face_margin == 0.5
