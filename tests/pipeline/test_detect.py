"""The face detector: MediaPipe's full-range model first, then both models' quarter-turn views competing on score
when that finds no upright face as sent (close-ups and tight crops), on the real bundled models and real photos."""

from __future__ import annotations

import io
import math
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image

from facecraft.pipeline.detect import DETECTION_MAX_SIDE, FULL_RANGE, SHORT_RANGE, FaceDetector, _detections
from facecraft.pipeline.options import PortraitOptions
from facecraft.pipeline.portrait import PortraitPipeline

PLAIN = PortraitOptions(use_oval_mask=False, enhance_face=False, enhance_photo=False)

# Close-ups cut from the test photos (x, y, width, height): the face fills the frame, and the full-range model finds
# no face in any view of them (the short-range search runs only then, so `model == SHORT_RANGE` shows it).
CLOSE_UPS = {
    "astronaut.jpg": (183, 72, 94, 94),  # 0.9 times the detected face's side
    "grace_hopper.jpg": (186, 143, 170, 170),  # 0.85 times
}


# Tighter close-ups (x, y, width, height; the face 0.45-0.9 of the side), scaled to 640 px as a phone would show them.
# On each, the full-range model finds no upright face as sent but "finds" one in a turned view (at 90 degrees, or
# +-30 degrees in-plane, scoring 0.66-0.87): the short-range model's sighting as sent must win.
TIGHT_CLOSE_UPS = {
    "person_a.jpg": (130, 115, 224, 224),
    "grace_hopper.jpg": (155, 128, 222, 222),
    "person_d.jpg": (35, 144, 224, 224),
    "two_faces2.jpg": (42, 140, 187, 187),
    "person_b.jpg": (107, 77, 369, 369),
}
# person_a's head is tilted ~30 degrees: turned 90 degrees, both models score it alike upright and sideways.
TURNED_TIGHT_CLOSE_UPS = sorted(set(TIGHT_CLOSE_UPS) - {"person_a.jpg"})


def _rgb(data: bytes) -> npt.NDArray[np.uint8]:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.uint8)


def _close_up(photo: Any, name: str) -> npt.NDArray[np.uint8]:
    x, y, w, h = CLOSE_UPS[name]
    return np.ascontiguousarray(_rgb(photo(name))[y : y + h, x : x + w])


def test_upright_photo_is_found_by_the_full_range_model_alone(photo) -> None:
    detector = FaceDetector()
    found = detector.find_faces(_rgb(photo("grace_hopper.jpg")))
    assert len(found.faces) == 1 and found.turn == 0 and found.model == FULL_RANGE
    # No extra cost: the short-range model was never even built on this thread.
    assert getattr(detector._short_range._local, "solution", None) is None


@pytest.mark.parametrize("name", sorted(CLOSE_UPS))
def test_close_up_missed_by_full_range_is_found_by_short_range(photo, name: str) -> None:
    crop = _close_up(photo, name)
    found = FaceDetector().find_faces(crop)
    assert found.model == SHORT_RANGE and found.turn == 0
    assert len(found.faces) == 1
    face = found.faces[0]
    assert face.score >= 0.5 and face.is_upright()
    # The face fills most of the crop; its eyes are in the upper half and the mouth below them.
    assert face.box.width > 0.5 * crop.shape[1]
    assert all(eye[1] < crop.shape[0] / 2 for eye in (face.left_eye, face.right_eye))


def test_an_upside_down_close_up_is_never_taken_for_upright(photo) -> None:
    """The short-range keypoints cannot tell upside down from upright; only a turned view's score may find it."""
    upside_down = np.ascontiguousarray(np.rot90(_close_up(photo, "grace_hopper.jpg"), k=2))
    found = FaceDetector().find_faces(upside_down)
    assert not found.faces or found.turn == 180


def _tight_close_up(photo: Any, name: str, quarter_turns: int = 0) -> npt.NDArray[np.uint8]:
    x, y, w, h = TIGHT_CLOSE_UPS[name]
    crop = cv2.resize(_rgb(photo(name))[y : y + h, x : x + w], (640, 640), interpolation=cv2.INTER_LINEAR)
    return np.ascontiguousarray(np.rot90(crop, k=quarter_turns))


