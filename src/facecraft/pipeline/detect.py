"""Find faces: MediaPipe's full-range face detector, and its short-range one as a fallback (both bundled in the
mediapipe wheel).

MediaPipe solution objects keep per-graph state and are not safe to share between threads, so each
worker thread gets its own detector (a few MB each).

The detector finds upright faces only (roughly +-25 degrees). Photos that lost their EXIF orientation
(scans, some exports) arrive sideways or upside down, so `find_faces` tries the detector's small copy
turned by 90, 180 and 270 degrees, then by +-30 degrees in-plane, before giving up. Upright photos pay
nothing for this: the turns run only when the first try finds no face.

When the full-range model finds no upright face in the photo as sent, the short-range model looks too: it is made
for faces that fill the frame (close-up selfies, tight crops), which the full-range model misses, or worse, "finds"
in a turned view (an upright close-up scored up to 0.87 in its view turned 90 degrees). Its keypoints cannot tell a
sideways face from an upright one (it reports the mouth below the eyes either way), so the views compete on score
instead: every view's sightings by either model, the view as sent winning near-ties (photos arrive upright far more
often than turned). Upright photos that the full-range model finds a face in never run any of this.
Under QEMU the aarch64 mediapipe 0.10.18's full-range model finds no face at all while the short-range one does,
so the emulated arm64 image finds faces only through the short-range model.

Both models fit the whole view into a 192 px square, so in a panorama or a wide group photo (over 2:1) faces shrink
below what they find; such views are also searched in square windows along their length. The windows also see
faces lying sideways, so a long view's faces as sent compete on score with the turned views', like the short-range
model's. In other views where the faces found are small (a group photo), six overlapping tiles find the faces the
whole view missed; the faces it found keep their sightings and come first.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from facecraft.imaging.geometry import Box, Point
from facecraft.models.mediapipe_loader import PerThread

# MediaPipe scales its input to 192x192 anyway; a smaller copy only saves conversion time.
DETECTION_MAX_SIDE = 1280
_DETECTION_MAX_SIDE = DETECTION_MAX_SIDE

# Counter-clockwise turns of the photo, tried in this order until an upright face is found.
TURNS: tuple[int, ...] = (0, 90, 180, 270, 30, -30)
# MediaPipe's two face detection models; the short-range one looks only when the full-range one finds no upright
# face in the photo as sent.
FULL_RANGE = "full_range"  # model_selection=1: faces up to about 5 m away, the default
SHORT_RANGE = "short_range"  # model_selection=0: faces within about 2 m, filling much of the frame
# Short-range scores on close-ups cut from the test photos (face 0.45-0.9 of the frame), each at 4 quarter turns: the
# upright view scored 0.68-0.95; the same faces turned scored up to 0.89 (person_a, whose head is tilted ~30 degrees,
# scores alike either way); coffee cups and a cat's face in turned views 0.5-0.65. Turned views need this much:
SHORT_RANGE_TURNED_MIN = 0.7
# The view as sent wins when its best score is within this of a turned view's: most photos arrive upright.
UPRIGHT_PRIOR = 0.05
# Views longer than this many times their width are also searched in square windows (see _faces_in).
_WINDOWED_ABOVE = 2.0
# ...unless they are thinner than this (a strip holds no face the detector could find; its 8 px minimum box).
_WINDOW_MIN_SIDE = 64
# Other views whose largest face found is narrower than their long side over this are searched in tiles too:
# such a face is under 32 px in the model's 192 px input, where it starts to miss faces (a 1024 px group photo
# showed 3 of its 4 faces, a 1280 px one 3 of 6; with tiles 0.6 of the view, 4 of 4 and 5 of 6).
_TILED_BELOW = 6.0
_TILE = 0.6
# The detector also fires on some upside-down or sideways faces; its mouth keypoint then lies beside or
# above the eyes, and the search goes on to a turn that shows the face upright.
_UPRIGHT_TOLERANCE = 50.0


@dataclass(frozen=True)
class DetectedFace:
    box: Box  # in input-image pixels
    score: float
    left_eye: Point  # image-left eye from the detector's keypoints (coarse: a few degrees)
    right_eye: Point
    mouth: Point | None = None  # mouth centre keypoint: tells whether the face is upright in this view

    def is_upright(self) -> bool:
        """Mouth below the eyes, within 50 degrees of straight down (y points down)."""
        if self.mouth is None:
            return True
        mid_x = (self.left_eye[0] + self.right_eye[0]) / 2
        mid_y = (self.left_eye[1] + self.right_eye[1]) / 2
        down_x, down_y = self.mouth[0] - mid_x, self.mouth[1] - mid_y
        return down_y > 0 and abs(math.degrees(math.atan2(down_x, down_y))) <= _UPRIGHT_TOLERANCE


class FaceDetector:
    """Every face in a photo, largest first (faces found only in tiles after the rest: see `_faces_in`)."""

    def __init__(self, min_confidence: float = 0.5) -> None:
        self._min_confidence = min_confidence
        self._full_range = _detection(1, min_confidence)
        self._short_range = _detection(0, min_confidence)  # built only when the full-range model finds nothing

    def detect(self, rgb: npt.NDArray[np.uint8]) -> list[DetectedFace]:
        """Upright faces only, in `rgb` pixels."""
        found = self.find_faces(rgb, turns=(0,))
        return [found.face_in_source(face) for face in found.faces]

    def find_faces(self, rgb: npt.NDArray[np.uint8], turns: tuple[int, ...] = TURNS) -> FoundFaces:
        """Faces in the view of `turns` that most likely shows them upright; `faces` are in that view's pixels."""
        small, small_to_source = _small_copy(rgb)
        views: dict[int, tuple[npt.NDArray[np.uint8], npt.NDArray[np.float64]]] = {}
        sightings: list[FoundFaces] = []
        odd_angle: FoundFaces | None = None
        quarter_turns = tuple(turn for turn in turns if turn % 90 == 0)
        # The in-plane turns (+-30) run only when no quarter turn shows a face to either model.
        for phase in (quarter_turns, tuple(turn for turn in turns if turn % 90)):
            for turn in phase:
                view, view_to_small = views[turn] = _turned(small, turn)
                faces = _faces_in(self._full_range, view)
                if not faces:
                    continue
                found = FoundFaces(faces, view, turn, _compose(small_to_source, view_to_small))
                # A long view's windows also see faces lying sideways, some "upright" by their keypoints (a
                # panorama stored sideways came out upside down): there the turned views compete on score.
                if len(turns) == 1 or (turn == 0 and faces[0].is_upright() and not _windowed(view)):
                    return found  # the common case: one detector run
                if faces[0].is_upright():
                    sightings.append(found)
                else:
                    odd_angle = odd_angle or found
            if phase is quarter_turns:
                sightings += self._short_range_sightings(views, small_to_source)
            if sightings:
                return _most_likely(sightings)
        # A face seen only at an odd angle: keep the first sighting, its eyes ordered by the mouth keypoint.
        if odd_angle is not None:
            return dataclasses.replace(odd_angle, faces=[_eyes_by_mouth(face) for face in odd_angle.faces])
        return FoundFaces([], small, 0, small_to_source)

    def _short_range_sightings(
        self,
        views: dict[int, tuple[npt.NDArray[np.uint8], npt.NDArray[np.float64]]],
        small_to_source: npt.NDArray[np.float64],
    ) -> list[FoundFaces]:
        """The short-range model's faces in the quarter-turn views; turned views only when clearly a face."""
        sightings = []
        for turn in (turn for turn in views if turn % 90 == 0):
            view, view_to_small = views[turn]
            faces = _faces_in(self._short_range, view)
            if turn != 0:
                faces = [face for face in faces if face.score >= SHORT_RANGE_TURNED_MIN]
            if faces:
                sightings.append(FoundFaces(faces, view, turn, _compose(small_to_source, view_to_small), SHORT_RANGE))
        return sightings


