"""Compositing: the feathered portrait oval, background colours and resizing."""

from __future__ import annotations

import functools
import re

import cv2
import numpy as np
import numpy.typing as npt

from facecraft.errors import InvalidOptionError

# Semi-axes as fractions of the frame: a portrait oval slightly narrower than the frame, so it
# never touches the edges and the feather always reaches zero inside the picture.
_OVAL_SEMI_AXIS_X = 0.46
_OVAL_SEMI_AXIS_Y = 0.48
# The feather is a fraction of the output size, not a fixed pixel count (defect D-15: a fixed
# 21-px blur left a hard edge on small crops and no visible feather on large ones).
_OVAL_FEATHER_FRACTION = 0.05
_OVAL_MIN_FEATHER_PX = 4.0

_HEX_COLOUR = re.compile(r"#?([0-9a-fA-F]{6})|#([0-9a-fA-F]{3})")
_CSV_COLOUR = re.compile(r"\s*(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})\s*")


def oval_mask(width: int, height: int) -> npt.NDArray[np.float32]:
    """Float32 HxW alpha: 1 inside the portrait oval, 0 outside, with a smooth feathered rim."""
    if width <= 0 or height <= 0:
        raise InvalidOptionError("Width and height must be positive.", width=width, height=height)
    return _cached_oval(width, height).copy()


@functools.lru_cache(maxsize=8)
def _cached_oval(width: int, height: int) -> npt.NDArray[np.float32]:
    semi_x = _OVAL_SEMI_AXIS_X * width
    semi_y = _OVAL_SEMI_AXIS_Y * height
    feather = max(_OVAL_MIN_FEATHER_PX, _OVAL_FEATHER_FRACTION * min(width, height))
    # Pixel centres, in units of the semi-axes: r == 1 on the ellipse.
    u = ((np.arange(width, dtype=np.float32) + 0.5 - width / 2) / semi_x)[None, :]
    v = ((np.arange(height, dtype=np.float32) + 0.5 - height / 2) / semi_y)[:, None]
    radius = np.sqrt(u * u + v * v)
    # Distance inward from the ellipse in pixels, to first order: (1 - r) / |grad r|. It is exact
    # for a circle and close for this near-circular oval, so the rim is equally wide all round.
    gradient = np.sqrt((u / semi_x) ** 2 + (v / semi_y) ** 2)
    # At the exact centre r and the gradient are both 0; that pixel is as deep inside as any.
    inward_px = np.full(radius.shape, np.inf, dtype=np.float32)
    np.divide((1.0 - radius) * radius, gradient, out=inward_px, where=gradient > 0)
    # The whole feather lies inside the ellipse, so everything outside it (the frame edges
    # included) is exactly 0, and everything deeper than one feather width exactly 1.
    t = np.clip(inward_px * np.float32(1.0 / feather), 0.0, 1.0)
    mask = np.asarray(t * t * (3.0 - 2.0 * t), dtype=np.float32)
    mask.flags.writeable = False
    return mask


def parse_color(text: str) -> tuple[int, int, int]:
    """Parse "r,g,b", "#RRGGBB", "RRGGBB" or "#RGB" into an (r, g, b) tuple."""
    shown = text[:40]
    hex_match = _HEX_COLOUR.fullmatch(text.strip())
    if hex_match:
        long_hex, short_hex = hex_match.groups()
        digits = long_hex or "".join(c * 2 for c in short_hex)
        r, g, b = (int(digits[i : i + 2], 16) for i in (0, 2, 4))
        return r, g, b
    csv_match = _CSV_COLOUR.fullmatch(text)
    if csv_match:
        r, g, b = (int(part) for part in csv_match.groups())
        if max(r, g, b) <= 255:
            return r, g, b
    raise InvalidOptionError(
        f"Colour {shown!r} is not valid; use 'r,g,b' with values 0-255, '#RRGGBB' or '#RGB'.",
        value=shown,
    )


def composite_over_color(
    rgb: npt.NDArray[np.uint8], alpha: npt.NDArray[np.float32], color: tuple[int, int, int]
) -> npt.NDArray[np.uint8]:
    """Blend `rgb` over a solid RGB `color`; where alpha is 0 the output is exactly `color`."""
    if alpha.shape != rgb.shape[:2]:
        raise ValueError(f"alpha shape {alpha.shape} does not match image {rgb.shape[:2]}")
    weight = np.clip(alpha, 0.0, 1.0).astype(np.float32)[:, :, None]
    background = np.asarray(color, dtype=np.float32)[None, None, :]
    blended = rgb.astype(np.float32) * weight + background * (1.0 - weight)
    # Round, not truncate: truncation darkens every soft edge by half a level on average.
    return np.clip(np.rint(blended), 0, 255).astype(np.uint8)


def resize_rgb(rgb: npt.NDArray[np.uint8], width: int, height: int) -> npt.NDArray[np.uint8]:
    """Resize an RGB uint8 image (area averaging to shrink, Lanczos to enlarge)."""
    resized = cv2.resize(rgb, (width, height), interpolation=_interpolation(rgb.shape, width, height))
    return np.asarray(resized, dtype=np.uint8)  # cv2 saturates uint8, so Lanczos ringing is clipped


def resize_alpha(alpha: npt.NDArray[np.float32], width: int, height: int) -> npt.NDArray[np.float32]:
    """Resize a float32 alpha/mask, keeping it within [0, 1].

    Enlarging is bilinear, not Lanczos: Lanczos rings around a hard matte edge, and its overshoot turned faint
    pixels near the edge into opaque specks detached from the subject.
    """
    interpolation = _interpolation(alpha.shape, width, height)
    if interpolation != cv2.INTER_AREA:
        interpolation = cv2.INTER_LINEAR
    resized = cv2.resize(alpha.astype(np.float32), (width, height), interpolation=interpolation)
    return np.clip(resized, 0.0, 1.0).astype(np.float32)


def _interpolation(shape: tuple[int, ...], width: int, height: int) -> int:
    if width <= 0 or height <= 0:
        raise InvalidOptionError("Width and height must be positive.", width=width, height=height)
    source_height, source_width = shape[:2]
    # INTER_AREA averages every source pixel (no aliasing) but is poor at enlarging.
    if width <= source_width and height <= source_height:
        return int(cv2.INTER_AREA)
    return int(cv2.INTER_LANCZOS4)
