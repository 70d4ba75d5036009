"""Edge-aware refinement of a soft mask (He, Sun and Tang, "Guided Image Filtering", 2010/2013).

Person-segmentation models predict at low resolution; filtering their upscaled mask with the photo
as guide snaps its edges to the real ones (hair, shoulders). OpenCV's ximgproc has this, but it is
absent from the headless wheels, and the box-filter form is a few lines and O(1) in the radius.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

FloatImage = npt.NDArray[np.float32]


def guided_filter(guide_gray: FloatImage, src: FloatImage, radius: int, eps: float) -> FloatImage:
    """Filter `src` guided by `guide_gray` (both float32 HxW, same shape).

    `radius` is the window half-size in pixels; `eps` is the regulariser in squared guide units
    (with a guide in [0,1], 1e-4..1e-2: smaller follows guide edges more closely). The output is
    clipped to the input's own range, because the local linear model can overshoot at edges.
    """
    if guide_gray.shape != src.shape or guide_gray.ndim != 2:
        raise ValueError(f"guide {guide_gray.shape} and src {src.shape} must be the same 2-D shape")
    if radius < 1:
        raise ValueError("radius must be at least 1")
    guide = guide_gray.astype(np.float32)
    source = src.astype(np.float32)
    window = (2 * radius + 1, 2 * radius + 1)

    def box_mean(image: FloatImage) -> FloatImage:
        return np.asarray(cv2.boxFilter(image, cv2.CV_32F, window, borderType=cv2.BORDER_REFLECT))

    # The textbook sequence, in place where a temporary would be a fresh image-sized array (same bits).
    mean_guide = box_mean(guide)
    mean_source = box_mean(source)
    variance = box_mean(guide * guide)
    variance -= mean_guide * mean_guide
    covariance = box_mean(guide * source)
    covariance -= mean_guide * mean_source
    variance += np.float32(eps)
    slope = np.divide(covariance, variance, out=covariance)
    offset = np.subtract(mean_source, slope * mean_guide, out=mean_source)
    filtered = box_mean(slope)
    filtered *= guide
    filtered += box_mean(offset)
    return np.clip(filtered, float(source.min()), float(source.max()), out=filtered)
