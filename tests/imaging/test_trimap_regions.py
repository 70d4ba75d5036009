"""One subject and its holes: keep_connected drops islands, fill_holes closes holes the person mask calls person."""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from facecraft.imaging.trimap import component_of, fill_holes, keep_connected

FloatMask = npt.NDArray[np.float32]


def subject_with_holes(centres: list[tuple[int, int]], shape: tuple[int, int] = (300, 400)) -> FloatMask:
    """An opaque block with a 4x4 transparent hole at each centre."""
    alpha = np.zeros(shape, np.float32)
    alpha[20:280, 20:380] = 1.0
    for y, x in centres:
        alpha[y - 2 : y + 2, x - 2 : x + 2] = 0.0
    return alpha


def holes_filled_one_by_one(alpha: FloatMask, person: FloatMask) -> FloatMask:
    """The rule written out plainly: an enclosed hole becomes opaque when the person mask's mean over it is > 0.5."""
    count, labels = cv2.connectedComponents((alpha <= 0.5).astype(np.uint8), connectivity=4)
    edge = set(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]).tolist())
    out = alpha.copy()
    for label in range(1, count):
        hole = labels == label
        if label not in edge and person[hole].mean() > 0.5:
            out[hole] = 1.0
    return out


@pytest.mark.parametrize("holes", [3, 80])  # a few holes are looked at one by one, many in one pass
def test_each_hole_is_decided_by_the_person_mask_over_it(holes: int) -> None:
    rng = np.random.default_rng(holes)
    rows, cols = rng.integers(40, 260, holes), rng.integers(40, 360, holes)
    centres = [(int(y), int(x)) for y, x in zip(rows, cols, strict=True)]
    alpha = subject_with_holes(centres)
    person = np.zeros_like(alpha)
    for index, (y, x) in enumerate(centres):
        person[y - 3 : y + 3, x - 3 : x + 3] = 1.0 if index % 2 else 0.0  # every other hole is background
    filled = fill_holes(alpha, person)
    assert np.array_equal(filled, holes_filled_one_by_one(alpha, person))
    inside = (slice(20, 280), slice(20, 380))
    assert (filled[inside] != alpha[inside]).any(), "holes the person mask calls person are filled"
    assert (filled[inside] == 0).any(), "holes it calls background stay open"


def test_a_gap_open_to_the_border_is_never_filled() -> None:
    alpha = subject_with_holes([])
    alpha[100:140, 0:200] = 0.0  # a bay reaching the photo's edge: background seen between arm and body
    assert np.array_equal(fill_holes(alpha, np.ones_like(alpha)), alpha)


def test_islands_are_dropped_and_counted() -> None:
    alpha = np.zeros((200, 300), np.float32)
    alpha[50:150, 50:150] = 1.0  # the subject
    alpha[60:80, 200:220] = 1.0  # a badge beside it
    alpha[120:130, 250:260] = 0.3  # a faint speck
    seed = np.zeros_like(alpha, dtype=bool)
    seed[90:110, 90:110] = True
    kept, dropped = keep_connected(alpha, seed)
    assert dropped == 2
    assert np.array_equal(kept[50:150, 50:150], alpha[50:150, 50:150])
    assert not kept[:, 160:].any()


def test_an_opaque_part_joined_only_through_faint_pixels_is_an_island() -> None:
    alpha = np.zeros((200, 300), np.float32)
    alpha[50:150, 50:150] = 1.0
    alpha[95:105, 150:200] = 0.2  # a faint bridge
    alpha[60:140, 200:260] = 1.0  # a neighbour's shoulder behind it
    seed = np.zeros_like(alpha, dtype=bool)
    seed[90:110, 90:110] = True
    kept, dropped = keep_connected(alpha, seed)
    assert dropped >= 1
    assert not kept[60:140, 205:260].any()
    assert np.array_equal(kept[50:150, 50:148], alpha[50:150, 50:148])


def test_component_of_keeps_only_what_touches_the_seed() -> None:
    mask = np.zeros((50, 50), dtype=bool)
    mask[5:15, 5:15] = mask[30:40, 30:40] = True
    seed = np.zeros_like(mask)
    seed[10, 10] = True
    assert np.array_equal(component_of(mask, seed), np.pad(np.ones((10, 10), bool), ((5, 35), (5, 35))))
