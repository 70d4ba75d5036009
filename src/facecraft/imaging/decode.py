"""Turn uploaded bytes into an RGB uint8 array, safely.

Limits are checked before any pixel is decoded: the byte size first, then the dimensions from the
header, so a tiny file that declares a 50000x50000 canvas never allocates it. Pillow does the
parsing; we only choose which of its decoders may run and how every colour mode becomes RGB.
"""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from facecraft.errors import ImageTooLargeError, UnsupportedImageError

# Restricting Image.open to these plugins keeps Pillow's rarer parsers off untrusted input. The JPEG
# plugin also opens MPO (a camera JPEG with extra stereo or depth frames), reported here as JPEG.
ACCEPTED_FORMATS: tuple[str, ...] = ("JPEG", "PNG", "WEBP", "BMP", "TIFF")
_ACCEPTED_NAMES = ("JPEG", "PNG", "WebP", "BMP", "TIFF")
_ACCEPTED_TEXT = "JPEG, PNG, WebP, BMP or TIFF"

# Everything Pillow may raise while parsing a damaged file. Truncated files land here because we
# leave ImageFile.LOAD_TRUNCATED_IMAGES off: a half-grey photo must not reach the face detector.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error, zlib.error)

_WHITE = 255.0


@dataclass(frozen=True)
class DecodedImage:
    rgb: npt.NDArray[np.uint8]
    """HxWx3 uint8, RGB order, upright (EXIF orientation applied)."""
    source_format: str
    """"JPEG", "PNG", "WEBP", "BMP" or "TIFF"."""
    original_size: tuple[int, int]
    """(width, height) after the EXIF rotation."""


def decode_image(data: bytes, *, max_bytes: int, max_pixels: int) -> DecodedImage:
    if len(data) > max_bytes:
        raise ImageTooLargeError(
            f"The upload is {len(data)} bytes; the limit is {max_bytes} bytes.",
            size_bytes=len(data),
            max_bytes=max_bytes,
        )
    if not data:
        raise UnsupportedImageError("The upload is empty.")
    try:
        image = Image.open(io.BytesIO(data), formats=list(ACCEPTED_FORMATS))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageTooLargeError("The image declares more pixels than allowed.") from exc
    except (UnidentifiedImageError, *_DECODE_ERRORS) as exc:
        raise UnsupportedImageError(
            f"The upload is not a readable image; send {_ACCEPTED_TEXT}.",
            accepted_formats=list(_ACCEPTED_NAMES),
        ) from exc
    with image:
        width, height = image.size
        if width * height > max_pixels:
            raise ImageTooLargeError(
                f"The image is {width}x{height} pixels; the limit is {max_pixels} pixels.",
                width=width,
                height=height,
                max_pixels=max_pixels,
            )
        source_format = "JPEG" if image.format == "MPO" else str(image.format)
        try:
            # load() decodes only the current frame, so animations and multi-page TIFFs give frame one.
            image.load()
            upright = _exif_upright(image)
            rgb = _to_rgb_array(upright)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ImageTooLargeError("The image declares more pixels than allowed.") from exc
        except _DECODE_ERRORS as exc:
            raise UnsupportedImageError(
                f"The {source_format} image is damaged or truncated and cannot be decoded."
            ) from exc
    return DecodedImage(rgb=rgb, source_format=source_format, original_size=(rgb.shape[1], rgb.shape[0]))


def _exif_upright(image: Image.Image) -> Image.Image:
    # Phones store portraits sideways plus an orientation tag. Broken EXIF blocks are common in
    # edited photos; an unrotated face is still better than refusing the photo.
    try:
        return ImageOps.exif_transpose(image)
    except Exception:
        return image


def _to_rgb_array(image: Image.Image) -> npt.NDArray[np.uint8]:
    mode = image.mode
    if mode.startswith("I") or mode == "F":
        grey = _high_depth_to_uint8(image)
        return np.ascontiguousarray(np.repeat(grey[:, :, None], 3, axis=2))
    if mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    elif mode in ("LA", "La", "PA", "RGBa", "RGBA"):
        image = image.convert("RGBA")
    elif mode in ("RGB", "CMYK"):
        image = _icc_to_srgb(image)
    if image.mode == "RGBA":
        return _composite_over_white(np.asarray(image))
    if image.mode != "RGB":
        image = image.convert("RGB")
    return np.array(image, dtype=np.uint8)


def _high_depth_to_uint8(image: Image.Image) -> npt.NDArray[np.uint8]:
    values = np.asarray(image).astype(np.float64)
    if image.mode.startswith("I;16"):
        full_scale = 65535.0
    else:
        # Mode "I" and "F" carry no declared range: infer the usual ones (8-bit, 16-bit, [0,1] floats)
        # and otherwise stretch by the maximum so nothing clips to white.
        peak = float(values.max()) if values.size else 0.0
        if image.mode == "F" and peak <= 1.0:
            full_scale = 1.0
        elif peak <= 255.0:
            full_scale = 255.0
        elif peak <= 65535.0:
            full_scale = 65535.0
        else:
            full_scale = peak
    scaled = np.clip(values, 0.0, full_scale) * (255.0 / full_scale)
    return np.asarray(np.rint(scaled), dtype=np.uint8)


def _composite_over_white(rgba: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    # Detection and segmentation want an opaque photo; white is what viewers show behind a cut-out.
    alpha = rgba[:, :, 3:4].astype(np.float32) / 255.0
    colour = rgba[:, :, :3].astype(np.float32)
    blended = colour * alpha + _WHITE * (1.0 - alpha)
    return np.ascontiguousarray(np.clip(np.rint(blended), 0, 255).astype(np.uint8))


def _icc_to_srgb(image: Image.Image) -> Image.Image:
    """Apply an embedded colour profile (CMYK prints, Display-P3 phone photos); sRGB passes untouched."""
    icc = image.info.get("icc_profile")
    if not icc:
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if image.mode == "RGB" and "srgb" in ImageCms.getProfileDescription(source).lower():
            return image
        converted = ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"), outputMode="RGB")
    except Exception:
        # A malformed profile is not worth refusing the photo over; fall back to Pillow's plain conversion.
        return image
    return converted if converted is not None else image
