"""Every document preset frames real portraits inside its published bands.

The head height and eye line are measured on the output independently of the framing code: the crown is the
top of the alpha matte above the face, the chin and eyes come from running the face mesh again on the output
photo. person_b (head turned over the shoulder, a neighbour's arm around her) is no ID-photo candidate: the
matte of its wide crop fails, and it serves as the turned head in test_compliance.py instead.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pytest

from facecraft.config import Settings
from facecraft.pipeline.landmarks import EyeLocator
from facecraft.pipeline.options import PortraitOptions
from facecraft.pipeline.portrait import Portrait, PortraitPipeline
from facecraft.pipeline.presets import get_preset
from facecraft.standards.documents import DOCUMENT_IDS, get_document

PORTRAITS = ("astronaut.jpg", "grace_hopper.jpg", "person_a.jpg", "person_c.jpg", "person_d.jpg")


def document_options(settings: Settings, document_id: str, **extra: object) -> PortraitOptions:
    # Enhancement changes no geometry; leaving it out halves the time of this suite.
    values = {**get_preset(document_id).option_values(), "enhance_face": False, "enhance_photo": False, **extra}
    return PortraitOptions.from_settings(settings, **values)


def measure(pipeline: PortraitPipeline, portrait: Portrait) -> dict[str, float]:
    """Head height and eye line (shares of the height, eye line from the bottom) and the face centre (share of
    the width), measured on the output alone."""
    rgb, alpha = portrait.rgb, portrait.alpha
    height, width = alpha.shape
    faces = pipeline.detector.detect(rgb)
    assert faces, "no face in the output"
    mesh = EyeLocator().face_mesh(rgb, faces[0].box)
    assert mesh is not None, "no face mesh on the output"
    points = mesh.points
    chin = points[152, 1]
    eye_y = (points[468, 1] + points[473, 1]) / 2
    left, right = points[234, 0], points[454, 0]
    centre, half = (left + right) / 2, abs(right - left) / 4
    columns: npt.NDArray[np.bool_] = alpha[: int(eye_y), int(centre - half) : int(centre + half)] >= 0.5
    # Per column, the top of the subject run that reaches the eye line.
    tops = []
    for column in columns.T:
        gaps = np.flatnonzero(~column[::-1])
        tops.append(len(column) - gaps[0] if gaps.size else 0)
    crown = float(np.percentile(tops, 5))
    return {"head": (chin - crown) / height, "eye": 1 - eye_y / height, "centre": centre / width}


@pytest.fixture(scope="module")
def framed(
    pipeline: PortraitPipeline, settings: Settings, photo: Callable[[str], bytes]
) -> Callable[[str, str], Portrait]:
    cache: dict[tuple[str, str], Portrait] = {}

    def run(document_id: str, name: str) -> Portrait:
        if (document_id, name) not in cache:
            cache[document_id, name] = pipeline.process(photo(name), document_options(settings, document_id))
        return cache[document_id, name]

    return run


@pytest.mark.slow
@pytest.mark.parametrize("document_id", DOCUMENT_IDS)
def test_document_framing_lands_inside_the_bands(
    document_id: str, pipeline: PortraitPipeline, framed: Callable[[str, str], Portrait]
) -> None:
    document = get_document(document_id)
    assert document is not None
    head_low, head_high = document.head_share
    for name in PORTRAITS:
        portrait = framed(document_id, name)
        assert portrait.rgb.shape[:2] == (document.height_px, document.width_px)
        found = measure(pipeline, portrait)
        assert head_low <= found["head"] <= head_high, f"{document_id} {name}: head {found['head']:.3f}"
        if document.eye_share is not None:
            eye_low, eye_high = document.eye_share
            assert eye_low <= found["eye"] <= eye_high, f"{document_id} {name}: eye line {found['eye']:.3f}"
        assert 0.45 <= found["centre"] <= 0.55, f"{document_id} {name}: centre {found['centre']:.3f}"
        # The framing's own record agrees with the independent measurement.
        assert portrait.framing is not None
        recorded = (portrait.framing.chin_y - portrait.framing.crown_y) / document.height_px
        assert recorded == pytest.approx(found["head"], abs=0.03)


def test_plain_presets_keep_the_face_box_framing(
    pipeline: PortraitPipeline, settings: Settings, photo: Callable[[str], bytes]
) -> None:
    options = PortraitOptions.from_settings(settings, **get_preset("badge").option_values())
    portrait = pipeline.process(photo("astronaut.jpg"), options)
    assert portrait.framing is None
    assert portrait.rgb.shape[:2] == (800, 600)
