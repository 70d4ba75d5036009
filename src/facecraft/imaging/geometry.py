"""Face geometry: levelling the eyes and framing the headshot, as one affine warp.

Rotation, crop and scale are composed into a single 2x3 matrix and applied once to the source photo,
so nothing is clipped by an intermediate rotation (the original rotated the whole canvas and lost its
corners) and the face stays centred even near the photo's border: what lies outside the photo is marked
invalid and ends up transparent instead of shifting the crop (the original clamped the crop instead).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

Point = tuple[float, float]

# What the crop shows beyond the photo's edge. Replicating the border painted streaks of skin and hair
# that both matting models read as foreground (a face cut by the frame came out translucent); a flat
# mid grey reads as background and is masked out anyway.
NEUTRAL_FILL = (128, 128, 128)


@dataclass(frozen=True)
class Box:
    """An axis-aligned box in pixels: left, top, width, height."""

    x: float
    y: float
    width: float
    height: float

    @property
    def center(self) -> Point:
        return (self.x + self.width / 2, self.y + self.height / 2)

    @property
    def area(self) -> float:
        return self.width * self.height

    def as_ints(self) -> tuple[int, int, int, int]:
        return (round(self.x), round(self.y), round(self.width), round(self.height))


def roll_degrees(left_eye: Point, right_eye: Point) -> float:
    """Angle of the line from the image-left eye to the image-right eye; 0 when level, y pointing down."""
    return math.degrees(math.atan2(right_eye[1] - left_eye[1], right_eye[0] - left_eye[0]))


# Measured on the upright faces of the test photos with MediaPipe's full-range detector: its (square)
# box is ~2.4 inter-ocular distances wide, and its centre lies ~0.19 box sizes below the eye midpoint.
_FACE_SIZE_PER_EYE_DISTANCE = 2.4
_FACE_CENTER_BELOW_EYES = 0.19


def face_size(box: Box, left_eye: Point, right_eye: Point) -> float:
    """The face's size in pixels, robust to tilt and turn.

    The detector's box shrinks on tilted faces (85 px instead of 105 px for the astronaut turned 30
    degrees), while the distance between the eyes does not change with tilt; it does shrink when the head
    turns sideways, where the box stays right. The larger of the two estimates is the safe one.
    """
    eye_distance = math.dist(left_eye, right_eye)
    return max(box.width, box.height, _FACE_SIZE_PER_EYE_DISTANCE * eye_distance)


@dataclass(frozen=True)
class CropPlan:
    """How to cut the headshot out of the source photo."""

    matrix: npt.NDArray[np.float64]  # 2x3, source pixel -> working-crop pixel
    size: tuple[int, int]  # working crop (width, height)
    roll: float  # degrees the photo is turned to level the eyes

    def map_point(self, point: Point) -> Point:
        x, y = point
        m = self.matrix
        return (m[0, 0] * x + m[0, 1] * y + m[0, 2], m[1, 0] * x + m[1, 1] * y + m[1, 2])

    def map_box(self, box: Box) -> Box:
        """Axis-aligned bounds of a source box in working-crop pixels."""
        corners = [
            self.map_point((box.x, box.y)),
            self.map_point((box.x + box.width, box.y)),
            self.map_point((box.x, box.y + box.height)),
            self.map_point((box.x + box.width, box.y + box.height)),
        ]
        xs, ys = [p[0] for p in corners], [p[1] for p in corners]
        return Box(min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))

    def map_points(self, points: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """N x 2 source points in working-crop pixels."""
        return affine_points(points, self.matrix)

    def context(self, left: float, top: float, right: float, bottom: float, size: tuple[int, int]) -> CropPlan:
        """A wider window around this crop, at `size` (width, height).

        The margins are fractions of the crop's width (left, right) and height (top, bottom). The window is
        scaled to `size` independently along x and y, as a model with a fixed input size would resize it.
        """
        work_w, work_h = self.size
        x0, y0 = -left * work_w, -top * work_h
        span_w, span_h = work_w * (1 + left + right), work_h * (1 + top + bottom)
        window = np.array(
            [[size[0] / span_w, 0.0, -x0 * size[0] / span_w], [0.0, size[1] / span_h, -y0 * size[1] / span_h]]
        )
        return CropPlan(matrix=compose_affine(window, self.matrix), size=size, roll=self.roll)


def affine_points(points: npt.NDArray[np.float32], matrix: npt.NDArray[np.float64]) -> npt.NDArray[np.float32]:
    """N x 2 points through a 2x3 affine map."""
    return np.asarray(points @ matrix[:, :2].T + matrix[:, 2], dtype=np.float32)


def compose_affine(outer: npt.NDArray[np.float64], inner: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The 2x3 affine map `outer` after `inner`."""
    return np.asarray((np.vstack([outer, [0, 0, 1]]) @ np.vstack([inner, [0, 0, 1]]))[:2], dtype=np.float64)


