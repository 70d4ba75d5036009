"""Shared pytest fixtures for the whole test suite."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from facecraft.config import Settings
from facecraft.pipeline.factory import build_pipeline
from facecraft.pipeline.portrait import PortraitPipeline

# --- Test photo set: tests/data/ (sources and licences in tests/data/README.md; -----------
# --- regenerate with scripts/make_test_photos.py). ------------------------------------------

DATA_DIR = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The folder holding the committed test photos and manifest.json."""
    return DATA_DIR


@pytest.fixture(scope="session")
def photo(data_dir: Path) -> Callable[[str], bytes]:
    """Factory: ``photo("astronaut.jpg")`` returns that file's bytes from tests/data/."""
    cache: dict[str, bytes] = {}

    def load(name: str) -> bytes:
        if name not in cache:
            path = data_dir / name
            if not path.is_file():
                raise FileNotFoundError(f"no test photo {name!r} in {data_dir}")
            cache[name] = path.read_bytes()
        return cache[name]

    return load


@pytest.fixture(scope="session")
def manifest(data_dir: Path) -> dict[str, dict[str, Any]]:
    """manifest.json's per-file entries: ``manifest["astronaut_rot15.jpg"]["rotation_degrees"]``.

    Each entry has faces (int, or None when the file is not a decodable image), rotation_degrees
    (counter-clockwise positive, PIL convention), exif_orientation, source, licence, size, notes.
    """
    doc = json.loads((data_dir / "manifest.json").read_text(encoding="utf-8"))
    return doc["files"]


# --- The real pipeline on the real bundled models (fetched by `make models`). ---------------

REPO_ROOT = Path(__file__).resolve().parent.parent
MODELS_DIR = REPO_ROOT / "models"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (for the servers the tests start)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings(models_dir=MODELS_DIR, _env_file=None)  # type: ignore[call-arg]


@pytest.fixture(scope="session")
def pipeline(settings: Settings) -> PortraitPipeline:
    return build_pipeline(settings)
