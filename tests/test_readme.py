"""The README's generated tables must match the code they document."""

from __future__ import annotations

import enum
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr
from pydantic.fields import FieldInfo

from facecraft.config import Settings
from facecraft.models.registry import MODELS

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text(encoding="utf-8")
CONFIGURATION = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")


def test_generated_tables_are_current() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "gen_readme_tables.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_every_setting_and_model_is_documented() -> None:
    for name in Settings.model_fields:
        assert f"`FACECRAFT_{name.upper()}`" in CONFIGURATION
    for spec in MODELS:
        assert spec.sha256 in README


def test_every_variable_the_readme_names_is_a_setting() -> None:
    """The README names only a few variables by hand; each must be a real one (docs/configuration.md has all)."""
    named = set(re.findall(r"FACECRAFT_([A-Z0-9_]+)(?![A-Z0-9_*])", README))  # a wildcard (FACECRAFT_X_*) is no name
    assert named, "the README names no FACECRAFT_ variable"
    assert named <= {name.upper() for name in Settings.model_fields}, named - {n.upper() for n in Settings.model_fields}


# Values that are not simply "the default, changed": (what the variable is set to, what the setting becomes).
SPECIAL = {
    "host": ("127.0.0.2", "127.0.0.2"),
    "log_level": ("debug", "DEBUG"),
    "queue_url": ("redis://queue.example:6380/2", "redis://queue.example:6380/2"),
    "webhook_allowed_hosts": ("Hooks.example, other.example", ["hooks.example", "other.example"]),
    "cors_origins": ("https://a.example,https://b.example", ["https://a.example", "https://b.example"]),
}


def _sample(name: str, info: FieldInfo) -> tuple[str, object]:
    """A valid value other than the default for the setting, as the environment spells it."""
    if name in SPECIAL:
        return SPECIAL[name]
    default, annotation = info.get_default(call_default_factory=True), info.annotation
    bounds = {type(m).__name__: m for m in info.metadata}
    if annotation is bool:
        return str(not default).lower(), not default
    if isinstance(default, enum.Enum):
        other = next(member for member in type(default) if member is not default)
        return str(other.value), other
    if annotation in (int, float):
        upper = getattr(bounds.get("Le"), "le", None)
        step = 1 if annotation is int else (0.5 if upper is None else (upper - default) / 2 or -default / 2)
        value = default + step if upper is None or default + step <= upper else default - step
        if name == "matting_size":
            value = default + 32  # ISNet sizes are multiples of 32
        return str(value), value
    if annotation in (Path, Path | None):
        return f"/srv/fc-{name}", Path(f"/srv/fc-{name}")
    if annotation == SecretStr | None:
        return "s3cret-value", "s3cret-value"
    raise AssertionError(f"no sample value for FACECRAFT_{name.upper()} ({annotation}): add one to SPECIAL")


def test_every_documented_variable_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """Setting FACECRAFT_<NAME> as the README says changes that setting (not only that the name exists)."""
    for name, info in Settings.model_fields.items():
        raw, expected = _sample(name, info)
        monkeypatch.setenv(f"FACECRAFT_{name.upper()}", raw)
        value = getattr(Settings(_env_file=None), name)  # type: ignore[call-arg]
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        assert value == expected, f"FACECRAFT_{name.upper()}={raw!r} gave {value!r}"
        assert value != info.get_default(call_default_factory=True), name
        monkeypatch.delenv(f"FACECRAFT_{name.upper()}")


def test_the_originals_variables_are_all_accepted() -> None:
    """The original Facecraft's variables keep working, so its users can switch unchanged."""
    original = """HOST PORT WORKERS DEBUG LOG_LEVEL DEVICE MODELS_DIR PREDICTOR_PATH CODEFORMER_PATH DEFAULT_WIDTH
    DEFAULT_HEIGHT DEFAULT_BACKGROUND_R DEFAULT_BACKGROUND_G DEFAULT_BACKGROUND_B DEFAULT_FACE_MARGIN
    DEFAULT_OVAL_MASK DEFAULT_ENHANCE_FIDELITY UPLOAD_DIR OUTPUT_DIR MAX_UPLOAD_SIZE_MB CLEANUP_AGE_HOURS
    MAX_CONCURRENT_JOBS BATCH_MAX_FILES CORS_ORIGINS API_KEY""".split()
    for name in original:
        assert name.lower() in Settings.model_fields, name