@pytest.mark.parametrize("name", sorted(TIGHT_CLOSE_UPS))
def test_upright_close_up_is_not_turned_by_a_sighting_in_a_turned_view(photo, name: str) -> None:
    found = FaceDetector().find_faces(_tight_close_up(photo, name))
    assert found.faces and found.turn == 0, f"found in the view turned {found.turn} degrees by {found.model}"
    face = found.faces[0]
    assert face.box.width > 0.3 * found.view.shape[1]
    assert all(eye[1] < found.view.shape[0] * 0.6 for eye in (face.left_eye, face.right_eye))


@pytest.mark.parametrize("name", TURNED_TIGHT_CLOSE_UPS)
def test_sideways_close_up_is_found_in_the_view_that_turns_it_upright(photo, name: str) -> None:
    found = FaceDetector().find_faces(_tight_close_up(photo, name, quarter_turns=1))
    assert found.faces and found.turn == 270, f"found in the view turned {found.turn} degrees by {found.model}"


@pytest.mark.parametrize("name", sorted(CLOSE_UPS))
def test_short_range_faces_are_in_source_pixels(photo, name: str) -> None:
    """A large close-up is detected on a reduced copy; the short-range face comes back in the photo's pixels."""
    crop = _close_up(photo, name)
    factor = math.ceil(1400 / crop.shape[0])
    big = np.asarray(cv2.resize(crop, (crop.shape[1] * factor, crop.shape[0] * factor), interpolation=cv2.INTER_CUBIC))
    assert max(big.shape[:2]) > DETECTION_MAX_SIDE
    detector = FaceDetector()
    found = detector.find_faces(big)
    assert found.model == SHORT_RANGE and len(found.faces) == 1
    scale = big.shape[1] / found.view.shape[1]
    assert scale > 1
    in_view, in_source = found.faces[0], detector.detect(big)[0]
    for view_point, source_point in (
        (in_view.box.center, in_source.box.center),
        (in_view.left_eye, in_source.left_eye),
        (in_view.right_eye, in_source.right_eye),
    ):
        assert source_point == pytest.approx((scale * view_point[0], scale * view_point[1]), abs=1)
    assert in_source.box.width == pytest.approx(scale * in_view.box.width, abs=1)
    # And it is the crop's face, scaled: the same place within a few per cent of the face's size.
    small_face = detector.detect(crop)[0]
    tolerance = 0.06 * in_source.box.width
    for ours, theirs in ((in_source.box.center, small_face.box.center), (in_source.left_eye, small_face.left_eye)):
        assert abs(ours[0] - factor * theirs[0]) < tolerance and abs(ours[1] - factor * theirs[1]) < tolerance


@pytest.mark.parametrize("name", ["coffee.jpg", "chelsea.jpg"])
def test_photos_without_a_person_stay_faceless_with_the_fallback(photo, name: str) -> None:
    assert FaceDetector().find_faces(_rgb(photo(name))).faces == []


def test_result_says_which_model_found_the_face(pipeline: PortraitPipeline, photo) -> None:
    buffer = io.BytesIO()
    Image.fromarray(_close_up(photo, "grace_hopper.jpg")).save(buffer, "PNG")
    close_up = pipeline.process(buffer.getvalue(), PLAIN)
    assert close_up.face_detector == SHORT_RANGE and close_up.face_count == 1 and close_up.turn_degrees == 0
    assert pipeline.process(photo("grace_hopper.jpg"), PLAIN).face_detector == FULL_RANGE


def _panorama(rgb: npt.NDArray[np.uint8], wide: int) -> npt.NDArray[np.uint8]:
    """The photo at the left of a grey canvas `wide` times its width (a panorama's aspect, the faces unmoved)."""
    width = rgb.shape[1]
    return np.asarray(cv2.copyMakeBorder(rgb, 0, 0, 0, (wide - 1) * width, cv2.BORDER_CONSTANT, value=(200,) * 3))


@pytest.mark.parametrize("wide", [3, 4])
def test_faces_in_a_panorama_are_found_where_the_photo_alone_shows_them(photo, wide: int) -> None:
    """The model fits the whole photo into its 192 px input: at 3:1 it found one face of group1's three, at 4.5:1
    none. Wide views are also searched in square windows."""
    group = _rgb(photo("group1.jpg"))
    detector = FaceDetector()
    alone = sorted(detector.detect(group), key=lambda face: face.box.x)
    found = sorted(detector.detect(_panorama(group, wide)), key=lambda face: face.box.x)
    assert len(alone) == 3 and len(found) == 3
    for ours, theirs in zip(found, alone, strict=True):
        tolerance = 0.15 * theirs.box.width
        assert math.dist(ours.box.center, theirs.box.center) < tolerance, (ours.box, theirs.box)


