from __future__ import annotations

import logging
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from skimage import data

from facecraft.config import Device
from facecraft.errors import InvalidOptionError, ModelUnavailableError
from facecraft.models.mediapipe_loader import import_mediapipe
from facecraft.runtime import device as device_module
from facecraft.runtime.device import resolve_providers
from facecraft.runtime.sessions import IsnetMatter, check_isnet_size


def test_cpu_is_cpu() -> None:
    assert resolve_providers(Device.CPU) == (["CPUExecutionProvider"], "cpu")


def test_auto_without_cuda_falls_back_loudly(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(device_module.ort, "get_available_providers", lambda: ["CPUExecutionProvider"])
    with caplog.at_level(logging.WARNING):
        assert resolve_providers(Device.AUTO) == (["CPUExecutionProvider"], "cpu")
    assert "CUDA is not available" in caplog.text


def test_cuda_without_cuda_refuses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(device_module.ort, "get_available_providers", lambda: ["CPUExecutionProvider"])
    with pytest.raises(ModelUnavailableError, match="no CUDA provider"):
        resolve_providers(Device.CUDA)


def test_auto_prefers_cuda_when_ort_offers_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # Faked: this machine has no GPU, so only the provider list is simulated, not a CUDA session.
    monkeypatch.setattr(
        device_module.ort,
        "get_available_providers",
        lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"],
    )
    assert resolve_providers(Device.AUTO) == (["CUDAExecutionProvider", "CPUExecutionProvider"], "cuda")


@pytest.mark.parametrize("size", [500, 16, 0, (512, 500)])
def test_isnet_sizes_must_be_multiples_of_32(size: int | tuple[int, int]) -> None:
    with pytest.raises(InvalidOptionError):
        check_isnet_size(size)


def test_matter_is_shared_across_threads(isnet_path: Path) -> None:
    matter = IsnetMatter(isnet_path, ["CPUExecutionProvider"], size=256, threads=1)
    assert matter.device == "cpu" and matter.providers_in_use == ["CPUExecutionProvider"]
    image = data.astronaut()
    crops = [image, image[:400, 50:450], image]
    with ThreadPoolExecutor(3) as pool:
        mattes = list(pool.map(matter, crops))
    assert mattes[1].shape == (400, 400)
    np.testing.assert_array_equal(mattes[0], mattes[2])


def test_fixed_size_session_rejects_another_size(isnet_path: Path) -> None:
    matter = IsnetMatter(isnet_path, ["CPUExecutionProvider"], size=256)
    with pytest.raises(Exception, match=r"(?i)dimension|shape"):
        matter.session.run(["output"], {"input": np.zeros((1, 3, 320, 320), np.float32)})


def test_mediapipe_imports_without_matplotlib() -> None:
    solutions = import_mediapipe()
    assert hasattr(solutions, "face_mesh") and hasattr(solutions, "selfie_segmentation")
    stand_in = sys.modules.get("matplotlib")
    # Either the real matplotlib or our empty stand-in (which has no file).
    assert stand_in is None or getattr(stand_in, "__file__", None) is not None or stand_in.__path__ == []
