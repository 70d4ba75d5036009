"""The trimap's disk dilation and erosion give OpenCV's results bit for bit, whichever way they are computed."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from facecraft.imaging.trimap import dilate, disk, erode


@pytest.mark.parametrize("radius", [1, 3, 7, 8, 13, 26, 52, 97])
def test_disk_dilation_and_erosion_match_opencv(radius: int) -> None:
    rng = np.random.default_rng(radius)
    for height, width in [(5, 300), (120, 90), (257, 64)]:
        mask = rng.random((height, width)) > rng.uniform(0.9, 0.999)
        mask[height // 3 : height // 2, width // 4 : width // 2] = True  # a solid blob as well as specks
        kernel = disk(radius)
        for case in (mask, ~mask, np.ones_like(mask)):  # mostly clear, mostly set (erosion at the border), full
            assert np.array_equal(dilate(case, radius), cv2.dilate(case.astype(np.uint8), kernel).astype(bool))
            assert np.array_equal(erode(case, radius), cv2.erode(case.astype(np.uint8), kernel).astype(bool))
