"""Colour evidence for the matte's band (pipeline/matte.py): the colours of the subject's edge against those of
the certain background next to it.

ISNet segments the salient object, not the person. Beside a busy background it also marks a flag, a picture, a
rocket's nose or a saucer right up to the person's edge, where its band values cannot tell one from the other.
The person mask knows what a person is but misses hair blown far out, which ISNet rightly keeps. What settles it
is colour: hair the person mask misses has the colours of the subject's own edge (the interior next to the band);
a background object has the colours of the background.

Colour shares are counted on a quarter-resolution copy: one pixel in 16 is sample enough, and with 8 levels a
channel (512 bins) each share counts many pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from facecraft.imaging.trimap import Mask, Trimap

FloatMask = npt.NDArray[np.float32]

# A colour's share along the subject's edge against its share in the background, as a likeness of the subject:
# below 0.25 (three times commoner in the background) ISNet adds nothing beyond the person mask, from 0.75 all.
_UNLIKE, _ALIKE = 0.25, 0.75
# Added to both shares, so a colour seen on neither side counts as even, not as certain either way.
_PRIOR = 1e-3


@dataclass(frozen=True)
class EdgeColours:
    """Colour bins and their shares, on a quarter-resolution copy of the crop."""

    shape: tuple[int, int]  # the crop's (height, width)
    colour: npt.NDArray[np.int32]  # each small pixel's bin
    certain: Mask  # small pixels of certain background: exterior, in the photo, the person mask flat zero
    in_background: npt.NDArray[np.float64]  # each bin's share among those
    on_edge: npt.NDArray[np.float64]  # each bin's share along the subject's edge


def edge_colours(
    rgb: npt.NDArray[np.uint8], person: FloatMask, trimap: Trimap, in_photo: Mask, radius: int
) -> EdgeColours:
    """The certain background is where the person mask is flat zero, not the faint response it gives to hair it
    does not quite see; the subject's edge is the interior within about half a band-width of its rim."""
    height, width = person.shape
    small = (max(1, width // 4), max(1, height // 4))

    def shrink(mask: Mask) -> npt.NDArray[np.uint8]:
        return np.asarray(cv2.resize(mask.view(np.uint8), small, interpolation=cv2.INTER_NEAREST), dtype=np.uint8)

    flat_zero = cv2.resize(person, small, interpolation=cv2.INTER_NEAREST) < 0.02
    certain = (shrink(trimap.exterior) > 0) & (shrink(in_photo) > 0) & flat_zero
    inner = shrink(trimap.interior)
    ring = 2 * max(1, radius // 4) + 1
    edge = (inner > 0) & ~(cv2.erode(inner, np.ones((ring, ring), np.uint8)) > 0)
    levels = np.asarray(cv2.resize(rgb, small, interpolation=cv2.INTER_NEAREST), dtype=np.int32) >> 5
    colour = (levels[:, :, 0] << 6) | (levels[:, :, 1] << 3) | levels[:, :, 2]
    return EdgeColours(
        shape=(height, width),
        colour=colour,
        certain=np.asarray(certain, dtype=bool),
        in_background=np.bincount(colour[certain], minlength=512) / max(1, int(np.count_nonzero(certain))),
        on_edge=np.bincount(colour[edge], minlength=512) / max(1, int(np.count_nonzero(edge))),
    )


def isnet_sees_background(colours: EdgeColours, salient: FloatMask, radius: int) -> FloatMask:
    """How far ISNet calls the nearby certain background salient, per crop pixel (0: none of it, 1: all of it).

    Background pixels in the colours of the subject's edge (hair the person mask misses) are left out of the
    count. Measured over a window reaching a band-width beyond the band, so every band pixel sees the background
    next to it; means over so wide a window are smooth, so all of it is taken at a quarter of the resolution.
    Where no background is near, 0.
    """
    height, width = colours.shape
    small = colours.colour.shape[::-1]
    counted = (colours.certain & (colours.in_background > colours.on_edge)[colours.colour]).astype(np.float32)
    window = (6 * radius + 1) // 4 | 1
    seen = cv2.blur(cv2.resize(salient, small, interpolation=cv2.INTER_AREA) * counted, (window, window))
    weight = cv2.blur(counted, (window, window))
    share = seen / np.maximum(weight, 1e-6) * (weight > 0.05)
    return np.asarray(cv2.resize(share, (width, height), interpolation=cv2.INTER_LINEAR), dtype=np.float32)


def ramp(values: FloatMask, low: float, high: float) -> FloatMask:
    """0 up to `low`, 1 from `high`, linear between."""
    return np.clip((values - low) / (high - low), 0.0, 1.0).astype(np.float32)


def subject_likeness(colours: EdgeColours) -> FloatMask:
    """0..1 per crop pixel: how much commoner its colour is along the subject's edge than in the background."""
    height, width = colours.shape
    share = (colours.on_edge + _PRIOR) / (colours.on_edge + colours.in_background + 2 * _PRIOR)
    likeness = np.clip((share[colours.colour] - _UNLIKE) / (_ALIKE - _UNLIKE), 0.0, 1.0).astype(np.float32)
    # A 3x3 mean at the quarter resolution: one odd pixel's bin decides nothing.
    likeness = np.asarray(cv2.blur(likeness, (3, 3)), dtype=np.float32)
    return np.asarray(cv2.resize(likeness, (width, height), interpolation=cv2.INTER_LINEAR), dtype=np.float32)
