"""Background removal on the working crop, built by structure rather than by trusting one soft mask.

    face-mesh oval (eyes, mouth, teeth)  -> opaque by construction
    person segmentation, eroded          -> interior: opaque, whatever ISNet says (recorded in the method)
    person segmentation, grown, inverted -> exterior: transparent
    the band between them                -> ISNet (quality) or the guided-filtered person mask (fast)
    then: only the region connected to the face is kept, and holes enclosed by it are filled
    unless the person mask says they are background (the gap between an arm and the body)

MediaPipe's selfie segmentation knows what a person is, but its 256x256 mask is blobby and sometimes spills
onto bright background; ISNet (DIS) draws crisp edges and hair but segments the salient object, and on a
tight crop that ends at the collar it decides the head is the object and drops the body. So ISNet sees a
window with the torso in it (context to decide what the subject is), and only its band values are used.
Where ISNet calls a part of the interior background, place and colour decide: under the chin the interior wins
unless the part looks like the nearby background (a dark suit in a busy room stays); beside and above the head
ISNet wins unless the part looks like the subject (the person mask's spill onto bright or busy background goes).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from facecraft.config import MattingMode
from facecraft.imaging.guided_filter import guided_filter
from facecraft.imaging.trimap import Mask, Trimap, component_of, dilate, fill_holes, keep_connected, person_trimap
from facecraft.models.mediapipe_loader import PerThread

FloatMask = npt.NDArray[np.float32]
IsnetPredict = Callable[[npt.NDArray[np.uint8]], FloatMask]

# Trimap band half-width as a share of the crop's shorter side: the 256x256 person mask is off by about this
# much at a 648 px crop (measured on the test photos); wider bands hand more of the body to ISNet.
_BAND = 0.04
# ISNet below this inside the interior is a disagreement worth a second look.
_ISNET_SAYS_BACKGROUND = 0.1
# The method records that the interior overruled ISNet when it did so on more than this share of it.
_OVERRULED_SHARE = 0.02
# The window ISNet sees, as margins around the crop (fractions of its width / height): enough of the torso
# below the collar that ISNet takes the whole person as the salient object.
CONTEXT_MARGINS = (0.25, 0.1, 0.25, 0.6)  # left, top, right, bottom


@dataclass(frozen=True)
class ContextWindow:
    """A wider view of the photo around the crop, for ISNet; `to_crop` maps its pixels to the crop's."""

    rgb: npt.NDArray[np.uint8]
    to_crop: npt.NDArray[np.float64]


@dataclass(frozen=True)
class Matte:
    alpha: FloatMask
    method: str
    islands_dropped: int


class PersonMatter:
    def __init__(self, isnet_predict: IsnetPredict | None, isnet_size: tuple[int, int] = (448, 448)) -> None:
        self._isnet_predict = isnet_predict
        self.isnet_size = isnet_size  # (height, width) the ISNet window is warped to
        self._selfie: PerThread[Any] = PerThread(
            lambda solutions: solutions.selfie_segmentation.SelfieSegmentation(model_selection=0)
        )

    def person_mask(self, rgb: npt.NDArray[np.uint8]) -> FloatMask:
        result = self._selfie.get().process(np.ascontiguousarray(rgb))
        return np.clip(np.asarray(result.segmentation_mask, dtype=np.float32), 0.0, 1.0)

    def uses_isnet(self, mode: MattingMode) -> bool:
        return mode is MattingMode.QUALITY and self._isnet_predict is not None

    def matte(
        self,
        rgb: npt.NDArray[np.uint8],
        inside: FloatMask,
        face: Mask,
        mode: MattingMode,
        context: ContextWindow | None = None,
        neighbours: Mask | None = None,
    ) -> Matte:
        """Alpha in [0, 1] at the crop's size. `inside` marks pixels that show the photo, `face` the face-mesh
        oval; `context` is the window ISNet sees (the crop itself when None); `neighbours` the pixels of other
        people (pipeline/neighbours.py), if any."""
        in_photo = inside > 0.5
        face = face & in_photo
        # Not multiplied by `inside`: a seam of half-covered pixels at the photo's edge would read as the person's
        # edge and erode the body away from it. The trimap knows where the photo ends instead.
        person = self.person_mask(rgb)
        radius = max(2, round(min(rgb.shape[:2]) * _BAND))
        trimap = person_trimap(person, face, radius, in_photo)
        if neighbours is not None:
            # Other people found in the photo (pipeline/neighbours.py) are certain background, wherever they touch
            # the subject.
            trimap = Trimap(trimap.interior & ~neighbours, trimap.exterior | neighbours)
        trimap = _one_subject(trimap, face, radius)
        method = "trimap_person_mask"
        if self.uses_isnet(mode):
            assert self._isnet_predict is not None
            salient = self._salient(rgb, context)
            trimap, overruled = _guard_interior(rgb, trimap, face, salient)
            band = _edges(rgb, np.minimum(salient, _soft(~trimap.exterior, radius)))
            person_band = _edges(rgb, person)
            torso = _under_the_chin(face)
            # Beside and above the head, where ISNet calls the nearby certain background salient too, its band
            # values say nothing about the person's edge; the person mask's edge decides there instead.
            blind = _isnet_blind(rgb, salient, person, trimap, in_photo, radius)
            if blind is not None:
                blind[torso] = 0.0
                _blend_into(band, person_band, blind)
            # Under the chin ISNet is the one that drops bodies, so there the band keeps the person mask's word too.
            np.maximum(band, person_band, out=band, where=torso)
            method = "trimap_isnet_interior_kept" if overruled else "trimap_isnet"
        else:
            band = _edges(rgb, person)
        # The band's own array becomes the alpha (it is this call's), without full-size temporaries.
        alpha = band
        alpha[trimap.interior] = 1.0
        alpha[trimap.exterior] = 0.0
        alpha *= inside
        alpha, islands = keep_connected(alpha, face if face.any() else trimap.interior)
        alpha = fill_holes(alpha, person)
        alpha[face] = 1.0
        return Matte(np.clip(alpha, 0.0, 1.0).astype(np.float32), method, islands)

    def _salient(self, rgb: npt.NDArray[np.uint8], context: ContextWindow | None) -> FloatMask:
        assert self._isnet_predict is not None
        if context is None:
            return self._isnet_predict(rgb)
        window = self._isnet_predict(context.rgb)
        height, width = rgb.shape[:2]
        mapped = cv2.warpAffine(window, context.to_crop, (width, height), flags=cv2.INTER_LINEAR)
        return np.asarray(mapped, dtype=np.float32)


