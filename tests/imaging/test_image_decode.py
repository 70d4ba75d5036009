"""decode_image: limits before decoding, format allow-list, EXIF orientation, colour modes."""

from __future__ import annotations

import io
import struct
import tracemalloc
import zlib

import numpy as np
import numpy.typing as npt
import pillow_heif
import pytest
from PIL import Image, ImageCms

from facecraft.errors import ImageTooLargeError, UnsupportedImageError
from facecraft.imaging import DecodedImage, decode_image

MAX_BYTES = 20 * 1024 * 1024
MAX_PIXELS = 40_000_000


def encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def decode(data: bytes) -> DecodedImage:
    return decode_image(data, max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS)


def png_header_only(width: int, height: int) -> bytes:
    """A syntactically valid PNG signature + IHDR (with CRC) declaring a huge canvas, and no pixels."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit truecolour
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))


# --- rejected input -------------------------------------------------------------------------------


def test_zero_bytes_is_unsupported() -> None:
    with pytest.raises(UnsupportedImageError) as caught:
        decode(b"")
    assert caught.value.code == "unsupported_image"


@pytest.mark.parametrize(
    "payload",
    [
        b"hello, this is a text file\n" * 10,
        b"<!DOCTYPE html><html><body><img src=x></body></html>",
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>',
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\n",
        bytes(range(256)) * 4,
    ],
    ids=["text", "html", "svg", "pdf", "random"],
)
def test_non_image_bytes_are_unsupported(payload: bytes) -> None:
    with pytest.raises(UnsupportedImageError) as caught:
        decode(payload)
    assert "JPEG" in caught.value.message
    assert "/" not in caught.value.message  # never a path


def test_gif_is_rejected(astronaut: npt.NDArray[np.uint8]) -> None:
    with pytest.raises(UnsupportedImageError):
        decode(encode(Image.fromarray(astronaut).convert("P"), "GIF"))


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.95])
@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "TIFF", "BMP"])
def test_truncated_file_is_unsupported(astronaut: npt.NDArray[np.uint8], fmt: str, fraction: float) -> None:
    complete = encode(Image.fromarray(astronaut), fmt)
    with pytest.raises(UnsupportedImageError) as caught:
        decode(complete[: int(len(complete) * fraction)])
    assert "/" not in caught.value.message


def test_declared_huge_png_is_refused_without_allocating() -> None:
    data = png_header_only(50_000, 50_000)
    assert len(data) < 200
    tracemalloc.start()
    try:
        with pytest.raises(ImageTooLargeError) as caught:
            decode(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert caught.value.code == "image_too_large"
    assert peak < 10 * 1024 * 1024  # the canvas would be 7.5 GB


def test_pixel_limit_is_checked_from_the_header() -> None:
    data = encode(Image.new("RGB", (300, 200)), "PNG")
    with pytest.raises(ImageTooLargeError) as caught:
        decode_image(data, max_bytes=MAX_BYTES, max_pixels=300 * 200 - 1)
    assert caught.value.details["width"] == 300


def test_byte_limit_is_checked_first() -> None:
    with pytest.raises(ImageTooLargeError) as caught:
        decode_image(b"x" * 1001, max_bytes=1000, max_pixels=MAX_PIXELS)
    assert caught.value.details["max_bytes"] == 1000


# --- accepted formats -----------------------------------------------------------------------------


@pytest.mark.parametrize(("fmt", "tolerance"), [("PNG", 0), ("BMP", 0), ("TIFF", 0), ("WEBP", 12), ("JPEG", 12)])
def test_formats_decode_to_rgb(astronaut: npt.NDArray[np.uint8], fmt: str, tolerance: int) -> None:
    decoded = decode(encode(Image.fromarray(astronaut), fmt))
    assert decoded.source_format == fmt
    assert decoded.rgb.dtype == np.uint8
    assert decoded.rgb.shape == (512, 512, 3)
    assert decoded.original_size == (512, 512)
    difference = np.abs(decoded.rgb.astype(int) - astronaut.astype(int))
    assert difference.mean() <= tolerance / 3
    # RGB, not BGR: the red suit channel order survives.
    assert decoded.rgb[..., 0].mean() == pytest.approx(astronaut[..., 0].mean(), abs=2)


def test_channel_order_is_rgb() -> None:
    decoded = decode(encode(Image.new("RGB", (8, 8), (255, 0, 0)), "PNG"))
    assert tuple(decoded.rgb[0, 0]) == (255, 0, 0)


def test_tiny_image_is_accepted() -> None:
    assert decode(encode(Image.new("RGB", (4, 3), (1, 2, 3)), "PNG")).rgb.shape == (3, 4, 3)


def test_animated_webp_gives_first_frame() -> None:
    frames = [Image.new("RGB", (16, 16), colour) for colour in ((255, 0, 0), (0, 0, 255))]
    data = encode(frames[0], "WEBP", save_all=True, append_images=frames[1:], lossless=True)
    assert tuple(decode(data).rgb[8, 8]) == (255, 0, 0)


# --- EXIF orientation -----------------------------------------------------------------------------


def marked_landscape() -> Image.Image:
    """40 wide x 20 high, with a red block in the top-left corner."""
    image = Image.new("RGB", (40, 20), (255, 255, 255))
    image.paste((255, 0, 0), (0, 0, 10, 5))
    return image


def red_corners(rgb: np.ndarray, *, inset: int, red: int, other: int) -> list[str]:
    """Which corners of the decoded picture hold the marker's red (R above `red`, G and B below `other`)."""
    last = -1 - inset
    corners = {
        "top-left": rgb[inset, inset],
        "top-right": rgb[inset, last],
        "bottom-left": rgb[last, inset],
        "bottom-right": rgb[last, last],
    }
    return [name for name, pixel in corners.items() if pixel[0] > red and pixel[1] < other and pixel[2] < other]


