"""The compliance report: each published rule of a document, measured on the photo Facecraft made.

Geometry (head height, eye line, crown margin, centring) is measured in the output from the crown the matte
gave and the chin, eyes and face the mesh gave; pose, eyes and mouth come from the face mesh; the source
checks say whether the photo held the whole face at ICAO's resolution; the file checks read the encoded
file. Thresholds not set by the document itself come from the standards named next to them.

The report says what was measured; it is not an authority's verdict (their own checks and officers decide).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from facecraft.standards.documents import Document

# ISO/IEC 19794-5:2011 §7.2.2 (as quoted in the ISO/ICAO literature): pose within ±5° yaw and pitch, ±8° roll.
MAX_YAW = 5.0
MAX_PITCH = 5.0
MAX_ROLL = 8.0
# ISO/IEC 19794-5 frontal image: the face's centre at 45-55 % of the width.
CENTRE_BAND = (45.0, 55.0)
# ICAO Doc 9303 part 3: at least 90 pixels between the eye centres in the captured image.
MIN_EYE_DISTANCE = 90.0
# Eyelid opening over eye width (the eye aspect ratio): ~0.3-0.45 open on the test photos, ~0.05-0.15 with
# the eyes painted shut; mouth (inner-lip gap over mouth width): 0.00-0.02 closed, 0.17+ with teeth showing.
MIN_EYE_OPENING = 0.2
MAX_MOUTH_OPENING = 0.1
# Background: 95th percentile of CIE76 ΔE from the background's median colour, above the crown and at the
# sides (where the subject never is); 10 is a difference anyone sees at a glance.
MAX_BACKGROUND_DELTA_E = 10.0
# Face exposure (mean luma over the face, 0-255) and clipped share (at <= 5 or >= 250).
FACE_LUMA = (80.0, 210.0)
MAX_FACE_CLIPPED = 2.0
# Frame covered by the source photo: a sliver beyond the photo gets plain background unnoticed; more shows a
# cut edge (no shoulders, the top of the photo).
MIN_COVERAGE = 97.0

# MediaPipe face-mesh landmark indices.
_PITCH_OFFSET = 10.0  # the mesh's forehead point (10) lies deeper than its chin (152): ~-10° on frontal faces
_LEFT_EYE = (159, 145, 33, 133)  # upper lid, lower lid, outer corner, inner corner
_RIGHT_EYE = (386, 374, 263, 362)
_LIPS = (13, 14, 78, 308)  # inner upper, inner lower, mouth corners
_FACE_OVAL = (
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
    152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
)  # fmt: skip


@dataclass(frozen=True)
class Check:
    id: str
    value: float | bool | None
    unit: str
    range: tuple[float | None, float | None] | None
    passed: bool
    note: str = ""

    def as_dict(self) -> dict[str, object]:
        value = round(self.value, 2) if isinstance(self.value, float) else self.value
        limits = None if self.range is None else [None if v is None else round(v, 2) for v in self.range]
        entry: dict[str, object] = {
            "id": self.id,
            "value": value,
            "unit": self.unit,
            "range": limits,
            "passed": self.passed,
        }
        if self.note:
            entry["note"] = self.note
        return entry


def _within(value: float, low: float | None, high: float | None) -> bool:
    return (low is None or value >= low) and (high is None or value <= high)


def _band(check_id: str, value: float, unit: str, low: float | None, high: float | None, note: str = "") -> Check:
    return Check(check_id, value, unit, (low, high), _within(value, low, high), note)


def pose(points: npt.NDArray[np.float64]) -> tuple[float, float, float]:
    """Roll, yaw and pitch in degrees from the mesh (x, y, z in one pixel scale).

    Roll is the eye line's angle; yaw and pitch are read after undoing the roll: yaw from the depth
    difference across the face (234 to 454), pitch from the depth difference from forehead to chin."""
    left, right = points[468], points[473]
    roll = math.degrees(math.atan2(right[1] - left[1], right[0] - left[0]))
    if left[0] > right[0]:
        roll = math.degrees(math.atan2(left[1] - right[1], left[0] - right[0]))
    theta = math.radians(-roll)
    cos_t, sin_t = math.cos(theta), math.sin(theta)
    level = points.copy()
    level[:, 0] = cos_t * points[:, 0] - sin_t * points[:, 1]
    level[:, 1] = sin_t * points[:, 0] + cos_t * points[:, 1]
    across = level[454] - level[234]
    yaw = math.degrees(math.atan2(across[2], across[0]))
    down = level[152] - level[10]
    pitch = math.degrees(math.atan2(-down[2], down[1])) + _PITCH_OFFSET
    return roll, yaw, pitch


def _opening(points: npt.NDArray[np.float64], idx: tuple[int, int, int, int]) -> float:
    upper, lower, a, b = (points[i, :2] for i in idx)
    width = float(np.linalg.norm(a - b))
    return float(np.linalg.norm(upper - lower)) / width if width > 0 else 0.0


def eye_opening(points: npt.NDArray[np.float64]) -> float:
    """The less open eye's lid gap over its width."""
    return min(_opening(points, _LEFT_EYE), _opening(points, _RIGHT_EYE))


