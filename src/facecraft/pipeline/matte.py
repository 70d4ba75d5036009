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
Where ISNet calls a part of the interior background, place and colour decide: on the neck and shoulders the
interior wins unless the part looks like the nearby background (a dark suit in a busy room stays); beside and
above the head ISNet wins unless the part looks like the subject (the person mask's spill onto bright or busy
background goes).
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
from facecraft.pipeline.band_colours import edge_colours, isnet_sees_background, ramp, subject_likeness

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
# The neck column under the face, in face widths either side of its centre: ISNet's band values stay there even
# where ISNet is blind to the nearby background (a half-missed neck in group4.jpg fell to 0.978 without it).
_NECK = 0.5
# "Like the subject" where no background is near to compare with: within this many standard deviations of the
# colours of the subject nearby (summed over the channels; the floor, in squared 8-bit levels, stands for a
# flat-coloured subject).
_SPREAD = 2.0
_SPREAD_FLOOR = 3 * 10.0**2
# Where the neck column widens to the shoulders (`_neck_and_shoulders`), in face heights below the chin.
_SHOULDERS_DROP = 0.5
# ISNet's share of the nearby background (band_colours.isnet_sees_background) from which colour may overrule it.
_DOUBT = (0.2, 0.5)


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

    def person_mask(self, rgb: npt.NDArray[np.uint8], inside: FloatMask | None = None) -> FloatMask:
        """The person segmentation of a crop. With `inside` (1 where the crop shows the photo) and a crop that
        reaches past the photo's edge, the part showing the photo is segmented too, and where it sees less of a
        person the crop's answer is pulled halfway down to it.

        The model is sensitive to framing: next to the flat fill beyond a photo's edge it took a busy background
        beside the hair for the person (a tight selfie's crop). Halfway leaves such pixels to the band, where ISNet
        (in `fast` mode, the photo's own edges) decides. Only down: where the photo's part alone saw more, it was a
        neighbour's shoulder or a background object as often as the subject (docs/pipeline.md has the figures).
        """
        whole = self._segment(rgb)
        if inside is None:
            return whole
        shown = inside > 0.5
        if shown.all() or not shown.any():
            return whole
        box = _grown_box(shown, 0)
        photo_only = np.zeros_like(whole)
        photo_only[box] = self._segment(rgb[box])
        whole += np.minimum(whole, photo_only)
        whole *= 0.5
        return whole

    def _segment(self, rgb: npt.NDArray[np.uint8]) -> FloatMask:
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
        person = self.person_mask(rgb, inside)
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
            torso = _neck_and_shoulders(face)
            trimap, overruled = _guard_interior(rgb, trimap, face, torso, salient, in_photo)
            band = _edges(rgb, np.minimum(salient, _soft(~trimap.exterior, radius)))
            person_band = _edges(rgb, person)
            _distrust_isnet(rgb, band, person_band, person, trimap, face, in_photo, salient, radius)
            # On the neck and shoulders ISNet is the one that drops bodies, so there the band keeps the person mask's
            # word too.
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


