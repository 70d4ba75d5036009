"""The colour evidence the matte's band uses (pipeline/band_colours.py), on a drawn crop whose answer is known.

A skin-coloured subject (a disk) on a blue background; between the trimap's interior and its exterior lies the
band, where a lock in the subject's colour and a patch in a colour seen nowhere else sit.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from facecraft.imaging.trimap import Trimap
from facecraft.pipeline.band_colours import edge_colours, isnet_sees_background, ramp, subject_likeness

SIZE, CENTRE = 240, 120
SKIN, BLUE, GREEN = (200, 150, 120), (30, 60, 200), (40, 200, 60)
RADIUS = 8  # the band's half-width the colours are counted with


def _distance() -> npt.NDArray[np.float64]:
    yy, xx = np.mgrid[0:SIZE, 0:SIZE]
    return np.hypot(yy - CENTRE, xx - CENTRE)


def _patch(image: npt.NDArray[np.uint8], x: int, colour: tuple[int, int, int]) -> None:
    image[CENTRE - 10 : CENTRE + 10, x - 10 : x + 10] = colour


@pytest.fixture
def crop() -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.float32], Trimap]:
    distance = _distance()
    image = np.empty((SIZE, SIZE, 3), np.uint8)
    image[:] = BLUE
    image[distance < 60] = SKIN
    _patch(image, CENTRE + 75, SKIN)  # a lock of the subject's colour in the band
    _patch(image, CENTRE - 75, GREEN)  # a colour neither side shows
    person = (distance < 65).astype(np.float32)
    trimap = Trimap(interior=distance < 55, exterior=distance > 90)
    return image, person, trimap


def test_likeness_follows_the_subjects_edge_colours(crop) -> None:
    image, person, trimap = crop
    colours = edge_colours(image, person, trimap, np.ones((SIZE, SIZE), bool), RADIUS)
    likeness = subject_likeness(colours)
    assert likeness[CENTRE, CENTRE + 75] > 0.9, "the subject's own colour in the band"
    assert likeness[CENTRE, CENTRE - 75] == pytest.approx(0.5, abs=0.1), "a colour seen on neither side"
    assert likeness[10, 10] < 0.1, "the background's colour"


def test_isnet_seeing_the_background_is_measured_next_to_the_band(crop) -> None:
    image, person, trimap = crop
    inside = np.ones((SIZE, SIZE), bool)
    colours = edge_colours(image, person, trimap, inside, RADIUS)
    on_band = (CENTRE, CENTRE + 80)
    subject_only = (_distance() < 70).astype(np.float32)
    assert isnet_sees_background(colours, subject_only, RADIUS)[on_band] < 0.05
    everything = np.ones((SIZE, SIZE), np.float32)
    assert isnet_sees_background(colours, everything, RADIUS)[on_band] > 0.95
    # Beyond the photo nothing is background to count.
    outside = np.zeros((SIZE, SIZE), bool)
    nothing = edge_colours(image, person, trimap, outside, RADIUS)
    assert float(isnet_sees_background(nothing, everything, RADIUS).max()) == 0.0


def test_ramp() -> None:
    values = np.array([0.0, 0.2, 0.35, 0.5, 0.9], np.float32)
    assert ramp(values, 0.2, 0.5).tolist() == pytest.approx([0.0, 0.0, 0.5, 1.0, 1.0])
