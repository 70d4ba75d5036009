"""Foreground colour estimation (blur fusion): right colours in the edge band, the photo where it is opaque.

estimate_foreground does its per-pixel arithmetic on the semi-transparent band only (for speed); these tests hold
it to the paper's whole-image form, written out plainly below, and to a composite whose true colours are known.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from facecraft.imaging.foreground import estimate_foreground

Image = npt.NDArray[np.float32]


def whole_image_blur_fusion(rgb: npt.NDArray[np.uint8], alpha: Image) -> npt.NDArray[np.uint8]:
    """Forte and Pitié's two passes over every pixel, as the paper states them (the reference)."""
    image = rgb.astype(np.float32) / 255.0
    a = np.clip(alpha, 0.0, 1.0)[:, :, None]

    def blur(values: Image, size: int) -> Image:
        return np.asarray(cv2.blur(values, (size, size), borderType=cv2.BORDER_REFLECT), np.float32)

    def fuse(fg: Image, bg: Image, size: int) -> tuple[Image, Image]:
        blurred = blur(a[:, :, 0], size)[:, :, None]
        mean_fg = blur(fg * a, size) / (blurred + 1e-5)
        mean_bg = blur(bg * (1 - a), size) / (1 - blurred + 1e-5)
        estimate = mean_fg + a * (image - a * mean_fg - (1 - a) * mean_bg)
        return np.clip(estimate, 0.0, 1.0), mean_bg

    large = max(3, round(min(rgb.shape[:2]) * 0.14))
    fg, bg = fuse(image, image, large)
    fg, _ = fuse(fg, bg, max(3, round(large / 15)))
    out = np.rint(fg * 255.0).astype(np.uint8)
    opaque = a[:, :, 0] >= 1.0
    out[opaque] = rgb[opaque]
    return out


def soft_disc(shape: tuple[int, int], blur: int) -> Image:
    """A disc whose edge fades over `blur` pixels: a subject with a wide semi-transparent band."""
    height, width = shape
    disc = np.zeros(shape, np.float32)
    cv2.circle(disc, (width // 2, height // 2), min(shape) // 3, 1.0, -1)
    return np.asarray(cv2.GaussianBlur(disc, (0, 0), blur), np.float32)


@pytest.mark.parametrize("blur", [2, 9])
def test_matches_the_whole_image_form_on_a_photo(astronaut: npt.NDArray[np.uint8], blur: int) -> None:
    alpha = soft_disc(astronaut.shape[:2], blur)
    alpha[alpha > 0.98] = 1.0  # an opaque interior, as a real matte has
    ours, reference = estimate_foreground(astronaut, alpha), whole_image_blur_fusion(astronaut, alpha)
    difference = np.abs(ours.astype(int) - reference.astype(int))
    assert difference.max() <= 1  # float order of operations only
    assert np.count_nonzero(difference) <= 0.001 * difference.size


def test_band_takes_the_subject_colour_not_the_old_background() -> None:
    # A red subject over a yellow wall, mixed by a soft alpha: the observed edge is orange.
    alpha = soft_disc((240, 240), 6)
    subject, wall = np.array([200, 30, 30], np.float32), np.array([230, 200, 40], np.float32)
    mixed = alpha[:, :, None] * subject + (1 - alpha[:, :, None]) * wall
    rgb = np.rint(mixed).astype(np.uint8)
    estimate = estimate_foreground(rgb, alpha)
    band = (alpha > 0.1) & (alpha < 0.9)
    error_before = np.abs(rgb[band].astype(float) - subject).mean(axis=0)
    error_after = np.abs(estimate[band].astype(float) - subject).mean(axis=0)
    # Issue #12 asks for the spill cut at least in half; on this wide, smooth edge it is cut to ~40 %.
    assert error_after.sum() < 0.5 * error_before.sum()
    assert error_after[1] < 0.5 * error_before[1]  # the wall's green, the contamination itself


def test_opaque_pixels_are_the_photo_bit_for_bit(astronaut: npt.NDArray[np.uint8]) -> None:
    alpha = soft_disc(astronaut.shape[:2], 4)
    alpha[alpha > 0.9] = 1.0
    out = estimate_foreground(astronaut, alpha)
    opaque = alpha >= 1.0
    assert np.array_equal(out[opaque], astronaut[opaque])


@pytest.mark.parametrize("value", [0.0, 1.0])
def test_no_band_at_all(astronaut: npt.NDArray[np.uint8], value: float) -> None:
    alpha = np.full(astronaut.shape[:2], value, np.float32)
    out = estimate_foreground(astronaut, alpha)
    assert out.shape == astronaut.shape and out.dtype == np.uint8
    if value == 1.0:
        assert np.array_equal(out, astronaut)


def test_alpha_of_another_size_is_refused(astronaut: npt.NDArray[np.uint8]) -> None:
    with pytest.raises(ValueError, match="does not match"):
        estimate_foreground(astronaut, np.ones((10, 10), np.float32))
