"""The face mesh: eye centres (iris landmarks) and the face's outline, mouth and eyes.

The face mesh runs its own short-range detector, which misses faces that fill little of the frame, so it
is given a square crop around the face the full-range detector found. Iris centres (landmarks 468 and
473) measured about 0.5 degrees of eye-angle error against ~4.5 for the detector's eye keypoints. The
mesh's triangles (`face_surface`) also tell the matte which pixels are face by construction (pipeline/matte.py).
"""

from __future__ import annotations

import functools
import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from facecraft.imaging.geometry import NEUTRAL_FILL, Box, Point
from facecraft.models.mediapipe_loader import PerThread, import_mediapipe

_IRIS_CENTERS = (468, 473)
_CROP_FACTOR = 2.2  # square crop side relative to the face box: room for the mesh's own detector
_MESH_MAX_SIDE = 512
# Faces the mesh may find in that crop: the one asked for and neighbours close to it (`_the_mesh_of`).
_MESH_MAX_FACES = 3

# Landmark indices of MediaPipe's face mesh (mediapipe/python/solutions/face_mesh_connections.py),
# as closed polygons in drawing order. The oval runs along the forehead, temples, jaw and chin.
FACE_OVAL = (
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
    152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
)  # fmt: skip
LIPS_OUTER = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185)
CHIN = 152
# The jaw's two angles (left, right). The neck lies between them: under a turned head it is not under the chin.
JAW_ANGLES = (172, 397)

Landmarks = npt.NDArray[np.float32]
"""N x 2 face-mesh points (x, y) in pixels of the image they were located in."""


@dataclass(frozen=True)
class FaceMesh:
    """The 478 refined face-mesh landmarks in image pixels with depth: x, y, and z (in the same pixel scale as
    x, smaller is nearer the camera). The ID-photo framing reads the chin and the compliance checks read
    pose, eyelids and lips from it."""

    points: npt.NDArray[np.float64]  # (478, 3)

    @property
    def eyes(self) -> tuple[Point, Point]:
        """Iris centres, image-left first."""
        return eye_centres(self.points)


