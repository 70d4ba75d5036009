"""Encode RGB (+ optional alpha) arrays to PNG, WebP and size-limited JPEG, all in memory."""

from __future__ import annotations

import io
import struct
import zlib

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image

from facecraft.errors import InvalidOptionError, OutputTooLargeError

_PNG_COMPRESS_LEVEL = 3
_JPEG_SUBSAMPLING_420 = 2  # Pillow's code for 4:2:0: halves chroma, where the eye is least sensitive


Alpha = npt.NDArray[np.float32] | npt.NDArray[np.uint8]
"""Float alpha in [0, 1], or uint8 alpha in [0, 255] (as stored in the file)."""


def encode_png(rgb: npt.NDArray[np.uint8], alpha: Alpha | None = None, dpi: int | None = None) -> bytes:
    """RGB PNG, or RGBA PNG when `alpha` (HxW) is given; with `dpi`, a pHYs chunk says how large it prints.

    Encoded with OpenCV's libpng at zlib level 3 with the run-length strategy: measured on a 648x648
    RGBA headshot, as fast as Pillow at level 1 (~0.04 s) and 12 % smaller; Pillow's level 6 took 5x longer.
    """
    image = _pixels(rgb, alpha)
    bgr = cv2.cvtColor(image, cv2.COLOR_RGBA2BGRA if image.shape[2] == 4 else cv2.COLOR_RGB2BGR)
    params = [cv2.IMWRITE_PNG_COMPRESSION, _PNG_COMPRESS_LEVEL, cv2.IMWRITE_PNG_STRATEGY, cv2.IMWRITE_PNG_STRATEGY_RLE]
    ok, encoded = cv2.imencode(".png", bgr, params)
    if not ok:
        raise ValueError("PNG encoding failed")
    data = bytes(encoded.tobytes())
    return with_png_dpi(data, dpi) if dpi else data


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_INCH_M = 0.0254


def with_png_dpi(png: bytes, dpi: int) -> bytes:
    """The PNG with a pHYs chunk (pixels per metre, unit 1) right after IHDR, replacing any it had.

    OpenCV's encoder writes none, so prints come out at the viewer's guess (72 or 96 dpi) unless it is added."""
    if not png.startswith(_PNG_SIGNATURE):
        raise ValueError("not a PNG")
    per_metre = round(dpi / _INCH_M)
    body = b"pHYs" + struct.pack(">IIB", per_metre, per_metre, 1)
    chunk = struct.pack(">I", 9) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)
    chunks, pos = [], len(_PNG_SIGNATURE)
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind = png[pos + 4 : pos + 8]
        end = pos + 12 + length
        if kind != b"pHYs":
            chunks.append(png[pos:end])
            if kind == b"IHDR":
                chunks.append(chunk)
        pos = end
    return _PNG_SIGNATURE + b"".join(chunks)


def encode_webp(rgb: npt.NDArray[np.uint8], alpha: Alpha | None = None, quality: int = 90) -> bytes:
    """Lossy WebP; keeps the alpha channel when given."""
    _check_quality(quality)
    image = _to_pil(rgb, alpha)
    buffer = io.BytesIO()
    image.save(buffer, format="WEBP", quality=quality, method=4)
    return buffer.getvalue()


def encode_jpeg(rgb: npt.NDArray[np.uint8], quality: int, dpi: int | None = None) -> bytes:
    """Baseline JPEG (not progressive: badge printers and old directory systems read baseline best); with
    `dpi`, the JFIF header's density says how large it prints."""
    _check_quality(quality)
    buffer = io.BytesIO()
    extra = {"dpi": (dpi, dpi)} if dpi else {}
    _to_pil(rgb, None).save(
        buffer, format="JPEG", quality=quality, optimize=True, subsampling=_JPEG_SUBSAMPLING_420, **extra
    )
    return buffer.getvalue()


def encode_jpeg_max_kb(
    rgb: npt.NDArray[np.uint8], max_kb: int, *, max_quality: int = 95, min_quality: int = 30, dpi: int | None = None
) -> tuple[bytes, int]:
    """The highest-quality JPEG of at most `max_kb` KiB, and the quality used.

    JPEG size grows monotonically with quality in practice, so a binary search needs about
    log2(max_quality - min_quality) encodes. Raises OutputTooLargeError rather than ever
    returning a file over the limit (the original silently returned one).
    """
    if max_kb < 1:
        raise InvalidOptionError("max_kb must be at least 1.", max_kb=max_kb)
    _check_quality(min_quality)
    _check_quality(max_quality)
    if min_quality > max_quality:
        raise InvalidOptionError(
            "min_quality must not exceed max_quality.", min_quality=min_quality, max_quality=max_quality
        )
    limit = max_kb * 1024

    best = encode_jpeg(rgb, max_quality, dpi)
    if len(best) <= limit:
        return best, max_quality
    smallest = encode_jpeg(rgb, min_quality, dpi)
    if len(smallest) > limit:
        raise OutputTooLargeError(
            f"Even at JPEG quality {min_quality} the image is {len(smallest) / 1024:.1f} KB, "
            f"over the {max_kb} KB limit; ask for smaller dimensions or a larger limit.",
            max_kb=max_kb,
            smallest_kb=round(len(smallest) / 1024, 1),
        )

    best, best_quality = smallest, min_quality
    low, high = min_quality + 1, max_quality - 1  # both ends are already known
    while low <= high:
        quality = (low + high) // 2
        candidate = encode_jpeg(rgb, quality, dpi)
        if len(candidate) <= limit:
            best, best_quality = candidate, quality
            low = quality + 1
        else:
            high = quality - 1
    return best, best_quality


def _check_quality(quality: int) -> None:
    if not 1 <= quality <= 100:
        raise InvalidOptionError("Quality must be between 1 and 100.", quality=quality)


def _pixels(rgb: npt.NDArray[np.uint8], alpha: Alpha | None) -> npt.NDArray[np.uint8]:
    """Validated HxWx3 RGB, or HxWx4 RGBA when `alpha` is given."""
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected HxWx3 uint8 RGB, got {rgb.dtype} {rgb.shape}")
    if alpha is None:
        return np.ascontiguousarray(rgb)
    if alpha.shape != rgb.shape[:2]:
        raise ValueError(f"alpha shape {alpha.shape} does not match image {rgb.shape[:2]}")
    return np.dstack([rgb, _alpha_to_uint8(alpha)])


def _to_pil(rgb: npt.NDArray[np.uint8], alpha: Alpha | None) -> Image.Image:
    return Image.fromarray(_pixels(rgb, alpha))


def _alpha_to_uint8(alpha: Alpha) -> npt.NDArray[np.uint8]:
    if alpha.dtype == np.uint8:
        return np.asarray(alpha, dtype=np.uint8)
    scaled = np.clip(np.asarray(alpha, dtype=np.float32), 0.0, 1.0) * 255.0
    return np.asarray(np.rint(scaled), dtype=np.uint8)
