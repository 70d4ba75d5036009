"""Phone-style inputs made from the committed test photos at test time (nothing large is committed).

HEIC through pillow-heif's encoder (x265), AVIF through Pillow's own, photos turned sideways with the
EXIF orientation tag removed (a scan or an export that dropped it), and photos upscaled to phone
resolutions. benchmarks/phone_bench.py uses the same helpers for its 12 and 48 MP inputs.
"""

from __future__ import annotations

import io
import math

import pillow_heif
from PIL import Image

pillow_heif.register_heif_opener()


def _open_rgb(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as image:
        return image.convert("RGB")


def heic(data: bytes, *, quality: int = 80, orientation: int | None = None) -> bytes:
    """The photo as HEIC; with `orientation`, stored turned the other way plus that EXIF tag, as a phone does."""
    image = _open_rgb(data)
    params: dict[str, object] = {"quality": quality, "enc_params": {"preset": "ultrafast"}}
    if orientation is not None:
        image = image.transpose(_STORED_FOR[orientation])
        exif = Image.Exif()
        exif[0x0112] = orientation
        params["exif"] = exif.tobytes()
    buffer = io.BytesIO()
    image.save(buffer, format="HEIF", **params)
    return buffer.getvalue()


def avif(data: bytes, *, quality: int = 70) -> bytes:
    buffer = io.BytesIO()
    _open_rgb(data).save(buffer, format="AVIF", quality=quality, speed=10)
    return buffer.getvalue()


def turned(data: bytes, degrees: int) -> bytes:
    """The photo turned `degrees` counter-clockwise and saved as JPEG without any EXIF (no orientation tag)."""
    image = _open_rgb(data).rotate(degrees, expand=True)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=92)
    return buffer.getvalue()


def upscaled(data: bytes, megapixels: float, *, fmt: str = "JPEG", quality: int = 90, tile: int = 0) -> bytes:
    """The photo enlarged (bicubic) to about `megapixels` million pixels, keeping its aspect ratio.

    With fmt="HEIF" and `tile`, stored as a grid of tile x tile HEVC images, as iPhones store their photos
    (512 x 512 tiles); without, as one HEVC image.
    """
    image = _open_rgb(data)
    factor = math.sqrt(megapixels * 1e6 / (image.width * image.height))
    image = image.resize((round(image.width * factor), round(image.height * factor)), Image.Resampling.BICUBIC)
    buffer = io.BytesIO()
    params: dict[str, object] = {"quality": quality}
    if fmt == "HEIF":
        params["enc_params"] = {"preset": "ultrafast"}
        params["tile_size"] = tile
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


# How a camera stores an upright photo for each EXIF orientation (the inverse of what a viewer applies).
_STORED_FOR = {
    3: Image.Transpose.ROTATE_180,
    6: Image.Transpose.ROTATE_90,  # stored turned 90 degrees counter-clockwise; the viewer turns it clockwise
    8: Image.Transpose.ROTATE_270,
}
