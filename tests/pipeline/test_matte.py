"""The matte's invariants on every test photo, in both modes (measures in tests/pipeline/matte_invariants.py).

Issue #12: the face is opaque by construction, the torso under the chin is kept (quality mode; the fast mode
promises the face, one subject and frame cuts), nothing but the subject survives, a result composited over a new
background mattes the same way again, and decontamination keeps the new background out of the edge colours.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from tests.pipeline.matte_invariants import (
    FRAME_CUTS,
    HELD_OUT_GROUPS,
    LABELLED_BACKGROUND,
    PLAIN,
    PLAIN_OR_TEXTURE,
    SATURATED,
    TUNED,
    backgrounds,
    cases,
    framed_options,
    framing_agreement,
    invariants,
    labelled_background_alpha,
    labelled_photo,
    load_rgb,
    swap_run,
    truth_composite,
    truth_error,
)
from tests.pipeline.photo_conditions import CONDITIONS

from facecraft.config import MattingMode
from facecraft.imaging.foreground import estimate_foreground
from facecraft.pipeline.portrait import Portrait, PortraitPipeline
from facecraft.standards.documents import DOCUMENT_IDS

CASE_NAMES = (
    TUNED
    + [f"{name}:cut-{side}" for name, side, _ in FRAME_CUTS]
    + [f"{name}:face{i}" for name in HELD_OUT_GROUPS for i in range(2)]
)
MODES = [MattingMode.QUALITY, MattingMode.FAST]


@pytest.fixture(scope="module")
def photos(pipeline: PortraitPipeline) -> dict[str, npt.NDArray[np.uint8]]:
    return cases(pipeline)


@pytest.fixture(scope="module")
def results() -> dict[tuple[str, str, str | None], Portrait]:
    """Portraits already made in this module, so each photo is processed once per mode."""
    return {}


def _portrait(pipeline, photos, results, name: str, mode: MattingMode, document_id: str | None = None) -> Portrait:
    """PLAIN in `mode`, at the face-box framing or in a document's frame (without its oval), made once per module."""
    key = (name, mode.value, document_id)
    if key not in results:
        results[key] = pipeline.process_rgb(photos[name], framed_options(document_id, mode))
    return results[key]


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.value)
@pytest.mark.parametrize("name", CASE_NAMES)
def test_face_opaque_one_subject_and_torso_kept(pipeline, photos, results, name: str, mode: MattingMode) -> None:
    portrait = _portrait(pipeline, photos, results, name, mode)
    found = invariants(portrait)
    assert found.face_mean >= 0.99, f"face mean alpha {found.face_mean:.3f}"
    assert found.face_below_half == 0.0, f"{found.face_below_half:.2%} of the face below alpha 0.5"
    assert found.mouth_mean >= 0.98, f"mouth mean alpha {found.mouth_mean:.3f}"
    assert found.islands == 0, f"{found.islands} opaque islands"
    if mode is MattingMode.QUALITY and found.torso_mean is not None:
        assert found.torso_mean >= 0.98, f"torso strip mean alpha {found.torso_mean:.3f}"
    assert portrait.matte_method.startswith("trimap_")
    cut = ":cut-" in name
    assert ("face_cut_by_frame" in portrait.warnings) == cut


# ID photos are what most people make, and a document's frame shows more of the body than the face-box framing: the
# same invariants, torso included, on every case at three frames (ICAO's 35x45 mm, the US 2x2 in square, Canada's
# 50x70 mm, which reaches furthest below the chin). `benchmarks/robustness_bench.py` and a sweep of all eight
# documents in both modes (2026-11-30) found every case holding; group4's first face did so only once the torso strip
# was centred on the neck rather than the chin (matte_invariants.torso_strip).
@pytest.mark.slow
@pytest.mark.parametrize("document_id", ["passport", "us_passport", "canada_passport"])
@pytest.mark.parametrize("name", CASE_NAMES)
def test_face_and_torso_kept_in_document_frames(pipeline, photos, results, name: str, document_id: str) -> None:
    found = invariants(_portrait(pipeline, photos, results, name, MattingMode.QUALITY, document_id))
    assert found.face_mean >= 0.99, f"face mean alpha {found.face_mean:.3f}"
    assert found.face_below_half == 0.0, f"{found.face_below_half:.2%} of the face below alpha 0.5"
    assert found.mouth_mean >= 0.98, f"mouth mean alpha {found.mouth_mean:.3f}"
    assert found.islands == 0, f"{found.islands} opaque islands"
    if found.torso_mean is not None:
        assert found.torso_mean >= 0.98, f"torso strip mean alpha {found.torso_mean:.3f}"