GROUPS = ["group1.jpg", "group2.jpg", "group3.jpg", "group4.jpg", "group5.jpg", "group6.jpg", "two_faces.jpg"]


@pytest.mark.parametrize("name", GROUPS)
def test_every_face_in_a_group_photo_is_found(photo, manifest, name: str) -> None:
    """Faces counted by eye (tests/data/manifest.json). The whole 1024 px view of group4 showed 3 of its 4 faces;
    views whose faces are small are also searched in tiles."""
    assert len(FaceDetector().detect(_rgb(photo(name)))) == manifest[name]["faces"]


def test_tiles_leave_the_faces_the_whole_view_found_where_they_were(photo) -> None:
    """Only new faces come from the tiles: the subject's box, and so its crop, stay as the whole view saw them."""
    detector = FaceDetector()
    group = _rgb(photo("group4.jpg"))
    assert max(group.shape[:2]) <= DETECTION_MAX_SIDE, "detected as sent: both lists are in the photo's pixels"
    whole_view = [face.box for face in _detections(detector._full_range, group)]
    found = [face.box for face in detector.detect(group)]
    assert len(found) == len(whole_view) + 1
    for box in whole_view:
        assert any(
            math.dist(box.center, other.center) < 1e-6 and box.width == pytest.approx(other.width) for other in found
        )


def test_a_panorama_makes_the_same_headshot(pipeline: PortraitPipeline, photo) -> None:
    """astronaut at the left of a 4:1 canvas: the face is found and meshed, not a false sighting elsewhere."""
    portrait = pipeline.process_rgb(_panorama(_rgb(photo("astronaut.jpg")), 4), PLAIN)
    alone = pipeline.process(photo("astronaut.jpg"), PLAIN)
    assert portrait.eyes_from == "iris" and portrait.face_count == 1
    assert math.dist(portrait.face_box.center, alone.face_box.center) < 0.15 * alone.face_box.width


def test_a_tall_close_up_keeps_the_whole_faces_box(photo) -> None:
    """person_c's face filling a 2.3:1 portrait frame: a window's sighting of the face cut by the window's edge
    scored above the whole face's, and its box was a fifth of a face off. Cut sightings are left out."""
    rgb = _rgb(photo("person_c.jpg"))
    detector = FaceDetector()
    alone = detector.detect(rgb)[0].box
    width = round(1.3 * alone.width)
    x0, y0 = round(alone.center[0] - width / 2), round(alone.y - 0.3 * alone.height)
    height = round(2.3 * width)
    tall = rgb[y0 : y0 + height, x0 : x0 + width]
    # The photo ends before the frame does: the rest mirrored, as a phone's frame would hold more of the scene.
    tall = np.asarray(cv2.copyMakeBorder(tall, 0, height - tall.shape[0], 0, 0, cv2.BORDER_REFLECT), dtype=np.uint8)
    assert tall.shape[0] > 2 * tall.shape[1], "the crop must be taller than 2:1 to be searched in windows"
    found = detector.detect(tall)[0].box
    assert math.dist(found.center, (alone.center[0] - x0, alone.center[1] - y0)) < 0.1 * alone.width
    assert found.width == pytest.approx(alone.width, rel=0.1)


def test_a_panorama_stored_sideways_comes_out_upright(pipeline: PortraitPipeline, photo) -> None:
    """group1 on a 3:1 canvas, turned 270 degrees with no EXIF tag: the tall view's windows took a sideways face for
    upright, and the headshot came out upside down. Such views now compete with the turned ones on score."""
    sideways = np.ascontiguousarray(np.rot90(_panorama(_rgb(photo("group1.jpg")), 3), 3))
    portrait = pipeline.process_rgb(sideways, PLAIN)
    assert portrait.turn_degrees == 90 and portrait.landmarks is not None
    (lx, ly), (rx, ry), (_, mouth_y) = portrait.landmarks[[468, 473, 13]]
    # Level eyes above the mouth in the output: upright, not upside down.
    assert abs(math.degrees(math.atan2(ry - ly, rx - lx))) < 10 and (ly + ry) / 2 < mouth_y