@pytest.mark.parametrize(
    ("orientation", "red_corner"),
    [(6, "top-right"), (8, "bottom-left")],  # 6: rotate 90 clockwise to view; 8: 90 anticlockwise
)
def test_exif_orientation_is_applied(orientation: int, red_corner: str) -> None:
    exif = Image.Exif()
    exif[0x0112] = orientation
    decoded = decode(encode(marked_landscape(), "JPEG", exif=exif, quality=95))
    assert decoded.rgb.shape == (40, 20, 3)
    assert decoded.original_size == (20, 40)
    assert red_corners(decoded.rgb, inset=1, red=200, other=60) == [red_corner]


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
def test_malformed_exif_falls_back_to_no_rotation() -> None:
    image = marked_landscape()
    data = encode(image, "JPEG", exif=b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\xff\xff", quality=95)
    assert decode(data).rgb.shape == (20, 40, 3)


# --- colour modes ---------------------------------------------------------------------------------


def test_cmyk_jpeg() -> None:
    data = encode(Image.new("CMYK", (16, 16), (0, 255, 255, 0)), "JPEG", quality=95)  # pure red ink
    pixel = decode(data).rgb[8, 8]
    assert pixel[0] > 200 and pixel[1] < 50 and pixel[2] < 50


def test_sixteen_bit_greyscale_png_is_scaled_not_clipped() -> None:
    gradient = np.tile(np.linspace(0, 65535, 256).astype(np.uint16), (4, 1))
    image = Image.fromarray(gradient)
    assert image.mode == "I;16"
    decoded = decode(encode(image, "PNG"))
    expected = np.rint(gradient[0].astype(np.float64) * 255 / 65535).astype(np.uint8)
    assert np.array_equal(decoded.rgb[0, :, 0], expected)
    assert np.array_equal(decoded.rgb[..., 0], decoded.rgb[..., 2])
    assert decoded.rgb[0, 128, 0] == 128  # mid-grey, not clipped to 255


def test_palette_png_with_transparency_is_over_white() -> None:
    image = Image.new("P", (8, 8), 0)
    image.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    image.putpixel((0, 0), 1)
    data = encode(image, "PNG", transparency=0)
    rgb = decode(data).rgb
    assert tuple(rgb[4, 4]) == (255, 255, 255)
    assert tuple(rgb[0, 0]) == (0, 0, 255)


def test_la_png_is_over_white() -> None:
    image = Image.merge("LA", (Image.new("L", (4, 4), 0), Image.new("L", (4, 4), 128)))
    assert tuple(decode(encode(image, "PNG")).rgb[0, 0]) == (127, 127, 127)


def test_rgba_png_is_composited_over_white() -> None:
    pixels = np.zeros((2, 3, 4), np.uint8)
    pixels[0, 0] = (255, 0, 0, 255)  # opaque red
    pixels[0, 1] = (0, 0, 0, 0)  # fully transparent black
    pixels[0, 2] = (0, 0, 255, 128)  # half blue
    rgb = decode(encode(Image.fromarray(pixels), "PNG")).rgb
    assert tuple(rgb[0, 0]) == (255, 0, 0)
    assert tuple(rgb[0, 1]) == (255, 255, 255)
    assert tuple(rgb[0, 2]) == (127, 127, 255)


@pytest.mark.parametrize("mode", ["1", "L", "I", "F", "YCbCr"])
def test_other_modes_become_rgb(mode: str) -> None:
    source = Image.new("L", (8, 8), 200) if mode != "1" else Image.new("1", (8, 8), 1)
    image = source.convert(mode)
    fmt = "TIFF" if mode in ("I", "F") else ("JPEG" if mode == "YCbCr" else "PNG")
    rgb = decode(encode(image, fmt)).rgb
    assert rgb.shape == (8, 8, 3)
    expected = 255 if mode == "1" else 200
    assert abs(int(rgb[4, 4, 0]) - expected) <= 2


# --- phone formats: HEIC/HEIF and AVIF --------------------------------------------------------------


def heic_bytes(image: Image.Image, **params: object) -> bytes:
    return encode(image, "HEIF", quality=90, enc_params={"preset": "ultrafast"}, **params)


@pytest.mark.parametrize(("fmt", "source_format"), [("HEIF", "HEIF"), ("AVIF", "AVIF")])
def test_heic_and_avif_decode_to_rgb(astronaut: npt.NDArray[np.uint8], fmt: str, source_format: str) -> None:
    image = Image.fromarray(astronaut)
    data = heic_bytes(image) if fmt == "HEIF" else encode(image, "AVIF", quality=90, speed=10)
    decoded = decode(data)
    assert decoded.source_format == source_format
    assert decoded.rgb.shape == (512, 512, 3) and decoded.original_size == (512, 512)
    assert np.abs(decoded.rgb.astype(int) - astronaut.astype(int)).mean() <= 4
    assert decoded.rgb[..., 0].mean() == pytest.approx(astronaut[..., 0].mean(), abs=3)  # RGB order kept


@pytest.mark.parametrize(
    ("orientation", "red_corner"),
    [(6, "top-right"), (8, "bottom-left")],
)
def test_heic_orientation_is_applied_once(orientation: int, red_corner: str) -> None:
    """pillow-heif turns the EXIF tag into the container's rotation; the photo must come out turned once."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    decoded = decode(heic_bytes(marked_landscape().resize((80, 40)), exif=exif.tobytes()))
    assert decoded.rgb.shape == (80, 40, 3)
    # HEVC is lossier than the JPEG above at this size: a wider inset and looser red.
    assert red_corners(decoded.rgb, inset=3, red=180, other=90) == [red_corner]


def test_heic_colour_profile_goes_through_the_profile_conversion(
    astronaut: npt.NDArray[np.uint8], monkeypatch: pytest.MonkeyPatch
) -> None:
    from facecraft.imaging import decode as decode_module  # noqa: PLC0415

    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    seen: list[bytes] = []
    original = decode_module._icc_to_srgb

    def spy(image: Image.Image) -> Image.Image:
        seen.append(image.info.get("icc_profile", b""))
        return original(image)

    monkeypatch.setattr(decode_module, "_icc_to_srgb", spy)
    decode(heic_bytes(Image.fromarray(astronaut), icc_profile=profile))
    assert seen and seen[0], "the HEIC's embedded profile must reach the sRGB conversion, as a JPEG's does"


@pytest.mark.parametrize(("size", "tile"), [((81, 43), 0), ((640, 480), 0), ((600, 440), 128)])
def test_heic_decodes_to_the_same_pixels_as_pillow(
    astronaut: npt.NDArray[np.uint8], size: tuple[int, int], tile: int
) -> None:
    """The HEIC path reads libheif's buffer directly (no copies through Pillow); odd widths have padded rows.
    With `tile`, the photo is a grid of HEVC tiles, as iPhones store theirs (512 px tiles there)."""
    data = heic_bytes(Image.fromarray(astronaut).resize(size), tile_size=tile)
    if tile:
        assert pillow_heif.open_heif(io.BytesIO(data)).info.get("tiling"), "the test photo must be a tile grid"
    with Image.open(io.BytesIO(data)) as image:
        expected = np.asarray(image.convert("RGB"))
    decoded = decode(data)
    assert decoded.rgb.flags.c_contiguous and decoded.rgb.dtype == np.uint8
    assert np.array_equal(decoded.rgb, expected)


def test_heic_pixel_limit_is_checked_before_decoding() -> None:
    data = heic_bytes(Image.new("RGB", (640, 480), (90, 120, 150)))
    tracemalloc.start()
    try:
        with pytest.raises(ImageTooLargeError) as caught:
            decode_image(data, max_bytes=MAX_BYTES, max_pixels=640 * 480 - 1)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert caught.value.details["width"] == 640
    assert peak < 640 * 480  # the refused canvas was never allocated


@pytest.mark.parametrize("fmt", ["HEIF", "AVIF"])
def test_truncated_heic_and_avif_are_unsupported(astronaut: npt.NDArray[np.uint8], fmt: str) -> None:
    image = Image.fromarray(astronaut)
    complete = heic_bytes(image) if fmt == "HEIF" else encode(image, "AVIF", quality=80, speed=10)
    with pytest.raises(UnsupportedImageError):
        decode(complete[: len(complete) // 2])


def test_unsupported_message_names_the_phone_formats() -> None:
    with pytest.raises(UnsupportedImageError) as caught:
        decode(b"not an image at all" * 10)
    assert "HEIC" in caught.value.message and "AVIF" in caught.value.message
    assert "HEIC" in caught.value.details["accepted_formats"]


# --- reduced decodes (min_side) -----------------------------------------------------------------------


def test_jpeg_min_side_decodes_reduced_and_reports_the_full_size(astronaut: npt.NDArray[np.uint8]) -> None:
    big = Image.fromarray(astronaut).resize((2048, 1536))
    exif = Image.Exif()
    exif[0x0112] = 6
    data = encode(big, "JPEG", quality=90, exif=exif)
    reduced = decode_image(data, max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS, min_side=600)
    assert reduced.original_size == (1536, 2048)  # upright, full resolution
    # DCT scaling: 1/4 would give 512 < 600, so 1/2.
    assert reduced.scale == 0.5 and reduced.rgb.shape == (1024, 768, 3)
    full = decode(data)
    assert full.scale == 1.0 and full.rgb.shape == (2048, 1536, 3)


def test_min_side_never_goes_below_the_request(astronaut: npt.NDArray[np.uint8]) -> None:
    data = encode(Image.fromarray(astronaut).resize((2000, 1000)), "JPEG", quality=90)
    for min_side in (300, 999, 1000, 1500):
        decoded = decode_image(data, max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS, min_side=min_side)
        assert max(decoded.rgb.shape[:2]) >= min_side
        assert decoded.rgb.shape[1] == round(2000 * decoded.scale)


def test_min_side_leaves_other_formats_at_full_size(astronaut: npt.NDArray[np.uint8]) -> None:
    decoded = decode_image(
        encode(Image.fromarray(astronaut), "PNG"), max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS, min_side=100
    )
    assert decoded.scale == 1.0 and decoded.rgb.shape == (512, 512, 3)