# Phone-like conditions (tests/pipeline/photo_conditions.py): what holds by construction (the face and mouth opaque,
# one subject) must hold whatever the photo went through. Before the face oval was also made opaque at the output's
# size, a thumbnail of two_faces had 0.04 % of its face below alpha 0.5. The torso is not asserted here: in a
# black-and-white scan, in haze or under vignetting a dark top against a dark room can go (benchmarks/
# robustness_bench.py lists every case).
@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.value)
@pytest.mark.parametrize("condition", list(CONDITIONS))
@pytest.mark.parametrize("name", ["two_faces.jpg", "grace_hopper.jpg"])
def test_face_opaque_and_one_subject_under_phone_conditions(pipeline, name: str, condition: str, mode) -> None:
    photo = CONDITIONS[condition](load_rgb(name))
    found = invariants(pipeline.process_rgb(photo, PLAIN.model_copy(update={"matting": mode})))
    assert found.face_mean >= 0.99, f"face mean alpha {found.face_mean:.3f}"
    assert found.face_below_half == 0.0, f"{found.face_below_half:.2%} of the face below alpha 0.5"
    assert found.mouth_mean >= 0.98, f"mouth mean alpha {found.mouth_mean:.3f}"
    assert found.islands == 0, f"{found.islands} opaque islands"


# Known gap: on a busy or striped new background that touches the subject, the person mask claims the background
# as person too, and where it lies beside the chest the interior wins over ISNet (the rule that keeps the body in
# busy rooms). Measured IoU (2026-11-30) over coffee: person_a 0.80 / 0.76, grace_hopper 0.95 / 0.94 (quality /
# fast); over stripes in fast mode 0.96 (person_a) and 0.92 (grace_hopper). The quality-mode stripes hold since the
# person mask also looks at the photo without the fill beyond its edge (matte.PersonMatter.person_mask): person_a
# 0.818 -> 0.980, grace_hopper 0.986 -> 0.973; asserted like the solid colours. With a human-matting model as the
# person mask and in ISNet's place, 3 of the 4 coffee cases passed (benchmarks/rvm_probe.py: RVM, GPL-3.0 upstream,
# not in the images; figures in docs/pipeline.md).
_BUSY = pytest.mark.xfail(reason="person mask claims busy backgrounds beside the chest (issue #12, open)", strict=False)
_BUSY_HOLDS = {(name, MattingMode.QUALITY, "stripes") for name in ("person_a.jpg", "grace_hopper.jpg")}
SWAP_CASES = [
    pytest.param(
        name,
        mode,
        background,
        marks=_BUSY if background not in SATURATED and (name, mode, background) not in _BUSY_HOLDS else (),
        id=f"{name}-{mode.value}-{background}",
    )
    for name in ("person_a.jpg", "grace_hopper.jpg")
    for mode in MODES
    for background in (*SATURATED, "stripes", "coffee")
]


@pytest.mark.parametrize(("name", "mode", "background"), SWAP_CASES)
def test_background_swap_mattes_the_same(
    pipeline, photos, results, name: str, mode: MattingMode, background: str
) -> None:
    """Light hair (person_a) and a dark uniform (grace_hopper) over 4 saturated colours, stripes and a busy photo."""
    first = _portrait(pipeline, photos, results, name, mode)
    options = PLAIN.model_copy(update={"matting": mode})
    height, width = first.alpha.shape
    swap = swap_run(pipeline, first, background, backgrounds(height, width)[background], options)
    assert swap.iou >= 0.97, f"{background}: alpha IoU {swap.iou:.3f} against the first result"


# Composites with a known alpha (matte_invariants.truth_composite): each tuned photo's quality result over a new
# background on a larger canvas, matted again by both modes. Measured (benchmarks/matte_bench.py, 9 photos,
# 2026-11-30 17:37 UTC, int8 ISNet): mean squared error x 1e3, quality vs fast, green 1.7 vs 3.3, brick 3.7 vs 6.0,
# grass 7.4 vs 13.0; lowest quality IoU 0.991 (green), 0.978 (brick), 0.946 (grass: grace_hopper's white cap crown
# over grey grass). Over the two busy photos quality is the worse mode (rocket 17.6 vs 10.5, coffee 32.6 vs 21.3):
# ISNet calls an object that touches the head salient (README, "Known limits"); not asserted.
_TRUTH_IOU = {"green": 0.97, "brick": 0.97}


