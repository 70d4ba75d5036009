"""Foreground colour estimation ("decontamination") by blur fusion.

A semi-transparent edge pixel is a mix I = alpha * F + (1 - alpha) * B of the subject's colour F and the old
background's B. Compositing I itself over a new background keeps B's share: a yellow fringe from a golden curtain
around light hair. Blur fusion (Forte and Pitié, "Approximate Fast Foreground Colour Estimation", ICIP 2021)
estimates F from alpha-weighted local means of the foreground and the background, refined once with a small
window; it costs a few box filters, where the multi-level solver of pymatting (estimate_foreground_ml) costs far
more (benchmarks/matte_bench.py measures both).
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

_EPS = np.float32(1e-5)

FloatImage = npt.NDArray[np.float32]


def _blur(image: FloatImage, size: int) -> FloatImage:
    return np.asarray(cv2.blur(image, (size, size), borderType=cv2.BORDER_REFLECT), dtype=np.float32)


def _fused(pixels: FloatImage, alpha: FloatImage, mean_fg: FloatImage, mean_bg: FloatImage) -> FloatImage:
    """The paper's estimate F = mean_fg + a * (I - a * mean_fg - (1 - a) * mean_bg), clipped to [0, 1], for a list
    of pixels (n x 3) with their alphas (n x 1)."""
    estimate = pixels - alpha * mean_fg
    estimate -= (1 - alpha) * mean_bg
    estimate *= alpha
    estimate += mean_fg
    return np.clip(estimate, 0.0, 1.0, out=estimate)


def estimate_foreground(rgb: npt.NDArray[np.uint8], alpha: npt.NDArray[np.float32]) -> npt.NDArray[np.uint8]:
    """The subject's own colour at every pixel (uint8 RGB); where alpha is 1 it is the photo unchanged.

    The first pass uses a window of ~14 % of the image's shorter side (the paper's 90 px at ~640 px), the
    second the paper's small refining window.

    Only the semi-transparent band needs the full estimate: where alpha is 1 the estimate is the photo itself,
    and where it is 0 it reduces to the local subject mean. So the box filters run over the whole image and
    the per-pixel arithmetic over the band's pixels only (a few percent of a headshot): the same figures as
    the whole-image form, at a fraction of the memory traffic.
    """
    if alpha.shape != rgb.shape[:2]:
        raise ValueError(f"alpha shape {alpha.shape} does not match image {rgb.shape[:2]}")
    image = np.divide(rgb, np.float32(255.0), dtype=np.float32)
    weight = np.clip(alpha, 0.0, 1.0).astype(np.float32)
    weight3 = np.asarray(cv2.merge([weight] * 3), dtype=np.float32)
    band = np.flatnonzero((weight > 0.0) & (weight < 1.0))  # flat indices: far faster than a boolean mask

    def at_band(values: FloatImage) -> FloatImage:
        return np.take(values.reshape(-1, values.shape[2]) if values.ndim == 3 else values.reshape(-1, 1), band, 0)

    band_alpha, band_pixels = at_band(weight), at_band(image)
    large = max(3, round(min(rgb.shape[:2]) * 0.14))
    small = max(3, round(large / 15))

    # Pass 1, large window: the photo is both the foreground and the background guess.
    subject = image * weight3  # F * alpha, with F = I for now
    blurred_alpha = _blur(weight, large)
    mean_fg = at_band(_blur(subject, large)) / (at_band(blurred_alpha) + _EPS)
    image *= 1 - weight3  # from here on `image` holds B * (1 - alpha) with B = I
    mean_bg = _blur(image, large)
    mean_bg /= cv2.merge([(1 - blurred_alpha) + _EPS] * 3)
    first = _fused(band_pixels, band_alpha, mean_fg, at_band(mean_bg))

    # Pass 2, small window: the first estimate is the foreground (it is I where alpha is 1, and alpha * F is 0
    # where alpha is 0, so only the band changes), pass 1's background mean the background.
    subject.reshape(-1, 3)[band] = first * band_alpha
    blurred_alpha = _blur(weight, small)
    estimate = _blur(subject, small)
    estimate /= cv2.merge([blurred_alpha + _EPS] * 3)  # mean_fg: the estimate itself where alpha is 0
    mean_bg *= 1 - weight3
    band_bg = at_band(_blur(mean_bg, small)) / ((1 - at_band(blurred_alpha)) + _EPS)
    estimate.reshape(-1, 3)[band] = _fused(band_pixels, band_alpha, at_band(estimate), band_bg)

    # Where the subject is opaque the photo itself, bit-exact; elsewhere the estimate in 8 bits.
    out = rgb.copy()
    seen = np.flatnonzero(weight < 1.0)
    shown = np.take(estimate.reshape(-1, 3), seen, 0)
    np.clip(shown, 0.0, 1.0, out=shown)
    shown *= np.float32(255.0)
    out.reshape(-1, 3)[seen] = np.rint(shown, out=shown)
    return out
