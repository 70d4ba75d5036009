"""Map the DEVICE setting to ONNX Runtime execution providers, loudly.

Peer images are criticised for silently running on CPU inside a GPU container; here `auto` logs a
warning when it falls back and `cuda` refuses to start without CUDA.
"""

from __future__ import annotations

import logging

import onnxruntime as ort

from facecraft.config import Device
from facecraft.errors import ModelUnavailableError

log = logging.getLogger(__name__)

CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"


def resolve_providers(device: Device) -> tuple[list[str], str]:
    """Return (providers in priority order, "cuda" or "cpu")."""
    available: list[str] = list(ort.get_available_providers())
    if device is Device.CPU:
        return [CPU], "cpu"
    if CUDA in available:
        # CPU stays listed: ORT places the few ops CUDA lacks there.
        return [CUDA, CPU], "cuda"
    if device is Device.CUDA:
        raise ModelUnavailableError(
            "FACECRAFT_DEVICE=cuda but ONNX Runtime has no CUDA provider (install onnxruntime-gpu and run "
            "with a GPU, e.g. docker run --gpus all), or set FACECRAFT_DEVICE=auto/cpu",
            available_providers=available,
        )
    log.warning(
        "FACECRAFT_DEVICE=auto: CUDA is not available to ONNX Runtime (providers: %s); using CPU",
        ", ".join(available),
    )
    return [CPU], "cpu"


def session_device(providers_in_use: list[str]) -> str:
    """What a built session really runs on: ORT drops CUDA quietly when its libraries fail to load."""
    return "cuda" if providers_in_use and providers_in_use[0] == CUDA else "cpu"


def confirm_device(requested: Device, expected: str, used: str) -> None:
    """Compare the device a built session really uses with the one asked for.

    ORT lists CUDAExecutionProvider whenever onnxruntime-gpu is installed, but drops it quietly when the
    CUDA libraries or the driver fail to load; only the built session tells. `cuda` then refuses to run,
    `auto` says loudly that it runs on the CPU.
    """
    if expected == used:
        return
    if requested is Device.CUDA:
        raise ModelUnavailableError(
            "FACECRAFT_DEVICE=cuda but ONNX Runtime could not use the GPU (driver or CUDA libraries missing; "
            "run the :gpu image with --gpus all on a host with the NVIDIA driver), or set FACECRAFT_DEVICE=auto"
        )
    log.warning("FACECRAFT_DEVICE=%s: CUDA failed to initialise in ONNX Runtime; running on the CPU", requested.value)