@pytest.mark.slow
@pytest.mark.parametrize("background", PLAIN_OR_TEXTURE)
def test_quality_recovers_a_known_alpha_better_than_fast(pipeline, photos, results, background: str) -> None:
    """Over a solid colour and textures, both modes matte the same composites; quality errs less than fast."""
    errors: dict[MattingMode, list[float]] = {mode: [] for mode in MODES}
    for name in TUNED:
        canvas, truth = truth_composite(_portrait(pipeline, photos, results, name, MattingMode.QUALITY), background)
        for mode in MODES:
            found = truth_error(pipeline, canvas, truth, PLAIN.model_copy(update={"matting": mode}))
            errors[mode].append(found.mse)
            if mode is MattingMode.QUALITY and background in _TRUTH_IOU:
                assert found.iou >= _TRUTH_IOU[background], f"{name}: IoU {found.iou:.3f} against the known alpha"
    quality, fast = (float(np.mean(errors[mode])) for mode in MODES)
    assert quality < fast, f"mean squared error: quality {quality:.4f}, fast {fast:.4f}"


# Over the busy coffee photo, before -> after colour settled what ISNet adds beside the head and the person mask
# also looked at the photo without the fill (2026-11-30): quality 43.4 -> 33.5 x 1e-3. The bound lies between.
_BUSY_TRUTH_MOST = 0.040


@pytest.mark.slow
def test_quality_keeps_less_of_a_busy_photo_beside_the_head(pipeline, photos, results) -> None:
    """Against a known alpha over the coffee photo (a saucer touching the head), quality's error stays bounded."""
    errors = []
    for name in TUNED:
        canvas, truth = truth_composite(_portrait(pipeline, photos, results, name, MattingMode.QUALITY), "coffee")
        errors.append(truth_error(pipeline, canvas, truth, PLAIN).mse)
    assert float(np.mean(errors)) <= _BUSY_TRUTH_MOST, f"mean squared error {np.mean(errors):.4f} over coffee"


def test_decontamination_halves_the_spill(pipeline, photos, results) -> None:
    """The new background's colour in the edge band of the re-run, with and without foreground estimation."""
    first = _portrait(pipeline, photos, results, "person_a.jpg", MattingMode.QUALITY)
    height, width = first.alpha.shape
    images = backgrounds(height, width)
    with_fg, without = [], []
    try:
        for name in SATURATED:
            pipeline.foreground = estimate_foreground
            with_fg.append(swap_run(pipeline, first, name, images[name], PLAIN).spill)
            pipeline.foreground = lambda rgb, alpha: rgb
            without.append(swap_run(pipeline, first, name, images[name], PLAIN).spill)
    finally:
        pipeline.foreground = estimate_foreground
    spill_with = float(np.mean([s for s in with_fg if s is not None]))
    spill_without = float(np.mean([s for s in without if s is not None]))
    assert spill_without > 0.02, f"the measure must see the spill it is meant to cut ({spill_without:.3f})"
    assert spill_with <= 0.5 * spill_without, f"spill {spill_with:.3f} with vs {spill_without:.3f} without"


# Document framings against the face-box framing of the same photo (matte_invariants.framing_agreement). Before the
# document matte was drawn on the document's own frame, with ISNet's window kept inside the photo, the extra
# mass reached 0.09-0.12 on person_a (a band of the old background beside and above the hair) and 0.18-0.26 on
# two_faces; after it, at most 0.051 (person_d, whose neighbour's shoulder is the open case above) and 0.011 on
# average. `lost` guards the other way: the fix must not buy a clean edge with hair or shoulders.
_MOST_EXTRA, _MEAN_EXTRA, _MOST_LOST = 0.06, 0.02, 0.08


@pytest.mark.slow
@pytest.mark.parametrize("document_id", DOCUMENT_IDS)
def test_document_framing_keeps_no_old_background(pipeline, photos, results, document_id: str) -> None:
    """Every document preset, on every tuned photo, mattes like the face-box framing where both frames show it."""
    found = {}
    for name in TUNED:
        framed = _portrait(pipeline, photos, results, name, MattingMode.QUALITY, document_id)
        found[name] = framing_agreement(framed, _portrait(pipeline, photos, results, name, MattingMode.QUALITY))
    summary = ", ".join(f"{name} +{f.extra:.3f}/-{f.lost:.3f}" for name, f in found.items())
    assert max(f.extra for f in found.values()) <= _MOST_EXTRA, summary
    assert float(np.mean([f.extra for f in found.values()])) <= _MEAN_EXTRA, summary
    assert max(f.lost for f in found.values()) <= _MOST_LOST, summary


