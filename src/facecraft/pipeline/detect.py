"""Find faces: MediaPipe's full-range face detector (bundled in the mediapipe 0.10.21 wheel).

MediaPipe solution objects keep per-graph state and are not safe to share between threads, so each
worker thread gets its own detector (a few MB each).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from facecraft.imaging.geometry import Box, Point
from facecraft.models.mediapipe_loader import PerThread

# MediaPipe scales its input to 192x192 anyway; a smaller copy only saves conversion time.
_DETECTION_MAX_SIDE = 1280


@dataclass(frozen=True)
class DetectedFace:
    box: Box  # in input-image pixels
    score: float
    left_eye: Point  # image-left eye from the detector's keypoints (coarse: a few degrees)
    right_eye: Point


class FaceDetector:
    """Every face in a photo, largest first."""

    def __init__(self, min_confidence: float = 0.5) -> None:
        self._min_confidence = min_confidence
        self._solution: PerThread[Any] = PerThread(
            lambda solutions: solutions.face_detection.FaceDetection(
                model_selection=1, min_detection_confidence=min_confidence
            )
        )

    def detect(self, rgb: npt.NDArray[np.uint8]) -> list[DetectedFace]:
        height, width = rgb.shape[:2]
        scale = min(1.0, _DETECTION_MAX_SIDE / max(height, width))
        small = rgb
        if scale < 1.0:
            # At least 1 px: a 40000x1 strip would otherwise round to 0 rows and make OpenCV throw.
            small_size = (max(1, round(width * scale)), max(1, round(height * scale)))
            small = np.asarray(cv2.resize(rgb, small_size, interpolation=cv2.INTER_AREA), dtype=np.uint8)
        result = self._solution.get().process(np.ascontiguousarray(small))
        faces = [_to_face(detection, width, height) for detection in (result.detections or [])]
        faces = [face for face in faces if face.box.width >= 8 and face.box.height >= 8]
        return sorted(faces, key=lambda face: face.box.area, reverse=True)


def _to_face(detection: Any, width: int, height: int) -> DetectedFace:
    rel = detection.location_data.relative_bounding_box
    x0 = max(0.0, rel.xmin * width)
    y0 = max(0.0, rel.ymin * height)
    x1 = min(float(width), (rel.xmin + rel.width) * width)
    y1 = min(float(height), (rel.ymin + rel.height) * height)
    keypoints = detection.location_data.relative_keypoints
    # Keypoints 0 and 1 are the eyes; sort them by x so "left" means image-left whatever the labels say.
    eyes = sorted(
        ((keypoints[0].x * width, keypoints[0].y * height), (keypoints[1].x * width, keypoints[1].y * height))
    )
    return DetectedFace(
        box=Box(x0, y0, max(0.0, x1 - x0), max(0.0, y1 - y0)),
        score=float(detection.score[0]),
        left_eye=eyes[0],
        right_eye=eyes[1],
    )
