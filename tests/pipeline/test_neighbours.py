"""The seeds other detected faces stand for, and how the people between them are split."""

from __future__ import annotations

import numpy as np

from facecraft.imaging.geometry import Box, CropPlan
from facecraft.pipeline.neighbours import Seeds, neighbour_pixels, seeds

# The identity map onto a 400x300 (width x height) view.
PLAN = CropPlan(np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]), (400, 300), 0.0)
SUBJECT = Box(100, 60, 60, 70)


def test_no_other_face_means_no_neighbour() -> None:
    assert seeds(PLAN, SUBJECT, []) is None


def test_a_face_far_outside_the_view_seeds_nothing() -> None:
    assert seeds(PLAN, SUBJECT, [Box(2000, 60, 60, 70)]) is None


def test_the_subject_seen_twice_is_not_a_neighbour() -> None:
    assert seeds(PLAN, SUBJECT, [Box(105, 62, 56, 66)]) is None


def test_a_neighbour_inside_the_subject_s_own_shape_seeds_nothing() -> None:
    """A face held at the subject's chest (a child in its arms): its seeds would lie where the subject's body may be."""
    assert seeds(PLAN, SUBJECT, [Box(140, 150, 40, 45)]) is None


def test_a_face_far_behind_the_subject_seeds_nothing() -> None:
    """A bystander or a face on a poster, much smaller than the subject's: not who touches the subject."""
    assert seeds(PLAN, SUBJECT, [Box(300, 40, 25, 30)]) is None


def test_a_neighbour_s_torso_ends_below_the_chest() -> None:
    found = seeds(PLAN, Box(100, 20, 30, 30), [Box(300, 20, 30, 30)])
    assert found is not None
    assert found.neighbours[100, 315], "the neighbour's chest, within 2.5 face heights of the chin"
    assert not found.neighbours[200:, :].any(), "nothing far below: a body there is someone else's"


def test_each_person_is_seeded_in_head_and_chest() -> None:
    found = seeds(PLAN, SUBJECT, [Box(300, 60, 60, 70)])
    assert found is not None
    assert found.neighbours[95, 330], "the middle of the neighbour's face"
    assert found.neighbours[30, 330], "the neighbour's hair above the face"
    assert found.neighbours[200, 330], "the neighbour's chest"
    assert not found.neighbours[:, :250].any(), "nothing near the subject"
    assert found.subject[200, 130], "the subject's chest"
    assert found.subject[40, 130] and found.subject[95, 95], "the subject's hair above and beside the face"
    assert not (found.subject & found.neighbours).any()


def _two_people() -> tuple[np.ndarray, np.ndarray, np.ndarray, Seeds]:
    """A warm subject on the left and a blue neighbour on the right, meeting at x = 230, over a grey background
    below y = 250 that the person segmentation calls nobody."""
    rgb = np.zeros((300, 400, 3), np.uint8)
    rgb[:, :230] = (200, 140, 110)
    rgb[:, 230:] = (40, 60, 160)
    rgb[250:] = (128, 128, 128)
    people = np.ones((300, 400), bool)
    people[250:] = False
    face = np.zeros((300, 400), bool)
    face[70:130, 110:150] = True
    theirs, own = np.zeros_like(face), np.zeros_like(face)
    theirs[80:120, 320:360] = True
    own[160:240, 110:150] = True
    return rgb, people, face, Seeds(theirs, own)


def test_the_split_follows_the_edge_between_the_two() -> None:
    rgb, people, face, found = _two_people()
    theirs = neighbour_pixels(rgb, people, found, face)
    assert theirs[5:245, 235:395].all(), "the neighbour, up to the edge"
    assert not theirs[:, :226].any(), "the subject"


def test_no_flood_runs_through_the_background() -> None:
    rgb, people, face, found = _two_people()
    theirs = neighbour_pixels(rgb, people, found, face)
    assert not theirs[252:].any()