def _one_subject(trimap: Trimap, face: Mask, radius: int) -> Trimap:
    """Only the interior connected to the face is the subject, and the band only reaches two band-widths from it.

    A neighbour in a group photo is usually joined to the subject only through the person mask's blurry band
    (hair against a shoulder); the eroded interior separates them, and cutting the band off beyond the subject's
    reach keeps the neighbour from returning through ISNet.
    """
    seed = face if face.any() else trimap.interior
    interior = component_of(trimap.interior, seed)
    reach = dilate(interior, 2 * radius)
    return Trimap(interior, trimap.exterior | ~reach)


def _guard_interior(rgb: npt.NDArray[np.uint8], trimap: Trimap, face: Mask, salient: FloatMask) -> tuple[Trimap, bool]:
    """Settle where ISNet calls part of the interior background.

    Under the chin (neck, shirt, suit: where ISNet on a busy room drops the body) the interior wins, unless the
    pixel's colour is closer to the nearby confident background than to the nearby subject both models agree
    on. Elsewhere (beside and above the head, where the person mask spills onto bright or busy background) ISNet
    wins, unless the colour says subject. Returns the trimap and whether the interior overruled ISNet noticeably.
    """
    contested = trimap.interior & ~face & (salient < _ISNET_SAYS_BACKGROUND)
    if not contested.any():
        return trimap, False
    window = max(3, round(min(rgb.shape[:2]) * 0.12))
    # Only the contested pixels need a verdict, and a local mean reaches half a window: everything is worked out
    # on their bounding box grown by that much (on a phone photo's 648x648 crop, ~1/8 of the pixels; same
    # verdicts, as the box filter sees the same neighbours and the same image borders).
    near = _grown_box(contested, window // 2 + 1)
    image = rgb[near].astype(np.float32)
    interior, isnet = trimap.interior[near], salient[near]
    agreed = (interior & (isnet > 0.5)).astype(np.float32)
    background = (trimap.exterior[near] | (~interior & (isnet < _ISNET_SAYS_BACKGROUND))).astype(np.float32)

    def local_mean(weight: FloatMask) -> tuple[npt.NDArray[np.float32], FloatMask]:
        total = np.asarray(cv2.blur(weight, (window, window)), dtype=np.float32)
        mean = np.asarray(cv2.blur(image * weight[:, :, None], (window, window)), dtype=np.float32)
        mean /= np.maximum(total, 1e-6)[:, :, None]
        return mean, total

    fg_mean, fg_weight = local_mean(agreed)
    bg_mean, bg_weight = local_mean(background)
    # Squared colour distances: the comparison needs no square root.
    to_fg = np.square(image - fg_mean).sum(axis=2)
    to_bg = np.square(image - bg_mean).sum(axis=2)
    looks_bg = (fg_weight > 0.05) & (bg_weight > 0.05) & (to_bg < to_fg)
    looks_fg = (fg_weight > 0.05) & ~looks_bg
    torso = _under_the_chin(face)[near]
    spill = np.zeros_like(contested)
    spill[near] = contested[near] & np.where(torso, looks_bg, ~looks_fg)
    kept = contested & ~spill
    overruled = np.count_nonzero(kept) > _OVERRULED_SHARE * np.count_nonzero(trimap.interior)
    return Trimap(trimap.interior & ~spill, trimap.exterior), bool(overruled)


def _grown_box(mask: Mask, reach: int) -> tuple[slice, slice]:
    """The bounding box of a non-empty mask's pixels, grown by `reach` on every side and cut at the image."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    height, width = mask.shape
    return (
        slice(max(0, rows[0] - reach), min(height, rows[-1] + 1 + reach)),
        slice(max(0, cols[0] - reach), min(width, cols[-1] + 1 + reach)),
    )


def _under_the_chin(face: Mask) -> Mask:
    """Neck and chest: below the lower part of the face, within a face width either side of its centre."""
    zone = np.zeros_like(face)
    rows, cols = np.flatnonzero(face.any(axis=1)), np.flatnonzero(face.any(axis=0))
    if not len(rows):
        zone[zone.shape[0] // 2 :] = True  # no face seen: the lower half
        return zone
    top, bottom, left, right = rows[0], rows[-1], cols[0], cols[-1]
    width = right - left + 1
    centre = (left + right) // 2
    zone[top + (bottom - top) * 3 // 4 :, max(0, centre - width) : centre + width + 1] = True
    return zone


def _edges(rgb: npt.NDArray[np.uint8], mask: FloatMask) -> FloatMask:
    """Snap a soft mask's edges to the photo's with a guided filter at full crop resolution."""
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    radius = max(2, round(min(rgb.shape[:2]) * 0.006))
    refined = guided_filter(gray, mask.astype(np.float32), radius, 1e-3)
    # Sharpen the transition a little around 0.5: the guided filter leaves wide grey ramps.
    return np.clip((refined - 0.5) * 1.4 + 0.5, 0.0, 1.0).astype(np.float32)


def _soft(mask: Mask, radius: int) -> FloatMask:
    """A hard bound softened over about half the band, so clipping ISNet to it leaves no step."""
    blur = 2 * max(1, radius // 2) + 1
    return np.asarray(cv2.GaussianBlur(mask.astype(np.float32), (blur, blur), 0), dtype=np.float32)


def _isnet_blind(
    rgb: npt.NDArray[np.uint8], salient: FloatMask, person: FloatMask, trimap: Trimap, in_photo: Mask, radius: int
) -> FloatMask | None:
    """How far ISNet calls the nearby certain background salient (0: not at all, 1: all of it); None where it
    nowhere does. The certain background is the trimap's exterior, in the photo, where the person mask is flat
    zero (not the faint response it gives to hair it does not quite see).

    When ISNet's window holds a more salient object than the person (a flag, a picture), ISNet marks that
    object too, right up to the person's edge, and its band values there cannot tell the person from the
    object. But the person mask also misses hair blown far out, which ISNet rightly calls salient; such hair
    has the colours of the subject's own edge (the interior next to the band), so background pixels whose
    colour is commoner along that edge than in the background are left out of the count. Measured over a
    window reaching a band-width beyond the band, so every band pixel sees the background next to it; means
    over so wide a window are smooth, so all of it is taken at a quarter of the resolution.
    """
    height, width = salient.shape
    small = (max(1, width // 4), max(1, height // 4))

    def shrink(mask: Mask) -> npt.NDArray[np.uint8]:
        return np.asarray(cv2.resize(mask.view(np.uint8), small, interpolation=cv2.INTER_NEAREST), dtype=np.uint8)

    flat_zero = cv2.resize(person, small, interpolation=cv2.INTER_NEAREST) < 0.02
    certain = (shrink(trimap.exterior) > 0) & (shrink(in_photo) > 0) & flat_zero
    inner = shrink(trimap.interior)
    ring = 2 * max(1, radius // 4) + 1  # the interior within about half a band-width of its edge
    edge = (inner > 0) & ~(cv2.erode(inner, np.ones((ring, ring), np.uint8)) > 0)
    # One pixel in 16 is sample enough for colour shares; 8 levels a channel, so each share counts many pixels.
    levels = np.asarray(cv2.resize(rgb, small, interpolation=cv2.INTER_NEAREST), dtype=np.int32) >> 5
    colour = (levels[:, :, 0] << 6) | (levels[:, :, 1] << 3) | levels[:, :, 2]
    in_background = np.bincount(colour[certain], minlength=512) / max(1, int(np.count_nonzero(certain)))
    on_edge = np.bincount(colour[edge], minlength=512) / max(1, int(np.count_nonzero(edge)))
    counted = (certain & (in_background > on_edge)[colour]).astype(np.float32)
    window = (6 * radius + 1) // 4 | 1
    seen = cv2.blur(cv2.resize(salient, small, interpolation=cv2.INTER_AREA) * counted, (window, window))
    weight = cv2.blur(counted, (window, window))
    share = seen / np.maximum(weight, 1e-6)
    # Up to 0.7 ISNet still tells much of the nearby background from the person; from 0.95 on, none of it.
    blind = np.clip((share - 0.7) / 0.25, 0.0, 1.0) * (weight > 0.05)
    if not blind.any():
        return None
    return np.asarray(cv2.resize(blind, (width, height), interpolation=cv2.INTER_LINEAR), dtype=np.float32)


def _blend_into(target: FloatMask, other: FloatMask, weight: FloatMask) -> None:
    """target += (other - target) * weight, in place, over the box where the weight is not zero (usually a
    small part of the crop)."""
    weighted = weight != 0
    if not weighted.any():
        return
    box = _grown_box(weighted, 0)
    part = target[box]
    part += (other[box] - part) * weight[box]