def invert_affine(matrix: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return np.asarray(cv2.invertAffineTransform(matrix), dtype=np.float64)


def plan_crop(
    face: Box,
    left_eye: Point,
    right_eye: Point,
    margin: float,
    output_size: tuple[int, int],
    max_working_side: int = 1024,
    min_working_side: int = 256,
) -> CropPlan:
    """Frame a headshot around the face, levelled on the eyes, with the output's aspect ratio.

    The framing follows the original Facecraft so its users get the same look: `margin` times the face
    size on each side, 1.5 times that above the face (forehead and hair) and once below. The crop is then
    widened or heightened to the output's aspect ratio, and centred horizontally on the eyes.
    """
    roll = roll_degrees(left_eye, right_eye)
    theta = math.radians(roll)
    cos_t, sin_t = math.cos(theta), math.sin(theta)
    # Rotation by -roll around the eye midpoint levels the eyes.
    rotation = np.array([[cos_t, sin_t], [-sin_t, cos_t]])
    eyes_mid = np.array([(left_eye[0] + right_eye[0]) / 2, (left_eye[1] + right_eye[1]) / 2])

    size = face_size(face, left_eye, right_eye)
    # In the levelled frame the face is centred on the eyes horizontally and sits just below them.
    face_center_y = eyes_mid[1] + _FACE_CENTER_BELOW_EYES * size

    top = face_center_y - size / 2 - 1.5 * margin * size
    bottom = face_center_y + size / 2 + margin * size
    crop_h = bottom - top
    crop_w = size * (1 + 2 * margin)
    center_x, center_y = float(eyes_mid[0]), (top + bottom) / 2

    out_w, out_h = output_size
    aspect = out_w / out_h
    if crop_w / crop_h < aspect:
        crop_w = crop_h * aspect
    else:
        crop_h = crop_w / aspect

    # Working resolution: never upscale in the warp (the final resize does that once), never exceed the
    # output by much, and keep the matting/enhancement work bounded on huge outputs. Small outputs are
    # worked on at up to min_working_side and shrunk at the end: a matte drawn at 64 px has 1-px stair
    # steps for edges, one drawn at 256 px and shrunk is antialiased.
    wanted_w = max(out_w, min_working_side * out_w / max(out_w, out_h))
    scale = min(1.0, wanted_w / crop_w, max_working_side / max(crop_w, crop_h))
    work_w = max(1, round(crop_w * scale))
    work_h = max(1, round(crop_h * scale))

    origin = np.array([center_x - crop_w / 2, center_y - crop_h / 2])
    linear = scale * rotation
    offset = scale * (eyes_mid - rotation @ eyes_mid - origin)
    matrix = np.hstack([linear, offset.reshape(2, 1)])
    return CropPlan(matrix=matrix, size=(work_w, work_h), roll=roll)


def warp_crop(rgb: npt.NDArray[np.uint8], plan: CropPlan) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.float32]]:
    """Apply a crop plan: the working crop and a mask of where it shows the photo (1) or lies outside it (0).

    Areas beyond the photo's border are filled with NEUTRAL_FILL and flagged invalid, so they become
    transparent instead of smeared.
    """
    matrix = plan.matrix
    source = rgb
    scale = math.hypot(matrix[0, 0], matrix[0, 1])
    if scale < 0.5:
        # Large reductions alias in warpAffine: average blocks of `factor` x `factor` pixels first (OpenCV's
        # fast integer INTER_AREA), then warp the rest at 0.5-1x. Only the part of the photo the crop shows is
        # averaged: a 12 MP photo's whole frame cost ~0.1 s per crop, the face's surroundings a fraction.
        factor = math.ceil(0.5 / scale)
        source, to_source = _block_average(rgb, plan, factor)
        matrix = compose_affine(matrix, to_source)
    size = plan.size
    crop = cv2.warpAffine(
        source, matrix, size, flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_CONSTANT, borderValue=NEUTRAL_FILL
    )
    return np.asarray(crop, dtype=np.uint8), inside_mask(plan, (rgb.shape[1], rgb.shape[0]))


