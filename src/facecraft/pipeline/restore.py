"""Face restoration: the built-in non-neural chain, or a user-supplied ONNX restorer.

No neural face-restoration weights (CodeFormer, GFPGAN, ...) can be had from any package registry, so
none is bundled. The built-in chain (edge-preserving denoise, local contrast, detail) runs on the face
region only. Operators who hold a GFPGAN/CodeFormer-style ONNX export (1x3x512x512 RGB in [-1, 1] in
and out) can point FACECRAFT_RESTORER_PATH at it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np
import numpy.typing as npt

from facecraft.errors import ModelUnavailableError
from facecraft.imaging.enhance import restore_face_details
from facecraft.imaging.geometry import Box
from facecraft.runtime.sessions import create_session

_RESTORER_SIDE = 512
_FACE_CONTEXT = 1.6  # the restorer sees the face box grown by this factor, as such models are trained


class FaceRestorer(Protocol):
    name: str

    def restore(self, rgb: npt.NDArray[np.uint8], face: Box, fidelity: float) -> npt.NDArray[np.uint8]: ...


class BuiltinRestorer:
    name = "builtin"

    def restore(self, rgb: npt.NDArray[np.uint8], face: Box, fidelity: float) -> npt.NDArray[np.uint8]:
        x, y, w, h = face.as_ints()
        return restore_face_details(rgb, (x, y, w, h), fidelity)


class OnnxFaceRestorer:
    """Runs a 512x512 ONNX restorer on the face and blends it back; fidelity 1 keeps the input."""

    name = "onnx"

    def __init__(self, session: Any) -> None:
        inputs = session.get_inputs()
        if len(inputs) != 1 or list(inputs[0].shape[1:]) not in (
            [3, _RESTORER_SIDE, _RESTORER_SIDE],
            [3, "h", "w"],
        ):
            shape = inputs[0].shape if inputs else None
            raise ModelUnavailableError(f"The face restorer must take one 1x3x512x512 input; it takes {shape}.")
        self._session = session
        self._input = inputs[0].name

    @classmethod
    def load(cls, path: Path, providers: list[str]) -> OnnxFaceRestorer:
        if not path.is_file():
            raise ModelUnavailableError("FACECRAFT_RESTORER_PATH does not point to a readable file.")
        if path.suffix.lower() != ".onnx":
            raise ModelUnavailableError("The face restorer must be an .onnx file (PyTorch weights need torch).")
        return cls(create_session(path, providers))

    def restore(self, rgb: npt.NDArray[np.uint8], face: Box, fidelity: float) -> npt.NDArray[np.uint8]:
        height, width = rgb.shape[:2]
        cx, cy = face.center
        side = max(face.width, face.height) * _FACE_CONTEXT
        x0, y0 = round(cx - side / 2), round(cy - side / 2)
        x1, y1 = min(width, x0 + round(side)), min(height, y0 + round(side))
        x0, y0 = max(0, x0), max(0, y0)
        if x1 - x0 < 8 or y1 - y0 < 8:
            return rgb
        region = rgb[y0:y1, x0:x1]
        tensor = cv2.resize(region, (_RESTORER_SIDE, _RESTORER_SIDE), interpolation=cv2.INTER_CUBIC)
        tensor = (tensor.astype(np.float32) / 127.5 - 1.0).transpose(2, 0, 1)[None]
        output = self._session.run(None, {self._input: tensor})[0][0]
        restored = ((np.clip(output.transpose(1, 2, 0), -1.0, 1.0) + 1.0) * 127.5).astype(np.float32)
        restored = cv2.resize(restored, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA)
        # Feathered blend so the restored square leaves no seam; fidelity keeps part of the original.
        weight = _feather(y1 - y0, x1 - x0) * (1.0 - fidelity)
        blended = region.astype(np.float32) * (1 - weight[..., None]) + restored * weight[..., None]
        out = rgb.copy()
        out[y0:y1, x0:x1] = np.clip(np.rint(blended), 0, 255).astype(np.uint8)
        return out


def _feather(height: int, width: int) -> npt.NDArray[np.float32]:
    """1 in the middle, falling smoothly to 0 at the edges (an eighth of the side)."""
    ramp_y = np.clip(np.minimum(np.arange(height), np.arange(height)[::-1]) / max(1, height / 8), 0, 1)
    ramp_x = np.clip(np.minimum(np.arange(width), np.arange(width)[::-1]) / max(1, width / 8), 0, 1)
    return np.outer(ramp_y, ramp_x).astype(np.float32)
