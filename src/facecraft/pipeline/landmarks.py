"""Eye centres from MediaPipe's face mesh with refined (iris) landmarks.

The face mesh runs its own short-range detector, which misses faces that fill little of the frame, so it
is given a square crop around the face the full-range detector found. Iris centres (landmarks 468 and
473) measured about 0.5 degrees of eye-angle error against ~4.5 for the detector's eye keypoints.
"""

from __future__ import annotations

import threading
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from facecraft.imaging.geometry import Box, Point
from facecraft.models.mediapipe_loader import import_mediapipe

_IRIS_CENTERS = (468, 473)
_CROP_FACTOR = 2.2  # square crop side relative to the face box: room for the mesh's own detector
_MESH_MAX_SIDE = 512


class EyeLocator:
    def __init__(self) -> None:
        self._local = threading.local()

    def _solution(self) -> Any:
        solution = getattr(self._local, "solution", None)
        if solution is None:
            solutions = import_mediapipe()
            solution = solutions.face_mesh.FaceMesh(
                static_image_mode=True, refine_landmarks=True, max_num_faces=1, min_detection_confidence=0.3
            )
            self._local.solution = solution
        return solution

    def locate(self, rgb: npt.NDArray[np.uint8], face: Box) -> tuple[Point, Point] | None:
        """Iris centres (image-left, image-right) of the face in `face`, or None when the mesh finds none."""
        cx, cy = face.center
        side = max(face.width, face.height) * _CROP_FACTOR
        x0, y0 = round(cx - side / 2), round(cy - side / 2)
        size = max(1, round(side))
        crop = _padded_crop(rgb, x0, y0, size)
        scale = min(1.0, _MESH_MAX_SIDE / size)
        if scale < 1.0:
            crop = np.asarray(
                cv2.resize(crop, (round(size * scale), round(size * scale)), interpolation=cv2.INTER_AREA),
                dtype=np.uint8,
            )
        result = self._solution().process(np.ascontiguousarray(crop))
        if not result.multi_face_landmarks:
            return None
        landmarks = result.multi_face_landmarks[0].landmark
        crop_side = crop.shape[0]
        eyes = sorted(
            (x0 + landmarks[i].x * crop_side / scale, y0 + landmarks[i].y * crop_side / scale) for i in _IRIS_CENTERS
        )
        return eyes[0], eyes[1]


def _padded_crop(rgb: npt.NDArray[np.uint8], x0: int, y0: int, size: int) -> npt.NDArray[np.uint8]:
    """A size x size crop at (x0, y0); parts beyond the photo repeat its border."""
    height, width = rgb.shape[:2]
    left, top = max(0, -x0), max(0, -y0)
    right, bottom = max(0, x0 + size - width), max(0, y0 + size - height)
    inner = rgb[max(0, y0) : min(height, y0 + size), max(0, x0) : min(width, x0 + size)]
    if left or top or right or bottom:
        inner = np.asarray(cv2.copyMakeBorder(inner, top, bottom, left, right, cv2.BORDER_REPLICATE))
    return np.asarray(inner, dtype=np.uint8)
