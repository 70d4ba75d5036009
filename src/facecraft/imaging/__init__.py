"""Pure image functions (no models): decode, encode, compose, enhance, guided filter.

Every array crossing this package's boundary is RGB: uint8 HxWx3 for colour, float32 HxW in
[0, 1] for alpha and masks.
"""

from facecraft.imaging.compose import (
    composite_over_color,
    oval_mask,
    parse_color,
    resize_alpha,
    resize_rgb,
)
from facecraft.imaging.decode import ACCEPTED_FORMATS, DecodedImage, decode_image
from facecraft.imaging.encode import encode_jpeg, encode_jpeg_max_kb, encode_png, encode_webp
from facecraft.imaging.enhance import enhance_photo, restore_face_details
from facecraft.imaging.guided_filter import guided_filter

__all__ = [
    "ACCEPTED_FORMATS",
    "DecodedImage",
    "composite_over_color",
    "decode_image",
    "encode_jpeg",
    "encode_jpeg_max_kb",
    "encode_png",
    "encode_webp",
    "enhance_photo",
    "guided_filter",
    "oval_mask",
    "parse_color",
    "resize_alpha",
    "resize_rgb",
    "restore_face_details",
]