def mouth_opening(points: npt.NDArray[np.float64]) -> float:
    return _opening(points, _LIPS)


def _lab(rgb: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    lab = cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    return np.asarray(lab, dtype=np.float32)


def background_delta_e(flat: npt.NDArray[np.uint8], crown_y: float, eye_y: float) -> float | None:
    """95th percentile ΔE (CIE76) from the median colour over the background sample: the rows above the
    crown, and the outer 6 % of the width above the eye line."""
    height, width = flat.shape[:2]
    mask = np.zeros((height, width), bool)
    mask[: max(0, int(crown_y) - max(2, height // 100)), :] = True
    side = max(1, round(width * 0.06))
    mask[: max(0, int(eye_y)), :side] = True
    mask[: max(0, int(eye_y)), width - side :] = True
    if mask.sum() < 50:
        return None
    lab = _lab(flat)[mask]
    median = np.median(lab, axis=0)
    delta = np.linalg.norm(lab - median, axis=1)
    return float(np.percentile(delta, 95))


def face_exposure(flat: npt.NDArray[np.uint8], mesh_out: npt.NDArray[np.float64]) -> tuple[float, float] | None:
    """Mean luma (0-255) and clipped share (%) inside the face oval."""
    height, width = flat.shape[:2]
    polygon = np.round(mesh_out[list(_FACE_OVAL), :2]).astype(np.int32)
    mask = np.zeros((height, width), np.uint8)
    cv2.fillPoly(mask, [polygon], (1,))
    luma = cv2.cvtColor(flat, cv2.COLOR_RGB2GRAY)[mask.astype(bool)]
    if luma.size < 50:
        return None
    clipped = float(np.mean((luma <= 5) | (luma >= 250)) * 100)
    return float(luma.mean()), clipped


@dataclass(frozen=True)
class PhotoFacts:
    """What the checks need from a finished portrait (facecraft.pipeline.framing.Framing, in output pixels)."""

    flat: npt.NDArray[np.uint8]  # the output flattened onto its background
    crown_y: float
    chin_y: float
    eye_y: float
    center_x: float
    crown_at_edge: bool
    coverage: float
    mesh_out: npt.NDArray[np.float64]
    mesh_source: npt.NDArray[np.float64]
    source_size: tuple[int, int]


def photo_checks(document: Document, facts: PhotoFacts) -> list[Check]:
    height, width = facts.flat.shape[:2]
    mm = document.height_mm / height  # millimetres per output pixel (the output has the document's aspect)
    checks: list[Check] = []
    head_low, head_high = document.head_band_mm
    checks.append(_band("head_height", (facts.chin_y - facts.crown_y) * mm, "mm", head_low, head_high))
    eye_band = document.eye_share
    eye_mm = (height - facts.eye_y) * mm
    if eye_band is not None:
        checks.append(
            _band("eye_line", eye_mm, "mm", eye_band[0] * document.height_mm, eye_band[1] * document.height_mm)
        )
    if document.crown_margin_mm is not None:
        low, high = document.crown_margin_mm
        checks.append(_band("crown_margin", facts.crown_y * mm, "mm", low, high))
    checks.append(_band("centring", facts.center_x / width * 100, "%", *CENTRE_BAND))
    roll, yaw, pitch = pose(facts.mesh_out)
    checks.append(_band("roll", roll, "°", -MAX_ROLL, MAX_ROLL))
    checks.append(_band("yaw", yaw, "°", -MAX_YAW, MAX_YAW))
    checks.append(_band("pitch", pitch, "°", -MAX_PITCH, MAX_PITCH))
    checks.append(_band("eyes_open", eye_opening(facts.mesh_out), "ratio", MIN_EYE_OPENING, None))
    checks.append(_band("mouth_closed", mouth_opening(facts.mesh_out), "ratio", 0.0, MAX_MOUTH_OPENING))

    src_w, src_h = facts.source_size
    oval = facts.mesh_source[list(_FACE_OVAL), :2]
    inside = (oval[:, 0] >= 0) & (oval[:, 0] <= src_w - 1) & (oval[:, 1] >= 0) & (oval[:, 1] <= src_h - 1)
    face_inside = bool(inside.all()) and not facts.crown_at_edge
    note = ""
    if not inside.all():
        note = "part of the face lies beyond the edge of the original photo"
    elif facts.crown_at_edge:
        note = "the head (or something merged with it) runs into the top edge of the original photo"
    checks.append(Check("face_inside", face_inside, "", None, face_inside, note))
    coverage = facts.coverage * 100
    checks.append(
        _band(
            "photo_coverage",
            coverage,
            "%",
            MIN_COVERAGE,
            100.0,
            "" if coverage >= MIN_COVERAGE else "the original photo does not reach the edges of the frame",
        )
    )
    eyes = math.dist(facts.mesh_source[468, :2], facts.mesh_source[473, :2])
    checks.append(_band("eye_distance_source", eyes, "px", MIN_EYE_DISTANCE, None))
    delta_e = background_delta_e(facts.flat, facts.crown_y, facts.eye_y)
    if delta_e is not None:
        checks.append(_band("background_uniformity", delta_e, "ΔE", 0.0, MAX_BACKGROUND_DELTA_E))
    exposure = face_exposure(facts.flat, facts.mesh_out)
    if exposure is not None:
        checks.append(_band("face_exposure", exposure[0], "luma", *FACE_LUMA))
        checks.append(_band("face_clipping", exposure[1], "%", 0.0, MAX_FACE_CLIPPED))
    return checks


def file_checks(document: Document, data: bytes, fmt: str, size: tuple[int, int]) -> list[Check]:
    """The encoded file against the document's limits (format, KB, pixels)."""
    limits = document.files
    checks = [Check("file_format", fmt == limits.format, fmt, None, fmt == limits.format, f"expected {limits.format}")]
    kb = len(data) / 1024
    checks.append(_band("file_size", kb, "KB", limits.min_kb, limits.max_kb))
    width, height = size
    if limits.min_px is not None or limits.max_px is not None:
        low, high = limits.min_px, limits.max_px
        ok = _within(width, low, high) and _within(height, low, high) and (not limits.square or width == height)
        note = "square" if limits.square else ""
        checks.append(Check("file_dimensions", float(min(width, height)), "px", (low, high), ok, note))
    else:
        expected = (document.width_px, document.height_px)
        ok = (width, height) == expected
        checks.append(
            Check(
                "file_dimensions",
                ok,
                "",
                None,
                ok,
                f"{width} × {height} px, the document is {expected[0]} × {expected[1]}",
            )
        )
    return checks


def report(document: Document, checks: list[Check], frame: dict[str, float] | None = None) -> dict[str, object]:
    """The report; `frame` gives the measured crown, chin and eye line as shares of the height from the top
    (the web page draws the bands against them)."""
    data: dict[str, object] = {
        "standard": document.id,
        "passed": all(check.passed for check in checks),
        "checks": [check.as_dict() for check in checks],
        "source": {"authority": document.source.authority, "url": document.source.url},
    }
    if frame is not None:
        data["frame"] = {key: round(value, 4) for key, value in frame.items()}
    return data


def failures(report_data: dict[str, object]) -> list[dict[str, object]]:
    checks = report_data.get("checks")
    assert isinstance(checks, list)
    return [check for check in checks if not check["passed"]]
