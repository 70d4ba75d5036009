"""A GPU image on a host without a working driver: ONNX Runtime offers CUDA but the session runs on the CPU.

FAKE (no GPU here): only ORT's *available provider list* is faked to include CUDA, as onnxruntime-gpu
reports it whatever the driver. The session itself is real, and ORT really drops CUDA when building it,
exactly the situation that must be reported rather than logged as "cuda".
"""

from __future__ import annotations

import logging

import pytest

from facecraft.config import Device, Settings
from facecraft.errors import ModelUnavailableError
from facecraft.pipeline.factory import build_pipeline
from facecraft.runtime import device as device_module


@pytest.fixture
def fake_cuda_listed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        device_module.ort, "get_available_providers", lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"]
    )


@pytest.mark.usefixtures("fake_cuda_listed")
def test_auto_reports_the_cpu_fallback(settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        pipeline = build_pipeline(settings.model_copy(update={"device": Device.AUTO}))
    assert pipeline.providers[:1] == ("CPUExecutionProvider",)
    assert "CUDA failed to initialise" in caplog.text


@pytest.mark.usefixtures("fake_cuda_listed")
def test_cuda_refuses_to_start_on_the_cpu(settings: Settings) -> None:
    with pytest.raises(ModelUnavailableError, match="could not use the GPU"):
        build_pipeline(settings.model_copy(update={"device": Device.CUDA}))
