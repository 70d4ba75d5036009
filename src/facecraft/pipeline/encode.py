"""Last stage: a finished portrait to file bytes in PNG (alpha), size-capped JPEG, or WebP."""

from __future__ import annotations

from dataclasses import dataclass

from facecraft.config import OutputFormat
from facecraft.imaging.compose import composite_over_color
from facecraft.imaging.encode import encode_jpeg_max_kb, encode_png, encode_webp
from facecraft.pipeline.options import PortraitOptions
from facecraft.pipeline.portrait import Portrait

MEDIA_TYPES = {OutputFormat.PNG: "image/png", OutputFormat.JPG: "image/jpeg", OutputFormat.WEBP: "image/webp"}


@dataclass(frozen=True)
class EncodedImage:
    data: bytes
    format: OutputFormat
    jpeg_quality: int | None = None

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.format]


def encode_portrait(portrait: Portrait, fmt: OutputFormat, options: PortraitOptions) -> EncodedImage:
    """Encode in `fmt`. JPEG has no alpha, so it always gets the background colour."""
    if fmt is OutputFormat.JPG:
        flat = composite_over_color(portrait.rgb, portrait.alpha, options.background)
        data, quality = encode_jpeg_max_kb(flat, options.max_kb, dpi=options.dpi)
        return EncodedImage(data, fmt, quality)
    if options.transparent_background:
        rgb, alpha = portrait.rgb, portrait.alpha
    else:
        rgb, alpha = composite_over_color(portrait.rgb, portrait.alpha, options.background), None
    # WebP has no resolution field of its own (only inside EXIF/XMP), so only PNG and JPEG carry the dpi.
    data = encode_png(rgb, alpha, options.dpi) if fmt is OutputFormat.PNG else encode_webp(rgb, alpha)
    return EncodedImage(data, fmt)
