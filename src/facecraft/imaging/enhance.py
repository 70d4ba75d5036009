"""Photo tidying measured on the subject only, and non-neural face-detail restoration.

Defect D-7 of the original: its statistics included the transparent (black) background, so a
crop that was half background came out drastically over-brightened (grey 120 became 210). Here
every statistic is weighted by the subject matte, and background pixels never enter a mean or a
local-contrast histogram.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

_SUBJECT_THRESHOLD = 0.5  # matte weights below this are background or uncertain hair fringe
_MIN_SUBJECT_PIXELS = 64  # fewer than this gives statistics too noisy to act on

# White balance: grey-world on the subject, but skin and hair are not grey, so gains are bounded
# and only partly applied. It removes strong casts (tungsten, green fluorescent), not warmth.
_WB_GAIN_RANGE = (0.8, 1.25)
_WB_STRENGTH = 0.35

# Exposure, on LAB lightness L* (0..100). Subjects within the dead band are left alone.
_TARGET_LIGHTNESS = 52.0
_EXPOSURE_DEAD_BAND = 12.0
_EXPOSURE_STRENGTH = 0.6
_GAMMA_RANGE = (0.7, 1.4)

_CLAHE_CLIP = 1.5
_CLAHE_CHANGE_SIGMA = 2.0
_LOCAL_CONTRAST_STRENGTH = 0.5
_SHARPEN_SIGMA = 1.0
_SHARPEN_AMOUNT = 0.5

_L_TO_8BIT = 255.0 / 100.0

# Face restoration (the best we can do without a neural model): denoise while keeping edges,
# lift local contrast, then recover fine detail.
_RESTORE_BILATERAL_DIAMETER = 7
_RESTORE_BILATERAL_SIGMA_COLOUR = 30.0
_RESTORE_BILATERAL_SIGMA_SPACE = 7.0
_RESTORE_CLAHE_CLIP = 1.5
_CLAHE_CHANGE_SIGMA = 2.0
_RESTORE_DETAIL_SIGMA = 1.5
_RESTORE_DETAIL_AMOUNT = 0.7
_RESTORE_MARGIN = 0.2  # of the face box, so the feathered rim falls on forehead, ears and chin

FloatImage = npt.NDArray[np.float32]


def enhance_photo(rgb: npt.NDArray[np.uint8], subject_weight: FloatImage) -> npt.NDArray[np.uint8]:
    """Gentle exposure, white balance, local contrast and sharpening, measured on the subject.

    `subject_weight` is the matte (float32 HxW in [0,1]). Global corrections apply to every pixel
    so that soft edges stay consistent; local ones fade out with the matte.
    """
    if subject_weight.shape != rgb.shape[:2]:
        raise ValueError(f"subject_weight shape {subject_weight.shape} does not match {rgb.shape[:2]}")
    weight = np.clip(subject_weight, 0.0, 1.0).astype(np.float32)
    stats_weight = np.where(weight >= _SUBJECT_THRESHOLD, weight, 0.0).astype(np.float32)
    if np.count_nonzero(stats_weight) < _MIN_SUBJECT_PIXELS:
        return rgb.copy()

    # In place where it can be: on a 648x648 crop every whole-image temporary costs about as much as the
    # colour conversions themselves.
    colour = np.divide(rgb, np.float32(255.0), dtype=np.float32)
    colour *= _white_balance_gains(colour, stats_weight)
    np.clip(colour, 0.0, 1.0, out=colour)

    lab = np.asarray(cv2.cvtColor(colour, cv2.COLOR_RGB2Lab), dtype=np.float32)
    lightness: FloatImage = lab[:, :, 0]
    lightness = _expose(lightness, _weighted_mean(lightness, stats_weight))

    # Local operations see the background replaced by the subject's mean lightness: the cut-out
    # edge then is not a contrast edge, so it neither skews CLAHE's histograms nor grows halos.
    subject_mean = _weighted_mean(lightness, stats_weight)
    flattened = np.where(stats_weight > 0, lightness, subject_mean).astype(np.float32)
    detail = _local_contrast_delta(flattened) + _sharpen_delta(flattened)
    lab[:, :, 0] = np.clip(lightness + detail * weight, 0.0, 100.0)

    result = np.asarray(cv2.cvtColor(lab, cv2.COLOR_Lab2RGB), dtype=np.float32)
    result *= np.float32(255.0)
    np.rint(result, out=result)
    return np.clip(result, 0, 255, out=result).astype(np.uint8)


def _weighted_mean(values: FloatImage, weight: FloatImage) -> float:
    # A BLAS dot product: several times faster than sum(values * weight) on a megapixel crop.
    total = float(np.dot(values.ravel(), weight.ravel()))
    return total / float(weight.sum(dtype=np.float64))


def _white_balance_gains(colour: FloatImage, weight: FloatImage) -> npt.NDArray[np.float32]:
    # Vivid pixels (an orange jacket, red lips) say little about the light; near-neutral ones
    # (shirts, eye whites, grey hair) say most. Weighting by (1 - saturation)^2 is a soft version of
    # picking the neutral pixels, and reduces to plain grey-world when every pixel is alike.
    saturation = np.asarray(cv2.cvtColor(colour, cv2.COLOR_RGB2HSV)[:, :, 1], dtype=np.float32)
    weight = np.asarray(weight * np.square(1.0 - saturation), dtype=np.float32)
    total = float(weight.sum(dtype=np.float64))
    if total <= 1e-3:
        return np.ones(3, dtype=np.float32)
    means = (weight.ravel() @ colour.reshape(-1, 3)) / total
    if means.min() <= 1e-3:  # a channel absent from the subject: no meaningful cast to remove
        return np.ones(3, dtype=np.float32)
    gains = np.clip(means.mean() / means, *_WB_GAIN_RANGE)
    return np.asarray(1.0 + _WB_STRENGTH * (gains - 1.0), dtype=np.float32)


def _expose(lightness: FloatImage, subject_lightness: float) -> FloatImage:
    error = _TARGET_LIGHTNESS - subject_lightness
    if abs(error) <= _EXPOSURE_DEAD_BAND or not 0.5 < subject_lightness < 99.5:
        return lightness
    # Move part of the way past the dead band, with a gamma curve: it keeps black and white fixed
    # and never clips highlights the way a linear gain would.
    wanted = subject_lightness + np.sign(error) * (abs(error) - _EXPOSURE_DEAD_BAND) * _EXPOSURE_STRENGTH
    gamma = np.log(wanted / 100.0) / np.log(subject_lightness / 100.0)
    gamma = float(np.clip(gamma, *_GAMMA_RANGE))
    curved = np.clip(lightness, 0.0, 100.0)
    curved *= np.float32(0.01)
    curved = np.asarray(cv2.pow(curved, gamma), dtype=np.float32)  # OpenCV's vectorised pow: ~4x numpy's here
    curved *= np.float32(100.0)
    return curved


def _local_contrast_delta(lightness: FloatImage) -> FloatImage:
    lightness8 = np.rint(lightness * _L_TO_8BIT).astype(np.uint8)
    change = _clahe_change(lightness8, _CLAHE_CLIP, tiles=8)
    return np.asarray(change * (_LOCAL_CONTRAST_STRENGTH / _L_TO_8BIT), dtype=np.float32)


def _clahe_change(lightness8: npt.NDArray[np.uint8], clip: float, tiles: int) -> FloatImage:
    """How much CLAHE would move each pixel, smoothed.

    On a flat area (skin, a wall) CLAHE's mapping is steep, so applied directly it multiplies
    pixel noise about twofold. Local contrast is a large-scale change; blurring the change keeps
    it and drops the noise gain.
    """
    clahe = cv2.createCLAHE(clipLimit=clip, tileGridSize=(tiles, tiles))
    change = clahe.apply(lightness8).astype(np.float32) - lightness8.astype(np.float32)
    return np.asarray(cv2.GaussianBlur(change, (0, 0), _CLAHE_CHANGE_SIGMA), dtype=np.float32)


def _sharpen_delta(lightness: FloatImage) -> FloatImage:
    blurred = np.asarray(cv2.GaussianBlur(lightness, (0, 0), _SHARPEN_SIGMA), dtype=np.float32)
    return np.asarray((lightness - blurred) * _SHARPEN_AMOUNT, dtype=np.float32)


def restore_face_details(
    rgb: npt.NDArray[np.uint8], face_box: tuple[int, int, int, int], fidelity: float
) -> npt.NDArray[np.uint8]:
    """Denoise, local contrast and detail on the face only, feathered into the rest of the photo.

    `face_box` is (x, y, w, h). `fidelity` follows CodeFormer's meaning: 1 keeps the input,
    0 applies the full restoration.
    """
    strength = 1.0 - float(np.clip(fidelity, 0.0, 1.0))
    height, width = rgb.shape[:2]
    x, y, box_w, box_h = face_box
    margin_x, margin_y = round(box_w * _RESTORE_MARGIN), round(box_h * _RESTORE_MARGIN)
    left, top = max(0, x - margin_x), max(0, y - margin_y)
    right, bottom = min(width, x + box_w + margin_x), min(height, y + box_h + margin_y)
    if strength <= 0.0 or right - left < 3 or bottom - top < 3:
        return rgb.copy()

    region = np.ascontiguousarray(rgb[top:bottom, left:right])
    restored = _restore_region(region)
    blend = _feathered_ellipse(right - left, bottom - top) * np.float32(strength)
    # region + (restored - region) * blend, in place: a convex mix of two 8-bit images stays within 0..255.
    mixed = region.astype(np.float32)
    change = restored.astype(np.float32)
    change -= mixed
    change *= cv2.merge([blend] * 3)
    mixed += change
    output = rgb.copy()
    output[top:bottom, left:right] = np.rint(mixed, out=mixed)
    return output


def _restore_region(region: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    denoised = cv2.bilateralFilter(
        region, _RESTORE_BILATERAL_DIAMETER, _RESTORE_BILATERAL_SIGMA_COLOUR, _RESTORE_BILATERAL_SIGMA_SPACE
    )
    lab = np.asarray(cv2.cvtColor(denoised, cv2.COLOR_RGB2LAB), dtype=np.uint8)
    tiles = max(1, min(region.shape[:2]) // 64)  # about 64-px tiles: eyes, nose and mouth separately
    lightness = lab[:, :, 0].astype(np.float32) + _clahe_change(lab[:, :, 0], _RESTORE_CLAHE_CLIP, tiles)
    blurred = cv2.GaussianBlur(lightness, (0, 0), _RESTORE_DETAIL_SIGMA)
    lightness = lightness + _RESTORE_DETAIL_AMOUNT * (lightness - blurred)
    lab[:, :, 0] = np.clip(np.rint(lightness), 0, 255).astype(np.uint8)
    return np.asarray(cv2.cvtColor(lab, cv2.COLOR_LAB2RGB), dtype=np.uint8)


def _feathered_ellipse(width: int, height: int) -> FloatImage:
    """1 over the inner ellipse, easing to exactly 0 at the region's edges."""
    u = ((np.arange(width, dtype=np.float32) + 0.5) / width * 2.0 - 1.0)[None, :]
    v = ((np.arange(height, dtype=np.float32) + 0.5) / height * 2.0 - 1.0)[:, None]
    radius = np.sqrt(u * u + v * v)
    # Full strength inside 70% of the region's half-size, nothing beyond its inscribed ellipse.
    t = np.clip((1.0 - radius) / 0.3, 0.0, 1.0)
    return (t * t * (3.0 - 2.0 * t)).astype(np.float32)
