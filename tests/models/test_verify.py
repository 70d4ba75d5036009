from __future__ import annotations

import os
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from facecraft.errors import ModelUnavailableError
from facecraft.models import verify as verify_module
from facecraft.models.registry import get_model
from facecraft.models.verify import load_check, require_models, sha256_file, verify_models


def test_fetched_models_verify(models_dir: Path) -> None:
    statuses = verify_models(models_dir)
    assert statuses and all(s.ok for s in statuses), [s.to_dict() for s in statuses if not s.ok]
    require_models(models_dir)


def test_corrupted_copy_is_reported(isnet_path: Path, tmp_path: Path) -> None:
    copy = tmp_path / isnet_path.name
    shutil.copyfile(isnet_path, copy)
    with copy.open("r+b") as handle:
        handle.seek(1_000_000)
        byte = handle.read(1)
        handle.seek(1_000_000)
        handle.write(bytes([byte[0] ^ 0xFF]))
    (status,) = [s for s in verify_models(tmp_path) if s.name == "isnet"]
    assert status.present and not status.sha256_ok and not status.ok
    assert status.actual_sha256 != status.expected_sha256 == get_model("isnet").sha256
    assert str(tmp_path) not in str(status.to_dict()), "public status must not reveal paths"
    with pytest.raises(ModelUnavailableError, match="isnet \\(checksum mismatch\\)"):
        require_models(tmp_path)


def test_missing_model_is_reported(tmp_path: Path) -> None:
    (status,) = [s for s in verify_models(tmp_path) if s.name == "isnet"]
    assert not status.present and status.actual_sha256 is None
    with pytest.raises(ModelUnavailableError, match="isnet \\(missing\\)"):
        require_models(tmp_path)


def test_hash_cache_notices_a_changed_file(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"a" * 100)
    first = sha256_file(path)
    assert sha256_file(path) == first
    path.write_bytes(b"b" * 100)  # same size
    os.utime(path, ns=(1, 1))  # and a different mtime, as any rewrite gives
    assert sha256_file(path) != first


def test_load_check_builds_every_model(models_dir: Path) -> None:
    assert load_check(models_dir, ["CPUExecutionProvider"]) == "cpu"


def test_load_check_reports_a_broken_mediapipe(models_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """FAKE: a mediapipe whose C++ graph fails to build (a broken install cannot be made here for real)."""

    def broken(**_kwargs: object) -> None:
        raise RuntimeError("Could not find the graph")

    stand_in = SimpleNamespace(
        face_detection=SimpleNamespace(FaceDetection=broken),
        face_mesh=SimpleNamespace(FaceMesh=broken),
        selfie_segmentation=SimpleNamespace(SelfieSegmentation=broken),
    )
    monkeypatch.setattr(verify_module, "import_mediapipe", lambda: stand_in)
    with pytest.raises(ModelUnavailableError, match="mediapipe solutions failed to load") as info:
        load_check(models_dir, ["CPUExecutionProvider"])
    assert info.value.details["reason"] == "Could not find the graph"
