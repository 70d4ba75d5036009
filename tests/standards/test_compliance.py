"""The compliance report: its fields, strict mode, and photos that must fail a named check.

The failing inputs are made from the test photos: astronaut.jpg cut just above the eyebrows (the face runs
out of the photo), astronaut.jpg with both eyes painted shut with the skin below them, and person_d.jpg, a
real three-quarter view (head turned about 20 degrees).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image

from facecraft.config import Settings
from facecraft.errors import NotCompliantError
from facecraft.imaging.decode import decode_image
from facecraft.pipeline.compliance import compliance_report, enforce
from facecraft.pipeline.encode import encode_portrait
from facecraft.pipeline.options import PortraitOptions
from facecraft.pipeline.portrait import PortraitPipeline
from facecraft.pipeline.presets import get_preset

_LEFT_EYE = (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246)
_RIGHT_EYE = (362, 382, 381, 380, 374, 373, 390, 249, 263, 466, 388, 387, 386, 385, 384, 398)


def _jpeg(rgb: npt.NDArray[np.uint8]) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=95)
    return buffer.getvalue()


def _rgb(data: bytes) -> npt.NDArray[np.uint8]:
    return decode_image(data, max_bytes=50_000_000, max_pixels=50_000_000).rgb


def _run(pipeline: PortraitPipeline, settings: Settings, data: bytes, document_id: str, **extra: Any) -> dict[str, Any]:
    values = {**get_preset(document_id).option_values(), "enhance_face": False, "enhance_photo": False, **extra}
    options = PortraitOptions.from_settings(settings, **values)
    portrait = pipeline.process(data, options)
    report = compliance_report(portrait, encode_portrait(portrait, options.output_format, options), options)
    assert report is not None
    return report


def _checks(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {check["id"]: check for check in report["checks"]}


@pytest.fixture(scope="module")
def astronaut_report(pipeline: PortraitPipeline, settings: Settings, photo: Callable[[str], bytes]) -> dict[str, Any]:
    return _run(pipeline, settings, photo("astronaut.jpg"), "us_visa")


def test_report_fields(astronaut_report: dict[str, Any]) -> None:
    report = astronaut_report
    assert report["standard"] == "us_visa" and isinstance(report["passed"], bool)
    checks = _checks(report)
    expected = {
        "head_height", "eye_line", "centring", "roll", "yaw", "pitch", "eyes_open", "mouth_closed", "face_inside",
        "photo_coverage", "eye_distance_source", "background_uniformity", "face_exposure", "face_clipping",
        "file_format", "file_size", "file_dimensions",
    }  # fmt: skip
    assert expected <= set(checks)
    for check in report["checks"]:
        assert set(check) >= {"id", "value", "unit", "range", "passed"}
    head = checks["head_height"]
    assert head["unit"] == "mm" and head["range"] == [25.4, 35.05] and head["passed"]
    assert checks["eye_line"]["passed"] and checks["centring"]["passed"]
    for angle in ("roll", "yaw", "pitch"):
        assert checks[angle]["passed"], checks[angle]
    assert checks["eyes_open"]["passed"] and checks["face_inside"]["passed"]
    assert checks["file_size"]["value"] <= 240 and checks["file_size"]["passed"]
    assert checks["file_dimensions"]["passed"] and checks["background_uniformity"]["passed"]
    # The test photo is 512 px: 43 px between the eyes is under ICAO's 90; she smiles with open lips; and the
    # photo ends at her shoulders, a little short of the 2 x 2 in frame's bottom corners.
    assert not checks["eye_distance_source"]["passed"]
    assert not checks["mouth_closed"]["passed"]
    assert not checks["photo_coverage"]["passed"] and checks["photo_coverage"]["value"] > 90
    assert report["passed"] is False


def test_strict_mode_lists_the_failures(astronaut_report: dict[str, Any], settings: Settings) -> None:
    strict = PortraitOptions.from_settings(settings, **get_preset("us_visa").option_values(), compliance="strict")
    with pytest.raises(NotCompliantError) as caught:
        enforce(astronaut_report, strict)
    assert caught.value.code == "not_compliant"
    failed = {check["id"] for check in caught.value.details["failures"]}
    assert failed == {"eye_distance_source", "mouth_closed", "photo_coverage"}
    report_only = PortraitOptions.from_settings(settings, **get_preset("us_visa").option_values())
    enforce(astronaut_report, report_only)  # the default only reports
    enforce({**astronaut_report, "passed": True, "checks": []}, strict)


def test_face_cut_by_the_frame_fails_face_inside(
    pipeline: PortraitPipeline, settings: Settings, photo: Callable[[str], bytes]
) -> None:
    rgb = _rgb(photo("astronaut.jpg"))
    cut = np.ascontiguousarray(rgb[75:, :])  # the photo starts at her eyebrows: hair and forehead are missing
    report = _run(pipeline, settings, _jpeg(cut), "passport")
    checks = _checks(report)
    assert not checks["face_inside"]["passed"], checks["face_inside"]
    assert not checks["photo_coverage"]["passed"]
    assert report["passed"] is False


def test_closed_eyes_fail_eyes_open(
    pipeline: PortraitPipeline, settings: Settings, photo: Callable[[str], bytes]
) -> None:
    rgb = _rgb(photo("astronaut.jpg"))
    face = pipeline.detector.detect(rgb)[0]
    mesh = pipeline.eye_locator.face_mesh(rgb, face.box)
    assert mesh is not None
    shut = rgb.copy()
    for eye in (_LEFT_EYE, _RIGHT_EYE):
        points = mesh.points[list(eye), :2]
        (x0, y0), (x1, y1) = points.min(axis=0), points.max(axis=0)
        w, h = x1 - x0, y1 - y0
        left, right = int(x0 - 0.15 * w), int(x1 + 0.15 * w)
        top, bottom = int(y0 - 0.5 * h), int(y1 + 0.4 * h)
        rows = bottom - top
        shut[top:bottom, left:right] = rgb[bottom + 2 : bottom + 2 + rows, left:right]  # skin from below the eye
        lash = (top + bottom) // 2 + rows // 6
        cv2.line(shut, (left + int(0.1 * w), lash), (right - int(0.1 * w), lash), (40, 30, 30), max(1, int(h * 0.12)))
    checks = _checks(_run(pipeline, settings, _jpeg(shut), "passport"))
    assert not checks["eyes_open"]["passed"], checks["eyes_open"]
    assert checks["yaw"]["passed"] and checks["face_inside"]["passed"]


def test_turned_head_fails_yaw(pipeline: PortraitPipeline, settings: Settings, photo: Callable[[str], bytes]) -> None:
    checks = _checks(_run(pipeline, settings, photo("person_d.jpg"), "passport"))
    assert not checks["yaw"]["passed"], checks["yaw"]
    assert abs(checks["yaw"]["value"]) > 10
    assert checks["eyes_open"]["passed"] and checks["head_height"]["passed"]


def test_source_resolution_is_in_the_photos_own_pixels(
    pipeline: PortraitPipeline, settings: Settings, photo: Callable[[str], bytes], astronaut_report: dict[str, Any]
) -> None:
    """A large JPEG is decoded reduced (DCT scaling) for a small crop; the eye distance is still the photo's."""
    rgb = _rgb(photo("astronaut.jpg"))
    big = np.asarray(cv2.resize(rgb, (2048, 2048), interpolation=cv2.INTER_CUBIC), dtype=np.uint8)
    checks = _checks(_run(pipeline, settings, _jpeg(big), "us_visa"))
    small = _checks(astronaut_report)["eye_distance_source"]["value"]
    assert checks["eye_distance_source"]["value"] == pytest.approx(4 * small, rel=0.05)
    assert checks["eye_distance_source"]["passed"]
