"""Check that every registered model is present with its pinned SHA-256, and that it loads.

Hashing 176 MB takes ~0.3 s, so results are cached per (path, size, mtime): /ready and /status can
call `verify_models` on every request and only pay again when a file actually changed.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from facecraft.errors import ModelUnavailableError
from facecraft.models.isnet import run_isnet
from facecraft.models.mediapipe_loader import import_mediapipe
from facecraft.models.registry import MODELS, ModelSpec, get_model, model_path
from facecraft.runtime.device import session_device
from facecraft.runtime.sessions import create_session

_CHUNK = 1 << 20
_cache: dict[tuple[str, int, int], str] = {}
_cache_lock = threading.Lock()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    """SHA-256 of a file, cached while its size and mtime stay the same."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    with _cache_lock:
        cached = _cache.get(key)
    if cached is not None:
        return cached
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    value = digest.hexdigest()
    with _cache_lock:
        _cache[key] = value
    return value


@dataclass(frozen=True)
class ModelStatus:
    name: str
    path: Path | None  # None when the package that should carry the file is not installed
    present: bool
    sha256_ok: bool
    expected_sha256: str
    actual_sha256: str | None

    @property
    def ok(self) -> bool:
        return self.present and self.sha256_ok

    def to_dict(self) -> dict[str, Any]:
        """Public view (no file-system paths: /status must not reveal the layout)."""
        return {
            "name": self.name,
            "present": self.present,
            "sha256_ok": self.sha256_ok,
            "expected_sha256": self.expected_sha256,
            "actual_sha256": self.actual_sha256,
        }


def check_model(spec: ModelSpec, models_dir: Path) -> ModelStatus:
    path = model_path(spec, models_dir)
    if path is None or not path.is_file():
        return ModelStatus(spec.name, path, False, False, spec.sha256, None)
    actual = sha256_file(path)
    return ModelStatus(spec.name, path, True, actual == spec.sha256, spec.sha256, actual)


def verify_models(models_dir: Path, specs: tuple[ModelSpec, ...] = MODELS) -> list[ModelStatus]:
    return [check_model(spec, models_dir) for spec in specs]


def require_models(models_dir: Path) -> None:
    """Raise when any model is missing or altered, naming each one and the fix."""
    bad = [s for s in verify_models(models_dir) if not s.ok]
    if bad:
        names = ", ".join(f"{s.name} ({'checksum mismatch' if s.present else 'missing'})" for s in bad)
        raise ModelUnavailableError(
            f"models not ready: {names}; run `facecraft models fetch` (images fetch them at build time)",
            models=[s.to_dict() for s in bad],
        )


def load_check(models_dir: Path, providers: list[str] | None = None) -> str:
    """Build every model once, as the server will: both ISNet sessions (fp32 and int8, so that either
    FACECRAFT_MATTING_PRECISION works) and the MediaPipe solutions (both face detection models, face mesh,
    selfie segmentation).

    Catches what a hash cannot: a broken ONNX Runtime or mediapipe install, a missing CUDA library.
    Returns the device the ISNet session really runs on ("cuda" or "cpu").
    """
    require_models(models_dir)
    for name in ("isnet_int8", "isnet"):  # the fp32 session last: its device is the one reported
        isnet = model_path(get_model(name), models_dir)
        assert isnet is not None  # a models_dir model always has a path
        session = create_session(isnet, providers or ["CPUExecutionProvider"], fixed_hw=(64, 64))
        run_isnet(session, np.zeros((64, 64, 3), np.uint8), 64)

    solutions = import_mediapipe()
    try:
        built = [
            solutions.face_detection.FaceDetection(model_selection=1, min_detection_confidence=0.5),
            solutions.face_detection.FaceDetection(model_selection=0, min_detection_confidence=0.5),
            solutions.face_mesh.FaceMesh(static_image_mode=True, max_num_faces=1, refine_landmarks=True),
            solutions.selfie_segmentation.SelfieSegmentation(model_selection=0),
        ]
    except Exception as exc:  # mediapipe raises RuntimeError/ValueError from its C++ graph
        raise ModelUnavailableError("mediapipe solutions failed to load", reason=str(exc)) from exc
    for solution in built:
        solution.close()
    return session_device(session.get_providers())