def _most_likely(sightings: list[FoundFaces]) -> FoundFaces:
    """The best-scored sighting; the view as sent wins when it scores within UPRIGHT_PRIOR of it."""
    best = max(sightings, key=lambda found: found.faces[0].score)
    as_sent = [found for found in sightings if found.turn == 0]
    if as_sent:
        upright = max(as_sent, key=lambda found: found.faces[0].score)
        if upright.faces[0].score >= best.faces[0].score - UPRIGHT_PRIOR:
            return upright
    return best


def _faces_in(solution: PerThread[Any], view: npt.NDArray[np.uint8]) -> list[DetectedFace]:
    """The faces one detection model finds in `view`, largest first, in view pixels.

    A view much longer than it is wide (a panorama, a wide group photo) is also searched in square windows: the
    model fits the whole view into its 192 px input, and in a 3:1 view the faces shrank below what it finds.
    Other views whose faces are small (a group photo) are also searched in tiles; the faces only the tiles find
    come after the others, largest first among themselves.
    """
    faces = _detections(solution, view)
    missed: list[DetectedFace] = []
    if _windowed(view):
        faces = _distinct(faces + _faces_in_windows(solution, view))
    elif faces and max(face.box.width for face in faces) < max(view.shape[:2]) / _TILED_BELOW:
        # The faces the whole view found keep their sightings and their order, so the subject (the largest) and
        # its box stay as they were: a tile sees a face larger than the whole view does (a face of 116 px seen
        # whole measured 127 in a tile), and a face found only there would win the choice by that alone.
        missed = [face for face in _distinct(_faces_in_tiles(solution, view)) if _new_face(face, faces)]
    return [
        face
        for group in (faces, missed)
        for face in sorted(group, key=lambda face: face.box.area, reverse=True)
        if face.box.width >= 8 and face.box.height >= 8
    ]


