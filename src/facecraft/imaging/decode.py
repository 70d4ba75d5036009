"""Turn uploaded bytes into an RGB uint8 array, safely.

Limits are checked before any pixel is decoded: the byte size first, then the dimensions from the
header, so a tiny file that declares a 50000x50000 canvas never allocates it. Pillow does the
parsing (HEIC/HEIF through pillow-heif's plugin, whose wheel bundles libheif; AVIF through Pillow's
own plugin); we only choose which of its decoders may run and how every colour mode becomes RGB.

A caller that needs less than the full resolution says so with `min_side`: JPEG then decodes with
DCT scaling (Pillow's `draft()`: 1/2, 1/4 or 1/8 of the size for a fraction of the time and memory).
Other formats have no cheap reduced decode and come back at full size.
"""

from __future__ import annotations

import contextlib
import io
import math
import struct
import zlib
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pillow_heif
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from facecraft.errors import ImageTooLargeError, UnsupportedImageError

# Restricting Image.open to these plugins keeps Pillow's rarer parsers off untrusted input. The JPEG
# plugin also opens MPO (a camera JPEG with extra stereo or depth frames), reported here as JPEG. HEIF
# covers .heic/.heif (iPhones save HEIC by default); AVIF is Pillow's own plugin.
ACCEPTED_FORMATS: tuple[str, ...] = ("JPEG", "PNG", "WEBP", "BMP", "TIFF", "HEIF", "AVIF")
_ACCEPTED_NAMES = ("JPEG", "PNG", "WebP", "BMP", "TIFF", "HEIC", "AVIF")
_ACCEPTED_TEXT = "JPEG, PNG, WebP, BMP, TIFF, HEIC or AVIF"

# Only the primary image: thumbnails, depth maps and auxiliary images (iPhone portrait-mode mattes) are
# never read, so they cost neither time nor memory. libheif applies the container's rotation and mirror
# (irot/imir) while decoding and pillow-heif resets the EXIF orientation to 1, so exif_transpose below
# does not turn a HEIC twice. 10- and 12-bit HEICs come back as 8-bit.
pillow_heif.register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)

# Everything Pillow may raise while parsing a damaged file. Truncated files land here because we
# leave ImageFile.LOAD_TRUNCATED_IMAGES off: a half-grey photo must not reach the face detector.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error, zlib.error)

_WHITE = 255.0


@dataclass(frozen=True)
class DecodedImage:
    rgb: npt.NDArray[np.uint8]
    """HxWx3 uint8, RGB order, upright (EXIF orientation applied)."""
    source_format: str
    """"JPEG", "PNG", "WEBP", "BMP", "TIFF", "HEIF" or "AVIF"."""
    original_size: tuple[int, int]
    """(width, height) of the full-resolution photo after the EXIF rotation."""
    scale: float = 1.0
    """rgb's size over original_size: below 1 when a reduced decode was asked for and possible."""


def decode_image(data: bytes, *, max_bytes: int, max_pixels: int, min_side: int | None = None) -> DecodedImage:
    """The upright RGB photo; with `min_side`, possibly reduced so that its longer side stays >= min_side."""
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
            scale = _draft(image, min_side) if min_side else 1.0
            heif_rgb = _heif_rgb(data, image) if source_format == "HEIF" else None
            if heif_rgb is not None:
                rgb = heif_rgb
            else:
                # load() decodes only the current frame, so animations and multi-page TIFFs give frame one.
                image.load()
                _exif_upright(image)
                rgb = _to_rgb_array(image)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ImageTooLargeError("The image declares more pixels than allowed.") from exc
        except _DECODE_ERRORS as exc:
            raise UnsupportedImageError(
                f"The {source_format} image is damaged or truncated and cannot be decoded."
            ) from exc
    if scale < 1.0:
        # Report the full upright size; the reduced rgb is `scale` times it.
        full_w, full_h = _upright_size(width, height, rgb.shape[1], rgb.shape[0])
        scale = rgb.shape[1] / full_w
    else:
        full_w, full_h = rgb.shape[1], rgb.shape[0]
    return DecodedImage(rgb=rgb, source_format=source_format, original_size=(full_w, full_h), scale=scale)


def _heif_rgb(data: bytes, image: Image.Image) -> npt.NDArray[np.uint8] | None:
    """An RGB HEIC's primary image as an array over libheif's own output buffer, or None for Pillow's path.

    Through Pillow the 12 MP frame is copied twice more (into Pillow's image, then out of it), a third of
    the decode's CPU time. libheif has applied the container's rotation and mirror, and pillow-heif ignores
    the EXIF orientation as Pillow's plugin does (reset to 1), so the photo is upright already.
    """
    if image.mode != "RGB":
        return None  # alpha, greyscale: Pillow's path composites and converts them
    heif = pillow_heif.open_heif(io.BytesIO(data), convert_hdr_to_8bit=True)
    primary = heif[heif.primary_index]
    if primary.mode != "RGB":
        return None
    width = primary.size[0]
    rgb: npt.NDArray[np.uint8] = np.asarray(primary)[:, :width]  # rows may be padded beyond the width
    icc = image.info.get("icc_profile")
    if icc:
        tagged = Image.frombuffer("RGB", primary.size, np.ascontiguousarray(rgb), "raw", "RGB", 0, 1)
        tagged.info["icc_profile"] = icc
        converted = _icc_to_srgb(tagged)
        if converted is not tagged:
            rgb = np.asarray(converted.convert("RGB"), dtype=np.uint8)
    return rgb if rgb.flags.c_contiguous else np.ascontiguousarray(rgb)


def _draft(image: Image.Image, min_side: int) -> float:
    """Ask the JPEG decoder for a DCT-scaled decode whose longer side stays >= min_side; the scale got."""
    if image.format not in ("JPEG", "MPO") or max(image.size) <= min_side:
        return 1.0
    width, height = image.size
    factor = min_side / max(width, height)
    requested = (max(1, math.ceil(width * factor)), max(1, math.ceil(height * factor)))
    image.draft(image.mode, requested)
    return image.size[0] / width


def _upright_size(stored_w: int, stored_h: int, rgb_w: int, rgb_h: int) -> tuple[int, int]:
    """The full-resolution size in the orientation of the decoded rgb (EXIF may have swapped the axes)."""
    turned = abs(rgb_w * stored_w - rgb_h * stored_h) < abs(rgb_w * stored_h - rgb_h * stored_w)
    return (stored_h, stored_w) if turned else (stored_w, stored_h)


def _exif_upright(image: Image.Image) -> None:
    """Turn the image upright as its EXIF orientation tag says, in place.

    Phones store portraits sideways plus an orientation tag. In place, because Pillow otherwise returns a full
    copy even when the tag says the photo is upright (18 ms for a 12 MP JPEG's half-size decode). Broken EXIF
    blocks are common in edited photos; an unrotated face is still better than refusing the photo.
    """
    with contextlib.suppress(Exception):
        ImageOps.exif_transpose(image, in_place=True)


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
