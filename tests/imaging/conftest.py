"""Shared fixtures: real photo content from scikit-image (public-domain astronaut portrait)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from skimage import data


@pytest.fixture(scope="session")
def astronaut() -> npt.NDArray[np.uint8]:
    """512x512 RGB portrait (NASA, public domain) shipped inside scikit-image."""
    return np.ascontiguousarray(data.astronaut(), dtype=np.uint8)  # type: ignore[no-untyped-call]