def inside_mask(plan: CropPlan, source_size: tuple[int, int]) -> npt.NDArray[np.float32]:
    """Where the crop shows a photo of `source_size` (width, height): 1 inside, 0 beyond its border."""
    return _inside_mask(plan.matrix, plan.size, source_size)


def _block_average(
    rgb: npt.NDArray[np.uint8], plan: CropPlan, factor: int
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.float64]]:
    """The photo around the crop, shrunk by averaging `factor` x `factor` blocks, and the 2x3 map from its pixels
    to the photo's (pixel centres: block (0, 0) is centred at (factor - 1) / 2 past the region's corner)."""
    height, width = rgb.shape[:2]
    corners = cv2.transform(
        np.array([[[0.0, 0.0], [plan.size[0], 0.0], [0.0, plan.size[1]], [plan.size[0], plan.size[1]]]]),
        invert_affine(plan.matrix),
    )[0]
    pad = 4 * factor  # bicubic taps two shrunk pixels beyond the footprint; two more for rounding
    x0 = min(width, max(0, math.floor(corners[:, 0].min()) - pad))
    y0 = min(height, max(0, math.floor(corners[:, 1].min()) - pad))
    x1 = min(width, math.ceil(corners[:, 0].max()) + pad)
    y1 = min(height, math.ceil(corners[:, 1].max()) + pad)
    if x1 <= x0 or y1 <= y0:  # the crop shows none of the photo: warp the photo as it is, all of it is fill
        return rgb, np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    # Whole blocks only, so that OpenCV takes its exact integer-factor path; at the photo's edge the last
    # block is completed by repeating the edge pixels rather than dropping up to factor - 1 columns of photo.
    blocks_w, blocks_h = -(-(x1 - x0) // factor), -(-(y1 - y0) // factor)
    region = rgb[y0 : min(height, y0 + blocks_h * factor), x0 : min(width, x0 + blocks_w * factor)]
    short_h, short_w = blocks_h * factor - region.shape[0], blocks_w * factor - region.shape[1]
    if short_h or short_w:
        region = np.asarray(cv2.copyMakeBorder(region, 0, short_h, 0, short_w, cv2.BORDER_REPLICATE), np.uint8)
    shrunk = cv2.resize(region, (blocks_w, blocks_h), interpolation=cv2.INTER_AREA)
    offset = (factor - 1) / 2
    to_source = np.array([[factor, 0.0, x0 + offset], [0.0, factor, y0 + offset]])
    return np.asarray(shrunk, dtype=np.uint8), to_source


def _inside_mask(
    matrix: npt.NDArray[np.float64], size: tuple[int, int], source_size: tuple[int, int]
) -> npt.NDArray[np.float32]:
    """Where each crop pixel falls in the source: 1 inside, 0 beyond the border, a 1 px linear ramp between.

    The same values as warping an all-ones source with bilinear interpolation and a zero border, but
    computed on the crop's grid: a full-size float32 mask would cost 4 bytes per source pixel (192 MB
    for a 48 MP photo) just to mark the border.
    """
    width, height = size
    src_w, src_h = source_size
    inverse = cv2.invertAffineTransform(matrix)
    us = np.arange(width, dtype=np.float32)[None, :]
    vs = np.arange(height, dtype=np.float32)[:, None]
    xs = inverse[0, 0] * us + inverse[0, 1] * vs + inverse[0, 2]
    ys = inverse[1, 0] * us + inverse[1, 1] * vs + inverse[1, 2]
    inside_x = np.clip(np.minimum(xs + 1.0, src_w - xs), 0.0, 1.0)
    inside_y = np.clip(np.minimum(ys + 1.0, src_h - ys), 0.0, 1.0)
    return np.asarray(inside_x * inside_y, dtype=np.float32)
