"""Settings: environment variables, validation and clear start-up errors."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from facecraft.config import Settings
from facecraft.errors import InvalidOptionError
from facecraft.pipeline.options import OptionRequest, PortraitOptions


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


# The image's own folders; every other FACECRAFT_* value in the Dockerfile must equal the Settings default.
IMAGE_PATHS = {"models_dir": "/app/models", "upload_dir": "/app/uploads", "output_dir": "/app/processed"}


def test_dockerfile_env_defaults_match_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Names and values: the image's ENV block must not drift from config.py."""
    dockerfile = (Path(__file__).resolve().parents[1] / "docker" / "Dockerfile").read_text()
    env = dict(re.findall(r"^\s+(FACECRAFT_[A-Z_]+)=(\S*)", dockerfile, re.MULTILINE))
    assert {name.removeprefix("FACECRAFT_").lower() for name in env} == set(Settings.model_fields)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    image = Settings(_env_file=None)  # type: ignore[call-arg]
    for name in env:
        monkeypatch.delenv(name)
    plain = Settings(_env_file=None, **{key: getattr(image, key) for key in IMAGE_PATHS})  # type: ignore[call-arg]
    assert {key: str(getattr(image, key)) for key in IMAGE_PATHS} == IMAGE_PATHS
    differing = {key: (getattr(image, key), getattr(plain, key)) for key in Settings.model_fields}
    assert {k: v for k, v in differing.items() if v[0] != v[1]} == {}, "Dockerfile ENV value != Settings default"


def test_one_merge_rule_for_every_front_end() -> None:
    """Settings < route default < preset < size < explicit fields, for the API form and the CLI alike."""
    settings = Settings(default_width=400, _env_file=None)  # type: ignore[call-arg]
    assert OptionRequest(size=100, height=120).resolve(settings).width == 100
    assert OptionRequest(size=100, height=120).resolve(settings).height == 120
    passport = OptionRequest(preset="passport", width=300, background_r=0).resolve(settings)
    assert (passport.width, passport.height, passport.background) == (300, 531, (0, 240, 240))
    assert OptionRequest().resolve(settings, output_format="jpg").output_format == "jpg"
    assert OptionRequest(preset="square").resolve(settings, output_format="jpg").output_format == "png"
    with pytest.raises(InvalidOptionError) as error:
        OptionRequest(background="nope").resolve(settings)
    assert error.value.details["field"] == "background"