class EyeLocator:
    def __init__(self) -> None:
        self._solution: PerThread[Any] = PerThread(
            lambda solutions: solutions.face_mesh.FaceMesh(
                static_image_mode=True,
                refine_landmarks=True,
                max_num_faces=_MESH_MAX_FACES,
                min_detection_confidence=0.3,
            )
        )

    def mesh(self, rgb: npt.NDArray[np.uint8], face: Box) -> Landmarks | None:
        """The 478 face-mesh points of the face in `face`, in `rgb` pixels, or None when the mesh finds none.

        Points may lie outside the photo when the face is cut by its edge: the mesh extrapolates the face.
        """
        found = self.face_mesh(rgb, face)
        return None if found is None else found.points[:, :2].astype(np.float32)

    def face_mesh(self, rgb: npt.NDArray[np.uint8], face: Box) -> FaceMesh | None:
        """As `mesh`, with each point's depth (for head pose)."""
        cx, cy = face.center
        side = max(face.width, face.height) * _CROP_FACTOR
        x0, y0 = round(cx - side / 2), round(cy - side / 2)
        size = max(1, round(side))
        crop = _padded_crop(rgb, x0, y0, size)
        scale = min(1.0, _MESH_MAX_SIDE / size)
        if scale < 1.0:
            factor = int(1 / scale)
            if factor >= 2:
                # A face from a full-size decode: average whole factor x factor blocks first (OpenCV's fast
                # integer path), leaving out at most factor - 1 px at the right and bottom.
                size = size // factor * factor
                blocks = cv2.resize(crop[:size, :size], (size // factor, size // factor), interpolation=cv2.INTER_AREA)
                crop = np.asarray(blocks, dtype=np.uint8)
            crop = np.asarray(
                cv2.resize(crop, (round(size * scale), round(size * scale)), interpolation=cv2.INTER_AREA),
                dtype=np.uint8,
            )
        result = self._solution.get().process(np.ascontiguousarray(crop))
        if not result.multi_face_landmarks:
            return None
        side = crop.shape[0] / scale  # the crop's side in `rgb` pixels
        meshes = [
            FaceMesh(np.array([(x0 + p.x * side, y0 + p.y * side, p.z * side) for p in found.landmark]))
            for found in result.multi_face_landmarks
        ]
        return _the_mesh_of(meshes, face)

    def locate(self, rgb: npt.NDArray[np.uint8], face: Box) -> tuple[Point, Point] | None:
        """Iris centres (image-left, image-right) of the face in `face`, or None when the mesh finds none."""
        points = self.mesh(rgb, face)
        return None if points is None else eye_centres(points)


def _the_mesh_of(meshes: list[FaceMesh], face: Box) -> FaceMesh | None:
    """The mesh whose eyes lie in `face` (grown by a quarter on every side), nearest its centre; None when no
    mesh's do.

    The square crop around a face can also hold a neighbour's, and the mesh's own detector does not know which
    face it was asked for: in a document's wide first crop of a group photo it took the neighbour's.
    """
    cx, cy = face.center
    reach_x, reach_y = 0.75 * face.width, 0.75 * face.height  # half the box, and a quarter more
    best, best_distance = None, math.inf
    for mesh in meshes:
        (lx, ly), (rx, ry) = mesh.eyes
        x, y = (lx + rx) / 2, (ly + ry) / 2
        inside = abs(x - cx) <= reach_x and abs(y - cy) <= reach_y
        distance = math.hypot(x - cx, y - cy)
        if inside and distance < best_distance:
            best, best_distance = mesh, distance
    return best


def eye_centres(points: npt.NDArray[np.float32] | npt.NDArray[np.float64]) -> tuple[Point, Point]:
    """Iris centres (image-left, image-right) from face-mesh points."""
    left, right = sorted((float(points[i, 0]), float(points[i, 1])) for i in _IRIS_CENTERS)
    return left, right


def face_surface(shape: tuple[int, int], points: Landmarks) -> npt.NDArray[np.bool_]:
    """The face as seen in an image of `shape` (height, width): inside the oval, inside the lips, or on any of the
    mesh's triangles.

    The oval (FACE_OVAL) is a line drawn on the face. When the head is turned, the nose and lips stand out beyond
    it in the picture (a woman in three-quarter view at the passport preset had 4 % of her lips transparent); the
    triangles cover them. The mesh leaves the open mouth untriangulated, so the lips' outline fills it. Each
    polygon is filled on its own: on a turned face they overlap, and one fill of many polygons leaves overlaps out.
    """
    canvas = np.zeros(shape, dtype=np.uint8)
    # Sub-pixel precision: 4 fractional bits, as in imaging.trimap.polygon_mask.
    fixed = np.round(points * 16).astype(np.int32)
    for outline in (FACE_OVAL, LIPS_OUTER):
        cv2.fillPoly(canvas, [fixed[list(outline)]], (1,), lineType=cv2.LINE_8, shift=4)
    for triangle in fixed[_mesh_triangles()]:
        cv2.fillConvexPoly(canvas, triangle, (1,), lineType=cv2.LINE_8, shift=4)
    return canvas.astype(bool)


@functools.cache
def _mesh_triangles() -> npt.NDArray[np.intp]:
    """The mesh's triangles as landmark indices (854 x 3). MediaPipe lists its tessellation as edges; a triangle
    is three landmarks joined to each other."""
    edges = import_mediapipe().face_mesh_connections.FACEMESH_TESSELATION
    joined: defaultdict[int, set[int]] = defaultdict(set)
    for a, b in edges:
        joined[a].add(b)
        joined[b].add(a)
    triangles = {tuple(sorted((a, b, c))) for a, b in edges for c in joined[a] & joined[b]}
    return np.array(sorted(triangles), dtype=np.intp)


def _padded_crop(rgb: npt.NDArray[np.uint8], x0: int, y0: int, size: int) -> npt.NDArray[np.uint8]:
    """A size x size crop at (x0, y0); parts beyond the photo are neutral grey.

    Replicating the border instead would paint streaks of skin beside a face cut by the frame, which the
    mesh reads as more face.
    """
    height, width = rgb.shape[:2]
    left, top = max(0, -x0), max(0, -y0)
    right, bottom = max(0, x0 + size - width), max(0, y0 + size - height)
    inner = rgb[max(0, y0) : min(height, y0 + size), max(0, x0) : min(width, x0 + size)]
    if left or top or right or bottom:
        inner = np.asarray(cv2.copyMakeBorder(inner, top, bottom, left, right, cv2.BORDER_CONSTANT, value=NEUTRAL_FILL))
    return np.asarray(inner, dtype=np.uint8)
