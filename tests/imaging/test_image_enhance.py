"""Photo enhancement measured on the subject only (defect D-7), and face-detail restoration."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from facecraft.imaging import enhance_photo, restore_face_details


def half_subject(
    subject: tuple[int, int, int], background: int
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.float32]]:
    rgb = np.full((240, 320, 3), background, np.uint8)
    weight = np.zeros((240, 320), np.float32)
    rgb[:, :160] = subject
    weight[:, :160] = 1.0
    return rgb, weight


@pytest.mark.parametrize("background", [0, 255])
def test_background_does_not_bias_exposure(background: int) -> None:
    # The original turned this grey-120 subject into 210 because the black background was averaged in.
    rgb, weight = half_subject((120, 120, 120), background)
    out = enhance_photo(rgb, weight)
    subject = out[:, :160].astype(int)
    assert np.all(np.abs(subject - 120) <= 15)


def test_soft_matte_edge_is_ignored_in_statistics() -> None:
    rgb, weight = half_subject((120, 120, 120), 0)
    weight[:, 160:] = 0.4  # uncertain fringe below the 0.5 threshold: not part of the statistics
    out = enhance_photo(rgb, weight)
    assert np.all(np.abs(out[:, :160].astype(int) - 120) <= 15)


def test_dark_subject_is_brightened_within_bounds() -> None:
    rgb, weight = half_subject((40, 40, 40), 255)
    out = enhance_photo(rgb, weight)
    subject = out[:, :160].astype(int)
    # Grey 40 is L* 16.9, far under the 52 target: the correction goes 60 % of the way past the 12-point
    # dead band (to L* 30.8), but the gamma is bounded at 0.7, which lands on L* 28.8, sRGB 68-69
    # (measured 69). Brighter would mean the bound is gone (a washed-out face), darker that it did nothing.
    assert 64 <= subject.mean() <= 74, subject.mean()
    assert subject.max() - subject.min() <= 2, "a flat subject stays flat: no halo from the local steps"
    assert np.all(out[:, 160:] == 255), "the white background is not part of the correction"


def test_colour_cast_moves_toward_neutral_but_not_fully() -> None:
    rgb, weight = half_subject((170, 120, 80), 0)
    out = enhance_photo(rgb, weight)
    red, green, blue = (float(out[120, 40, c]) for c in range(3))
    spread_before = 170 - 80
    spread_after = red - blue
    assert spread_after < spread_before  # less cast
    assert spread_after > 0.5 * spread_before  # but skin-like warmth is not erased
    assert red > green > blue


def test_shape_and_dtype_preserved(astronaut: npt.NDArray[np.uint8]) -> None:
    weight = np.ones(astronaut.shape[:2], np.float32)
    out = enhance_photo(astronaut, weight)
    assert out.shape == astronaut.shape and out.dtype == np.uint8
    assert np.abs(out.astype(int) - astronaut).mean() < 12  # gentle on a well-exposed portrait


def test_empty_subject_returns_image_unchanged(astronaut: npt.NDArray[np.uint8]) -> None:
    out = enhance_photo(astronaut, np.zeros(astronaut.shape[:2], np.float32))
    assert np.array_equal(out, astronaut)
    assert out is not astronaut


def noisy_flat(seed: int = 0) -> npt.NDArray[np.uint8]:
    noise = np.random.default_rng(seed).normal(128, 12, (240, 240, 3))
    return np.asarray(np.clip(np.rint(noise), 0, 255), dtype=np.uint8)


def test_restore_reduces_noise_inside_the_box_only() -> None:
    rgb = noisy_flat()
    out = restore_face_details(rgb, (80, 80, 80, 80), fidelity=0.0)
    inside = (slice(100, 140), slice(100, 140))
    assert out[inside].astype(float).std() < 0.7 * rgb[inside].astype(float).std()
    assert np.array_equal(out[:40], rgb[:40])
    assert np.array_equal(out[:, 200:], rgb[:, 200:])


def test_restore_fidelity_one_is_unchanged() -> None:
    rgb = noisy_flat(1)
    out = restore_face_details(rgb, (80, 80, 80, 80), fidelity=1.0)
    assert np.abs(out.astype(int) - rgb).max() <= 1


def test_restore_strength_follows_fidelity() -> None:
    rgb = noisy_flat(2)
    inside = (slice(100, 140), slice(100, 140))
    noise = [
        restore_face_details(rgb, (80, 80, 80, 80), fidelity)[inside].astype(float).std()
        for fidelity in (0.0, 0.5, 0.9)
    ]
    assert noise[0] < noise[1] < noise[2]


def test_restore_box_outside_image_is_harmless(astronaut: npt.NDArray[np.uint8]) -> None:
    assert np.array_equal(restore_face_details(astronaut, (600, 600, 50, 50), 0.0), astronaut)
    clipped = restore_face_details(astronaut, (-30, -30, 100, 100), 0.0)
    assert clipped.shape == astronaut.shape
    # The box is clipped to (0, 0)-(70, 70); the feathered rim reaches 20 % of the box (20 px) beyond.
    assert np.array_equal(clipped[90:], astronaut[90:]) and np.array_equal(clipped[:, 90:], astronaut[:, 90:])
    changed = np.abs(clipped[:70, :70].astype(int) - astronaut[:70, :70]).mean()
    assert changed > 3, "the part of the box inside the image is restored (measured mean change 12.9)"