def _guard_interior(
    rgb: npt.NDArray[np.uint8], trimap: Trimap, face: Mask, torso: Mask, salient: FloatMask, in_photo: Mask
) -> tuple[Trimap, bool]:
    """Settle where ISNet calls part of the interior background.

    On the neck and shoulders (`torso`: where ISNet on a busy room drops the body) the interior wins,
    unless the pixel's colour is closer to the nearby confident background than to the nearby subject both models
    agree on. Elsewhere (beside and above the head, where the person mask spills onto bright or busy background) ISNet
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
    # The flat fill beyond the photo's edge is no one's background: its grey is not the nearby background's colour.
    background = ((trimap.exterior[near] | (~interior & (isnet < _ISNET_SAYS_BACKGROUND))) & in_photo[near]).astype(
        np.float32
    )

    def local_mean(weight: FloatMask, of: npt.NDArray[np.float32] = image) -> tuple[npt.NDArray[np.float32], FloatMask]:
        total = np.asarray(cv2.blur(weight, (window, window)), dtype=np.float32)
        mean = np.asarray(cv2.blur(of * weight[:, :, None], (window, window)), dtype=np.float32)
        mean /= np.maximum(total, 1e-6)[:, :, None]
        return mean, total

    fg_mean, fg_weight = local_mean(agreed)
    bg_mean, bg_weight = local_mean(background)
    # Squared colour distances: the comparison needs no square root.
    to_fg = np.square(image - fg_mean).sum(axis=2)
    to_bg = np.square(image - bg_mean).sum(axis=2)
    looks_bg = (fg_weight > 0.05) & (bg_weight > 0.05) & (to_bg < to_fg)
    # With no background nearby to compare with (the person mask claims all of it), "like the subject" means
    # within the subject's own spread of colours there: a light window above the hair is not, and was kept.
    fg_spread = (local_mean(agreed, np.square(image))[0] - np.square(fg_mean)).sum(axis=2)
    like_subject = to_fg <= _SPREAD**2 * np.maximum(fg_spread, _SPREAD_FLOOR)
    looks_fg = (fg_weight > 0.05) & ~looks_bg & ((bg_weight > 0.05) | like_subject)
    spill = np.zeros_like(contested)
    spill[near] = contested[near] & np.where(torso[near], looks_bg, ~looks_fg)
    kept = contested & ~spill
    overruled = np.count_nonzero(kept) > _OVERRULED_SHARE * np.count_nonzero(trimap.interior)
    return Trimap(trimap.interior & ~spill, trimap.exterior), bool(overruled)


def _distrust_isnet(
    rgb: npt.NDArray[np.uint8],
    band: FloatMask,
    person_band: FloatMask,
    person: FloatMask,
    trimap: Trimap,
    face: Mask,
    in_photo: Mask,
    salient: FloatMask,
    radius: int,
) -> None:
    """Move ISNet's band values toward the person mask's, in place, where colour says ISNet took background for
    the subject (pipeline/band_colours.py)."""
    colours = edge_colours(rgb, person, trimap, in_photo, radius)
    # Where ISNet calls the nearby certain background salient too, its band values say nothing about the
    # person's edge; the person mask's edge decides there instead. Not in the neck column right under the
    # face, where a body ISNet keeps and the person mask half-misses is the likelier story.
    sees_background = isnet_sees_background(colours, salient, radius)
    # Up to 0.7 ISNet still tells much of the nearby background from the person; from 0.95 on, none of it.
    blind = ramp(sees_background, 0.7, 0.95)
    blind[_under_the_chin(face, _NECK)] = 0.0
    _blend_into(band, person_band, blind)
    # Beside and above the head, what ISNet adds beyond the person mask's edge stays only as far as it has
    # the colours of the subject's edge (hair the person mask misses), not the background's (a saucer's
    # rim, a flag). Below the chin nothing is taken: bodies are what must not be lost.
    beyond = (person < 0.5) & _above_the_chin(face) & (band > person_band)
    if beyond.any():
        box = _grown_box(beyond, 0)
        # Only where ISNet calls some of the nearby background salient: where it tells the background
        # from the person, its word stands (light hair over a light plain background).
        doubt = ramp(sees_background[box], _DOUBT[0], _DOUBT[1])
        toward_person = doubt * (1.0 - subject_likeness(colours)[box]) * beyond[box]
        _blend_into(band[box], person_band[box], toward_person)


def _grown_box(mask: Mask, reach: int) -> tuple[slice, slice]:
    """The bounding box of a non-empty mask's pixels, grown by `reach` on every side and cut at the image."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    height, width = mask.shape
    return (
        slice(max(0, rows[0] - reach), min(height, rows[-1] + 1 + reach)),
        slice(max(0, cols[0] - reach), min(width, cols[-1] + 1 + reach)),
    )


def _above_the_chin(face: Mask) -> Mask:
    """Every row down to the face's lowest: the head and what lies beside and above it (all, with no face seen)."""
    zone = np.zeros_like(face)
    rows = np.flatnonzero(face.any(axis=1))
    zone[: rows[-1] + 1 if len(rows) else zone.shape[0]] = True
    return zone


def _face_bounds(face: Mask) -> tuple[int, int, int, int] | None:
    """The face's top and bottom rows and left and right columns (inclusive); None when no face was seen."""
    rows, cols = np.flatnonzero(face.any(axis=1)), np.flatnonzero(face.any(axis=0))
    if not len(rows):
        return None
    return int(rows[0]), int(rows[-1]), int(cols[0]), int(cols[-1])


def _lower_half(face: Mask) -> Mask:
    """Where the body is when no face was seen."""
    zone = np.zeros_like(face)
    zone[zone.shape[0] // 2 :] = True
    return zone


def _under_the_chin(face: Mask, reach: float) -> Mask:
    """Below the lower part of the face, within `reach` face widths either side of its centre."""
    bounds = _face_bounds(face)
    if bounds is None:
        return _lower_half(face)
    zone = np.zeros_like(face)
    top, bottom, left, right = bounds
    width = right - left + 1
    centre = (left + right) // 2
    half = round(reach * width)
    zone[top + (bottom - top) * 3 // 4 :, max(0, centre - half) : centre + half + 1] = True
    return zone


def _neck_and_shoulders(face: Mask) -> Mask:
    """Where the body is below the lower part of the face: the neck column (`_NECK` face widths either side of the
    face's centre) down to the chin, widening to the shoulders (a face width either side) `_SHOULDERS_DROP` face
    heights below it.

    A rectangle a face width either side from the jaw down also took in the background beside the neck, where the
    person mask often claims a wall or a table: the interior kept it there, and the rectangle's top edge cut a
    straight line through it (a woman in three-quarter view at a card table, in a photo kept out of the tests).
    """
    bounds = _face_bounds(face)
    if bounds is None:
        return _lower_half(face)
    zone = np.zeros_like(face)
    top, bottom, left, right = bounds
    width, height = right - left + 1, bottom - top + 1
    start = top + (bottom - top) * 3 // 4
    widening = np.clip((np.arange(start, zone.shape[0]) - bottom) / (_SHOULDERS_DROP * height), 0.0, 1.0)
    half = width * (_NECK + (1.0 - _NECK) * widening)
    zone[start:] = np.abs(np.arange(zone.shape[1]) - (left + right) / 2)[None, :] <= half[:, None]
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


def _blend_into(target: FloatMask, other: FloatMask, weight: FloatMask) -> None:
    """target += (other - target) * weight, in place, over the box where the weight is not zero (usually a
    small part of the crop)."""
    weighted = weight != 0
    if not weighted.any():
        return
    box = _grown_box(weighted, 0)
    part = target[box]
    part += (other[box] - part) * weight[box]
