"""Where the other people in the photo are, so the matte does not keep them beside the subject.

In a group photo the person segmentation marks everyone, and a neighbour's hair or shoulder that touches the
subject joins the subject's region: keeping only what is connected to the subject's face does not drop it. The
detector has already found the neighbours' faces, so each face stands for a rough body (a head ellipse with hair,
a torso column under the chin) and seeds its person wherever that body lies outside the subject's own generous
head-and-shoulders shape: a neighbour leaning on the subject costs no shoulder. The subject is seeded by its face
oval, the hair right around it and the middle of its chest. A watershed on the photo's edges then splits the
people between the seeds, so the line between two people runs along the strongest edge between them (hair
against hair, a shoulder against a dress), not along a shape.

Shapes are in units of each face box (the detector's box runs from the brows to the chin, cheek to cheek).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from facecraft.imaging.geometry import Box, CropPlan, warp_crop
from facecraft.imaging.trimap import Mask

FloatMask = npt.NDArray[np.float32]

# The subject's head with hair: an ellipse around the face box, centred a little above it (the crown), half-axes as
# shares of the box's width and height, generous so that big or loose hair holds no neighbour's seed.
_HEAD_RAISE = 0.2
_SUBJECT_HEAD = (1.1, 1.3)
# Its torso: from the chin down, this many face widths either side of the face's centre (shoulders reach ~1.3).
_SUBJECT_TORSO = 1.6
# What surely is the subject's, its seed: the head ellipse at this size (hair right beside and above the face: without
# it the neighbour's flood took the hair behind the subject's ear where it met the neighbour's of the same colour),
# and the chest this many face widths either side of the centre.
_SUBJECT_HAIR = (0.75, 1.0)
_SUBJECT_CHEST = 0.6
# A neighbour's whole head with hair, and torso, seed the neighbour: a seed in the face alone would lose its hair
# to the subject's flood wherever the subject's dark clothes meet the neighbour's dark hair without an edge.
_NEIGHBOUR_HEAD = (0.8, 1.0)
_NEIGHBOUR_TORSO = 1.2
# A torso reaches about this many face heights below the chin; a neighbour's seed goes no further, so that the body
# of someone standing behind the subject does not seed the subject's own arm in front of it.
_NEIGHBOUR_TORSO_LENGTH = 2.5
# Faces narrower than this share of the subject's are far behind it (a bystander, a face on a poster): they are not
# what touches the subject, and their bodies would lie behind the subject's.
_NEIGHBOUR_MIN_WIDTH = 0.5
# Person segmentation below this is nobody: background, which the watershed does not flood.
_NOBODY = 0.1


@dataclass(frozen=True)
class Seeds:
    """Where the watershed starts, in the view: pixels surely of a neighbour, and surely of the subject."""

    neighbours: Mask  # each neighbour's head, hair and torso, outside the subject's generous shape
    subject: Mask  # the hair around its face, and its chest (the face itself comes from the face mesh)


def neighbour_mask(
    photo: npt.NDArray[np.uint8],
    photo_plan: CropPlan,
    plan: CropPlan,
    subject: Box,
    others: Sequence[Box],
    face: Mask,
    person_mask: Callable[[npt.NDArray[np.uint8]], FloatMask],
) -> Mask | None:
    """The working crop's pixels that are another detected person's, or None.

    Worked out on a view reaching half a crop beyond every side (`photo_plan` cuts it from `photo`, `plan` maps
    the face boxes into the crop): a tight crop often shows a neighbour's hair while their face lies just outside
    it, and the split must not depend on how tightly the photo is framed. Pixels beyond the photo are flat fill.
    """
    width, height = plan.size
    # The view is twice the crop's extent at the crop's pixel count (half its resolution): the split needs the
    # edges between people, not hair-fine detail, and it costs a quarter of a full-resolution view.
    size = (width, height)
    view_plan = plan.context(0.5, 0.5, 0.5, 0.5, size=size)
    found = seeds(view_plan, subject, others)
    if found is None:
        return None
    view, _ = warp_crop(photo, photo_plan.context(0.5, 0.5, 0.5, 0.5, size=size))
    face_in_view = cv2.resize(face.view(np.uint8), (width // 2, height // 2), interpolation=cv2.INTER_AREA) > 0
    x0, y0 = (width - width // 2) // 2, (height - height // 2) // 2
    placed = np.zeros((height, width), bool)
    placed[y0 : y0 + height // 2, x0 : x0 + width // 2] = face_in_view
    people = person_mask(view) >= _NOBODY
    theirs = neighbour_pixels(view, people, found, placed)[y0 : y0 + height // 2, x0 : x0 + width // 2]
    if not theirs.any():
        return None
    return np.asarray(cv2.resize(theirs.view(np.uint8), (width, height), interpolation=cv2.INTER_LINEAR) > 0)


def seeds(plan: CropPlan, subject: Box, others: Sequence[Box]) -> Seeds | None:
    """The watershed's seeds for the faces in the view `plan` maps to; None when no neighbour's reaches it."""
    width, height = plan.size
    theirs = np.zeros((height, width), np.uint8)
    for box in others:
        if not _overlaps(box, subject) and box.width >= _NEIGHBOUR_MIN_WIDTH * subject.width:
            _draw_body(theirs, plan.map_box(box), _NEIGHBOUR_HEAD, _NEIGHBOUR_TORSO, _NEIGHBOUR_TORSO_LENGTH)
    face = plan.map_box(subject)
    own_shape = np.zeros_like(theirs)
    _draw_body(own_shape, face, _SUBJECT_HEAD, _SUBJECT_TORSO)
    theirs[own_shape > 0] = 0
    if not theirs.any():
        return None
    own = np.zeros_like(theirs)
    _draw_body(own, face, _SUBJECT_HAIR, _SUBJECT_CHEST)
    return Seeds(theirs > 0, (own > 0) & ~(theirs > 0))


def neighbour_pixels(rgb: npt.NDArray[np.uint8], people: Mask, seeds: Seeds, face: Mask) -> Mask:
    """Pixels that are another person's: the part of the people in the view (`people`, the person segmentation)
    that a watershed on the photo's edges floods from a neighbour's seeds rather than from the subject's (its face
    and `seeds.subject`). The split follows the strongest edges between the two. The background is a third seed, so no
    flood runs through it: round the subject, a neighbour's would reach hair on the far side."""
    markers = np.zeros(face.shape, np.int32)
    markers[~people] = 3
    markers[seeds.neighbours] = 2
    markers[seeds.subject | face] = 1
    cv2.watershed(np.ascontiguousarray(rgb[:, :, ::-1]), markers)
    theirs: Mask = markers == 2
    return theirs


def _overlaps(box: Box, subject: Box) -> bool:
    """Whether a detection's centre lies in the subject's face box: the same face seen twice, not a neighbour."""
    cx, cy = box.center
    return subject.x <= cx <= subject.x + subject.width and subject.y <= cy <= subject.y + subject.height


def _draw_body(
    canvas: npt.NDArray[np.uint8], face: Box, head: tuple[float, float], torso: float, length: float | None = None
) -> None:
    """Fill a head ellipse and a torso column for the face box `face` (crop pixels) into `canvas`; the column
    reaches `length` face heights below the chin, or the bottom of the canvas."""
    cx, cy = face.center
    centre = (round(cx), round(cy - _HEAD_RAISE * face.height))
    axes = (max(1, round(head[0] * face.width)), max(1, round(head[1] * face.height)))
    cv2.ellipse(canvas, centre, axes, 0.0, 0.0, 360.0, (1,), thickness=-1)
    chin = round(face.y + face.height)
    left, right = round(cx - torso * face.width), round(cx + torso * face.width)
    bottom = canvas.shape[0] - 1 if length is None else round(chin + length * face.height)
    cv2.rectangle(canvas, (left, chin), (right, bottom), (1,), thickness=-1)
