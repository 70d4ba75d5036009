"""Guided filter: a blurry mask snaps to the guide's edge."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from facecraft.imaging import guided_filter


def test_blurred_mask_edge_snaps_to_step_guide() -> None:
    guide = np.zeros((64, 128), np.float32)
    guide[:, 64:] = 1.0
    coarse = np.clip(cv2.GaussianBlur(guide, (0, 0), 6.0), 0.0, 1.0).astype(np.float32)
    refined = guided_filter(guide, coarse, radius=8, eps=1e-3)
    assert refined.dtype == np.float32 and refined.shape == guide.shape
    assert refined.min() >= 0.0 and refined.max() <= 1.0
    # The blurred ramp becomes a jump exactly where the guide has its edge.
    steps = np.diff(refined[32])
    assert int(np.argmax(steps)) == 63
    assert steps.max() > 5 * np.diff(coarse[32]).max()
    assert refined[32, 60] < coarse[32, 60] and refined[32, 67] > coarse[32, 67]


def test_flat_guide_smooths() -> None:
    noise = np.random.default_rng(0).random((50, 50), dtype=np.float32)
    refined = guided_filter(np.full((50, 50), 0.5, np.float32), noise, radius=4, eps=1e-2)
    assert refined.std() < noise.std() / 3


def test_shape_mismatch_is_an_error() -> None:
    with pytest.raises(ValueError, match="same"):
        guided_filter(np.zeros((4, 4), np.float32), np.zeros((4, 5), np.float32), 2, 1e-3)