def _windowed(view: npt.NDArray[np.uint8]) -> bool:
    """Whether the view is long enough to be searched in windows too (and not a thin strip)."""
    height, width = view.shape[:2]
    return max(height, width) > _WINDOWED_ABOVE * min(height, width) and min(height, width) >= _WINDOW_MIN_SIDE


def _detections(solution: PerThread[Any], view: npt.NDArray[np.uint8]) -> list[DetectedFace]:
    height, width = view.shape[:2]
    result = solution.get().process(np.ascontiguousarray(view))
    return [_to_face(detection, width, height) for detection in (result.detections or [])]


def _faces_in_windows(solution: PerThread[Any], view: npt.NDArray[np.uint8]) -> list[DetectedFace]:
    """Faces in square windows along the view's long side, each overlapping the next by half, in view pixels.

    A sighting that touches a window's edge inside the view is a face cut by the window: it is left out (with half
    the window's overlap, a face up to half its side shows whole in another; larger ones the whole view finds).
    It scored above the whole face's sighting on a tall close-up (person_c), and its box was a fifth of a face off.
    """
    height, width = view.shape[:2]
    side = min(height, width)
    length = max(height, width)
    starts = [*range(0, length - side, side // 2), length - side]
    if width > height:
        return [face for start in starts for face in _whole_sightings(solution, view, start, 0, side, height)]
    return [face for start in starts for face in _whole_sightings(solution, view, 0, start, width, side)]


def _faces_in_tiles(solution: PerThread[Any], view: npt.NDArray[np.uint8]) -> list[DetectedFace]:
    """Faces in six overlapping tiles of the view (two rows of three, each `_TILE` of its width and height), in view
    pixels; as in the windows, a face cut by a tile's edge is left out."""
    height, width = view.shape[:2]
    tile_height, tile_width = round(height * _TILE), round(width * _TILE)
    return [
        face
        for top in (0, height - tile_height)
        for left in (0, (width - tile_width) // 2, width - tile_width)
        for face in _whole_sightings(solution, view, left, top, tile_width, tile_height)
    ]


def _whole_sightings(
    solution: PerThread[Any], view: npt.NDArray[np.uint8], left: int, top: int, width: int, height: int
) -> list[DetectedFace]:
    """The faces found in the part of `view` at (left, top) of this size, in view pixels. A sighting touching the
    part's edge inside the view is a face cut by that edge, and is left out."""
    view_height, view_width = view.shape[:2]
    faces = []
    for face in _detections(solution, view[top : top + height, left : left + width]):
        box = face.box
        cut = (
            (left > 0 and box.x <= 1)
            or (top > 0 and box.y <= 1)
            or (left + width < view_width and box.x + box.width >= width - 1)
            or (top + height < view_height and box.y + box.height >= height - 1)
        )
        if not cut:
            faces.append(_shifted(face, left, top))
    return faces


def _new_face(face: DetectedFace, found: list[DetectedFace]) -> bool:
    """Whether no face in `found` shares most of the smaller box with this one's."""
    return all(_shared(face.box, other.box) <= 0.5 for other in found)


def _shifted(face: DetectedFace, dx: float, dy: float) -> DetectedFace:
    def move(point: Point) -> Point:
        return (point[0] + dx, point[1] + dy)

    box = Box(face.box.x + dx, face.box.y + dy, face.box.width, face.box.height)
    mouth = None if face.mouth is None else move(face.mouth)
    return dataclasses.replace(face, box=box, left_eye=move(face.left_eye), right_eye=move(face.right_eye), mouth=mouth)


def _distinct(faces: list[DetectedFace]) -> list[DetectedFace]:
    """One sighting per face: of boxes that share most of the smaller one (the same face seen whole, in a window,
    or cut by a window's edge), the best-scored."""
    kept: list[DetectedFace] = []
    for face in sorted(faces, key=lambda face: face.score, reverse=True):
        if _new_face(face, kept):
            kept.append(face)
    return kept


def _shared(a: Box, b: Box) -> float:
    """The overlap of two boxes as a share of the smaller one's area."""
    width = min(a.x + a.width, b.x + b.width) - max(a.x, b.x)
    height = min(a.y + a.height, b.y + b.height) - max(a.y, b.y)
    if width <= 0 or height <= 0:
        return 0.0
    return width * height / max(1e-6, min(a.area, b.area))


def _detection(model_selection: int, min_confidence: float) -> PerThread[Any]:
    return PerThread(
        lambda solutions: solutions.face_detection.FaceDetection(
            model_selection=model_selection, min_detection_confidence=min_confidence
        )
    )


@dataclass(frozen=True)
class FoundFaces:
    """The detector's answer and the view it was found in (the small copy, turned by `turn` degrees)."""

    faces: list[DetectedFace]  # view pixels, largest first (tile-only faces after the rest)
    view: npt.NDArray[np.uint8]  # the small copy as turned; at most DETECTION_MAX_SIDE on a side
    turn: int  # degrees counter-clockwise the photo was turned to find the faces (0 = as sent)
    to_source: npt.NDArray[np.float64] = field(repr=False)  # 2x3: view pixel -> source pixel
    model: str = FULL_RANGE  # which detection model found the faces: FULL_RANGE or SHORT_RANGE

    def point_in_source(self, point: Point) -> Point:
        m = self.to_source
        x, y = point
        return (m[0, 0] * x + m[0, 1] * y + m[0, 2], m[1, 0] * x + m[1, 1] * y + m[1, 2])

    def box_in_source(self, box: Box) -> Box:
        """The face box in source pixels: same centre, sides scaled (swapped by quarter turns).

        Mapping the corners instead would grow a box turned by 30 degrees by a third, and the
        framing takes the face size from the box.
        """
        cx, cy = self.point_in_source(box.center)
        scale = math.hypot(self.to_source[0, 0], self.to_source[1, 0])
        width, height = box.width * scale, box.height * scale
        if self.turn % 180 == 90:
            width, height = height, width
        return Box(cx - width / 2, cy - height / 2, width, height)

    def face_in_source(self, face: DetectedFace) -> DetectedFace:
        """A face in source pixels. The eyes keep the view's order: "left" is the eye on the left once the
        photo is upright, so the eye line's angle tells the crop how far to turn the photo back."""
        return DetectedFace(
            box=self.box_in_source(face.box),
            score=face.score,
            left_eye=self.point_in_source(face.left_eye),
            right_eye=self.point_in_source(face.right_eye),
            mouth=self.point_in_source(face.mouth) if face.mouth is not None else None,
        )


def _eyes_by_mouth(face: DetectedFace) -> DetectedFace:
    """Order the eyes as they appear once the face is turned upright (mouth down), not by image x."""
    if face.mouth is None:
        return face
    mid_x = (face.left_eye[0] + face.right_eye[0]) / 2
    mid_y = (face.left_eye[1] + face.right_eye[1]) / 2
    down_x, down_y = face.mouth[0] - mid_x, face.mouth[1] - mid_y

    def upright_x(eye: Point) -> float:
        return (eye[0] - mid_x) * down_y - (eye[1] - mid_y) * down_x

    left, right = sorted((face.left_eye, face.right_eye), key=upright_x)
    return dataclasses.replace(face, left_eye=left, right_eye=right)


def _small_copy(rgb: npt.NDArray[np.uint8]) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.float64]]:
    """The photo at most DETECTION_MAX_SIDE on a side, and the 2x3 map from its pixels to the photo's."""
    height, width = rgb.shape[:2]
    scale = min(1.0, _DETECTION_MAX_SIDE / max(height, width))
    if scale >= 1.0:
        return rgb, _scaling((width, height), rgb)
    # At least 1 px: a 40000x1 strip would otherwise round to 0 rows and make OpenCV throw.
    small_size = (max(1, round(width * scale)), max(1, round(height * scale)))
    factor = int(1 / scale)
    if factor >= 2 and height >= 2 * factor and width >= 2 * factor:
        # A full-size decode (HEIC, PNG; a JPEG comes DCT-scaled): average whole factor x factor blocks first,
        # OpenCV's fast integer path (a 12 MP frame: ~10 ms instead of ~45 ms). The last factor - 1 columns and
        # rows at most are left out, and the map says so.
        width, height = width // factor * factor, height // factor * factor
        rgb = np.asarray(
            cv2.resize(rgb[:height, :width], (width // factor, height // factor), interpolation=cv2.INTER_AREA),
            dtype=np.uint8,
        )
    # What is left is a reduction by less than 2x, where bilinear reads every pixel anyway: INTER_AREA's general
    # path cost ~30 ms CPU on a 12 MP JPEG's half-size decode (1978 -> 1280 px), bilinear ~5 ms. MediaPipe
    # resamples the copy to its 192 px input in any case.
    small = cv2.resize(rgb, small_size, interpolation=cv2.INTER_LINEAR)
    shrunk = np.asarray(small, dtype=np.uint8)
    return shrunk, _scaling((width, height), shrunk)


def _scaling(shown: tuple[int, int], small: npt.NDArray[np.uint8]) -> npt.NDArray[np.float64]:
    """2x3: small-copy pixel -> source pixel, where the small copy shows the source's first `shown` (w, h) pixels."""
    sx = shown[0] / small.shape[1]
    sy = shown[1] / small.shape[0]
    return np.array([[sx, 0.0, 0.0], [0.0, sy, 0.0]])


def _compose(outer: npt.NDArray[np.float64], inner: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """2x3 affine: apply `inner`, then `outer`."""
    full = np.vstack([outer, [0.0, 0.0, 1.0]]) @ np.vstack([inner, [0.0, 0.0, 1.0]])
    return np.asarray(full[:2], dtype=np.float64)


def _turned(small: npt.NDArray[np.uint8], turn: int) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.float64]]:
    """The small copy turned `turn` degrees counter-clockwise (canvas grown to fit), and view -> small."""
    if turn == 0:
        return small, np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    height, width = small.shape[:2]
    # Pixel centres: (0, 0) is the middle of the first pixel, as np.rot90 and warpAffine see it.
    center = ((width - 1) / 2, (height - 1) / 2)
    forward = cv2.getRotationMatrix2D(center, turn, 1.0)  # positive angle = counter-clockwise
    cos_t, sin_t = abs(forward[0, 0]), abs(forward[0, 1])
    new_w = round(width * cos_t + height * sin_t)
    new_h = round(width * sin_t + height * cos_t)
    forward[0, 2] += (new_w - 1) / 2 - center[0]
    forward[1, 2] += (new_h - 1) / 2 - center[1]
    if turn % 90 == 0:
        view = np.ascontiguousarray(np.rot90(small, k=(turn // 90) % 4))
    else:
        # Grey fill, like a scan's margin: replicated borders would invent texture next to the face.
        view = np.asarray(
            cv2.warpAffine(small, forward, (new_w, new_h), flags=cv2.INTER_LINEAR, borderValue=(128, 128, 128)),
            dtype=np.uint8,
        )
    return view, np.asarray(cv2.invertAffineTransform(forward), dtype=np.float64)


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
    mouth = (keypoints[3].x * width, keypoints[3].y * height) if len(keypoints) > 3 else None
    return DetectedFace(
        box=Box(x0, y0, max(0.0, x1 - x0), max(0.0, y1 - y0)),
        score=float(detection.score[0]),
        left_eye=eyes[0],
        right_eye=eyes[1],
        mouth=mouth,
    )
