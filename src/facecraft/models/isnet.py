"""ISNet (DIS) salient-object matting: pre- and post-processing around one shared ONNX Runtime session.

An `ort.InferenceSession.run` is thread-safe, so one session serves every worker thread; a session
per thread would multiply the ~0.6 GB of ISNet activations instead.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import onnxruntime as ort

from facecraft.errors import InvalidOptionError
from facecraft.runtime.device import session_device
from facecraft.runtime.sessions import create_session

ISNET_SIZE_MULTIPLE = 32
# imgly's preprocessing (dist/index.cjs, tensorHWCtoBCHW): RGB, (x - 128) / 256 per channel.
ISNET_MEAN = 128.0
ISNET_STD = 256.0


def check_isnet_size(size: int | tuple[int, int]) -> tuple[int, int]:
    """Normalise a square size or (height, width) and reject what the graph cannot run."""
    height, width = (size, size) if isinstance(size, int) else size
    for value in (height, width):
        if value < ISNET_SIZE_MULTIPLE or value % ISNET_SIZE_MULTIPLE:
            raise InvalidOptionError(
                f"ISNet input size must be a positive multiple of {ISNET_SIZE_MULTIPLE}, got {value}"
            )
    return height, width


def isnet_input(rgb: npt.NDArray[np.uint8], size: tuple[int, int]) -> npt.NDArray[np.float32]:
    """Resize (bilinear, as imgly does) and normalise an HxWx3 RGB image to 1x3xHxW."""
    height, width = size
    shrinking = height * width < rgb.shape[0] * rgb.shape[1]
    # imgly resizes bilinearly; when shrinking a large crop, area averaging avoids aliasing instead.
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    resized = cv2.resize(rgb, (width, height), interpolation=interpolation)
    tensor = (resized.astype(np.float32) - ISNET_MEAN) / ISNET_STD
    return np.ascontiguousarray(tensor.transpose(2, 0, 1)[None])


def run_isnet(
    session: ort.InferenceSession, rgb: npt.NDArray[np.uint8], size: int | tuple[int, int] = 512
) -> npt.NDArray[np.float32]:
    """Alpha matte in [0, 1], float32, same HxW as `rgb`.

    The graph ends in a sigmoid; imgly uses that output directly (no min-max stretch as in the DIS
    demo, which would turn an all-background crop into noise), so only clipping is applied.
    """
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise InvalidOptionError("ISNet expects an HxWx3 uint8 RGB image")
    shape = check_isnet_size(size)
    (alpha,) = session.run(["output"], {"input": isnet_input(rgb, shape)})
    matte: npt.NDArray[np.float32] = np.asarray(alpha, dtype=np.float32)[0, 0]
    height, width = rgb.shape[:2]
    if matte.shape != (height, width):
        resized = cv2.resize(matte, (width, height), interpolation=cv2.INTER_LINEAR)
        matte = np.asarray(resized, dtype=np.float32)
    np.clip(matte, 0.0, 1.0, out=matte)
    return matte


class IsnetMatter:
    """One ISNet session at one input size, shared by every worker thread."""

    def __init__(
        self,
        path: Path,
        providers: list[str],
        size: int | tuple[int, int] = 512,
        threads: int = 0,
    ) -> None:
        self.size = check_isnet_size(size)
        self.session = create_session(path, providers, threads, fixed_hw=self.size)
        self.providers_in_use: list[str] = list(self.session.get_providers())
        self.device = session_device(self.providers_in_use)

    def __call__(self, rgb: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
        return run_isnet(self.session, rgb, self.size)
