"""The README's generated tables must match the code they document."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from facecraft.config import Settings
from facecraft.models.registry import MODELS

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text(encoding="utf-8")


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
        assert f"`FACECRAFT_{name.upper()}`" in README
    for spec in MODELS:
        assert spec.sha256 in README


def test_the_originals_variables_are_all_accepted() -> None:
    """The original Facecraft's variables keep working, so its users can switch unchanged."""
    original = """HOST PORT WORKERS DEBUG LOG_LEVEL DEVICE MODELS_DIR PREDICTOR_PATH CODEFORMER_PATH DEFAULT_WIDTH
    DEFAULT_HEIGHT DEFAULT_BACKGROUND_R DEFAULT_BACKGROUND_G DEFAULT_BACKGROUND_B DEFAULT_FACE_MARGIN
    DEFAULT_OVAL_MASK DEFAULT_ENHANCE_FIDELITY UPLOAD_DIR OUTPUT_DIR MAX_UPLOAD_SIZE_MB CLEANUP_AGE_HOURS
    MAX_CONCURRENT_JOBS BATCH_MAX_FILES CORS_ORIGINS API_KEY""".split()
    for name in original:
        assert name.lower() in Settings.model_fields, name