# Old background kept beside the subject, over hand-labelled regions (matte_invariants.LABELLED_BACKGROUND), mean
# alpha before -> after the fix that the case guards:
# - grace_hopper_rot-20, the flag pole: ISNet's window took the flag for the salient object and marked it right up to
#   the person's edge, so the band it decided kept a strip of it. passport 0.95 -> 0.09, canada_passport 0.93 -> 0.14
#   once the person mask's edge decides where ISNet calls the nearby background salient (us_passport 0.98 -> 0.31 and
#   uk_passport 0.22 are not asserted).
# - person_b, the picture seen between her raised arm and her head: the person mask fills the gap and ISNet is unsure
#   there (0.1-0.5), so it stays half-visible: 0.13 (passport), 0.19 (uk_passport), 0.18 (us_passport); open, not
#   asserted there. At canada_passport, whose crop reaches far past the photo, 1.0 -> 0.18 once the person mask also
#   looks at the photo without the fill beyond its edge (matte.PersonMatter.person_mask).
# - person_b, the wall right of her raised elbow, level with her chin: the person mask claims it and ISNet does not,
#   and the rectangle a face width either side from the jaw down, where the interior outranked ISNet, reached it:
#   0.95 (face box), 1.0 (passport), 0.87 (us_passport). Since that zone is the neck widening to the shoulders
#   (matte._neck_and_shoulders): 0.17, 0.37, 0.22.
# Each asserted case's bound lies between its figures before and after.
_LABELLED_CASES = [
    ("grace_hopper_rot-20.jpg", "passport", 0.2),
    ("grace_hopper_rot-20.jpg", "canada_passport", 0.2),
    ("person_b.jpg", "canada_passport", 0.5),
    ("person_b.jpg#elbow", None, 0.5),
    ("person_b.jpg#elbow", "passport", 0.6),
    ("person_b.jpg#elbow", "us_passport", 0.5),
]


@pytest.mark.parametrize(("name", "document_id", "most"), _LABELLED_CASES)
def test_labelled_background_next_to_the_subject_is_dropped(
    pipeline, name: str, document_id: str | None, most: float
) -> None:
    """Hand-labelled old background beside the subject is transparent in a document preset's frame (None: the
    face-box framing)."""
    options = framed_options(document_id)
    portrait = pipeline.process_rgb(load_rgb(labelled_photo(name)), options)
    kept = labelled_background_alpha(portrait, LABELLED_BACKGROUND[name])
    assert kept is not None, "the frame must show the labelled region"
    assert kept <= most, f"mean alpha {kept:.3f} over old background beside the subject"


# group5's first face (a held-out crop): the tan background right above her hair, hand-labelled in the crop's pixels.
# At `passport` the person mask claims it and ISNet does not, and with no background near to compare with, its colour
# passed for the subject's. Mean alpha 0.39 -> 0.01 once "like the subject" needs the nearby subject's own spread of
# colours (matte._guard_interior); the other frames keep it out either way (below 0.01).
_ABOVE_THE_HAIR = [(172.0, 20.0), (206.0, 20.0), (206.0, 34.0), (172.0, 34.0)]


def test_background_above_the_hair_is_not_taken_for_the_subject(pipeline, photos) -> None:
    portrait = pipeline.process_rgb(photos["group5.jpg:face0"], framed_options("passport"))
    kept = labelled_background_alpha(portrait, _ABOVE_THE_HAIR)
    assert kept is not None, "the frame must show the labelled region"
    assert kept <= 0.2, f"mean alpha {kept:.3f} over the background above the hair"


# A neighbour beside the subject in a group photo, over hand-labelled regions of the neighbour's hair
# (matte_invariants.LABELLED_BACKGROUND), mean alpha before -> after the other detected faces were made to stand for
# bodies that are not the subject's (pipeline/neighbours.py), in both modes: two_faces at us_passport and
# canada_passport 1.0 -> 0.02-0.07; two_faces2 at us_passport 0.97 (quality) and 0.94 (fast) -> 0.0. The smaller
# document frames do not reach the labelled hair.
_NEIGHBOUR_CASES = [
    ("two_faces.jpg", "us_passport"),
    ("two_faces.jpg", "canada_passport"),
    ("two_faces2.jpg", "us_passport"),
]


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.value)
@pytest.mark.parametrize(("name", "document_id"), _NEIGHBOUR_CASES)
def test_neighbour_beside_the_subject_is_dropped(pipeline, name: str, document_id: str, mode: MattingMode) -> None:
    """A neighbour's hair touching the subject is transparent in a document preset's wide frame."""
    portrait = pipeline.process_rgb(load_rgb(name), framed_options(document_id, mode))
    kept = labelled_background_alpha(portrait, LABELLED_BACKGROUND[name])
    assert kept is not None, "the frame must show the labelled region"
    assert kept <= 0.1, f"mean alpha {kept:.3f} over the neighbour's hair"
