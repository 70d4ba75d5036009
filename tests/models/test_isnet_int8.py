"""The int8 ISNet: rebuilt byte for byte from the fp32 file, refused when it is not, chosen per device, and close to
fp32 on real person crops (the matte invariants themselves run on it in tests/pipeline/test_matte.py)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort
import pytest

from facecraft.config import Precision
from facecraft.errors import ModelChecksumError
from facecraft.models import fetch
from facecraft.models.isnet import run_isnet
from facecraft.models.isnet_int8 import calibrate, quantize_isnet
from facecraft.models.registry import get_model
from facecraft.models.verify import sha256_file
from facecraft.pipeline.factory import isnet_model_name
from facecraft.runtime.sessions import create_session

DATA = Path(__file__).resolve().parents[1] / "data"
SIZE = (448, 448)


@pytest.mark.slow
def test_quantizing_the_fp32_file_gives_the_pinned_bytes(isnet_path: Path, tmp_path: Path) -> None:
    target = tmp_path / "int8.onnx"
    quantize_isnet(isnet_path, target)
    spec = get_model("isnet_int8")
    assert target.stat().st_size == spec.size_bytes
    assert sha256_file(target) == spec.sha256


def _registry_of_two(monkeypatch: pytest.MonkeyPatch, **int8_changes: object) -> None:
    int8 = dataclasses.replace(get_model("isnet_int8"), **int8_changes)  # type: ignore[arg-type]
    monkeypatch.setattr(fetch, "MODELS", (get_model("isnet"), int8))


def _models_dir_with_fp32(isnet_path: Path, tmp_path: Path) -> Path:
    models = tmp_path / "models"
    models.mkdir()
    (models / isnet_path.name).symlink_to(isnet_path)  # the real 176 MB file, not a copy
    return models


@pytest.mark.slow
def test_fetch_builds_a_missing_int8_file_and_then_leaves_it(
    monkeypatch: pytest.MonkeyPatch, isnet_path: Path, tmp_path: Path
) -> None:
    _registry_of_two(monkeypatch)
    models = _models_dir_with_fp32(isnet_path, tmp_path)
    assert [r.action for r in fetch.fetch_models(models)] == ["present", "built"]
    built = models / get_model("isnet_int8").file
    assert sha256_file(built) == get_model("isnet_int8").sha256
    assert built.stat().st_mode & 0o777 == 0o644
    assert [r.action for r in fetch.fetch_models(models)] == ["present", "present"]


@pytest.mark.slow
def test_fetch_refuses_an_int8_build_with_another_hash(
    monkeypatch: pytest.MonkeyPatch, isnet_path: Path, tmp_path: Path
) -> None:
    _registry_of_two(monkeypatch, sha256="e" * 64)
    models = _models_dir_with_fp32(isnet_path, tmp_path)
    with pytest.raises(ModelChecksumError, match="quantized"):
        fetch.fetch_models(models)
    assert [p.name for p in models.iterdir()] == [isnet_path.name], "no partial or temporary file may remain"


@pytest.mark.parametrize(
    ("precision", "device", "machine", "expected"),
    [
        (Precision.AUTO, "cpu", "x86_64", "isnet_int8"),
        (Precision.AUTO, "cpu", "aarch64", "isnet"),  # int8 not measured on arm64
        (Precision.AUTO, "cuda", "x86_64", "isnet"),  # QDQ graphs are not what CUDA kernels are made for
        (Precision.INT8, "cuda", "x86_64", "isnet_int8"),
        (Precision.FP32, "cpu", "x86_64", "isnet"),
    ],
)
def test_precision_picks_the_file(precision: Precision, device: str, machine: str, expected: str) -> None:
    assert isnet_model_name(precision, device, machine) == expected


@pytest.fixture(scope="module")
def sessions(models_dir: Path) -> dict[str, ort.InferenceSession]:
    cpu = ["CPUExecutionProvider"]
    return {
        name: create_session(models_dir / get_model(name).file, cpu, fixed_hw=SIZE) for name in ("isnet", "isnet_int8")
    }


@pytest.mark.parametrize("name", ["person_b.jpg", "grace_hopper.jpg", "group2.jpg", "chelsea.jpg"])
def test_int8_matte_stays_close_to_fp32(sessions: dict[str, ort.InferenceSession], name: str) -> None:
    """Whole photos, not the crops it was calibrated on (group2 and chelsea were never seen by the calibration)."""
    rgb = cv2.cvtColor(cv2.imread(str(DATA / name)), cv2.COLOR_BGR2RGB)
    fp32, int8 = (run_isnet(sessions[model], rgb, SIZE) for model in ("isnet", "isnet_int8"))
    assert float(np.mean((fp32 - int8) ** 2)) < 2e-3
    a, b = fp32 > 0.5, int8 > 0.5
    if a.sum() > 0.05 * a.size:  # IoU means little on a nearly empty matte
        assert (a & b).sum() / (a | b).sum() > 0.95


@pytest.mark.slow
def test_calibration_writes_ranges_that_quantize(isnet_path: Path, tmp_path: Path) -> None:
    """scripts/calibrate_isnet_int8.py's path, on two small inputs: the ranges file it writes builds a model that
    runs (other bytes than the pinned one, as the ranges differ)."""
    rng = np.random.default_rng(0)
    tensors = [rng.uniform(-0.5, 0.5, (1, 3, 64, 64)).astype(np.float32) for _ in range(2)]
    ranges = tmp_path / "ranges.json"
    calibrate(isnet_path, tensors, ranges)
    quantize_isnet(isnet_path, tmp_path / "int8.onnx", ranges)
    session = create_session(tmp_path / "int8.onnx", ["CPUExecutionProvider"], fixed_hw=(64, 64))
    matte = run_isnet(session, rng.integers(0, 256, (64, 64, 3), dtype=np.uint8), (64, 64))
    assert matte.shape == (64, 64) and np.isfinite(matte).all()
    assert sha256_file(tmp_path / "int8.onnx") != get_model("isnet_int8").sha256
