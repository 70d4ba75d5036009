"""Hostile uploads, built by code: every byte here is generated or cut from a committed test photo.

Each `Case` is one request: a multipart body built by hand (so file names can carry NUL, CRLF or 1000
characters exactly as an attacker would send them), the endpoint, and the error codes it may get.
Images that are valid but odd (CMYK, 16-bit, 10000x16, animated WebP...) are drawn as a smooth
gradient with no face, so a correct server decodes them and answers `no_face`: proof that decoding
went through, without spending a full pipeline run on each.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image

DATA = Path(__file__).resolve().parents[1] / "data"
BOUNDARY = "hostileboundary7MA4YWxkTrZu0gW"
PROCESS = "/api/v1/process"
QUICK = "/api/v1/process/quick"
# Options that keep every decodable input cheap: small output, the fast matte.
CHEAP = {"matting": "fast", "width": "64", "height": "64", "enhance_face": "false", "enhance_photo": "false"}


@dataclass(frozen=True)
class Part:
    name: str
    data: bytes
    filename: bytes | None = None  # raw bytes, written into the header as they are
    content_type: str | None = None


@dataclass(frozen=True)
class Request:
    body: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Case:
    name: str
    kind: str
    build: Callable[[], Request]
    expect: frozenset[str]  # acceptable error codes
    path: str = PROCESS

    @property
    def id(self) -> str:
        return f"{self.kind}:{self.name}"


def multipart(parts: list[Part], boundary: str = BOUNDARY) -> bytes:
    out = bytearray()
    for part in parts:
        out += f"--{boundary}\r\n".encode()
        disposition = f'Content-Disposition: form-data; name="{part.name}"'.encode()
        if part.filename is not None:
            disposition += b'; filename="' + part.filename + b'"'
        out += disposition + b"\r\n"
        if part.content_type is not None:
            out += f"Content-Type: {part.content_type}\r\n".encode()
        out += b"\r\n" + part.data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out)


def upload(
    data: bytes,
    filename: bytes | None = b"photo.jpg",
    content_type: str | None = "image/jpeg",
    options: dict[str, str] | None = None,
) -> Request:
    fields = {**CHEAP, **(options or {})}
    parts = [Part(k, v.encode()) for k, v in fields.items()]
    parts.append(Part("file", data, filename, content_type))
    return Request(multipart(parts), f"multipart/form-data; boundary={BOUNDARY}")


# --- images --------------------------------------------------------------------------------


def gradient(width: int = 96, height: int = 96) -> npt.NDArray[np.uint8]:
    """RGB uint8, a smooth diagonal gradient: decodes anywhere, holds no face."""
    x = np.linspace(0, 255, width, dtype=np.float32)[None, :]
    y = np.linspace(0, 255, height, dtype=np.float32)[:, None]
    return np.asarray(np.stack([x + 0 * y, y + 0 * x, (x + y) / 2], axis=2), dtype=np.uint8)


def encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def rgb(width: int = 96, height: int = 96) -> Image.Image:
    return Image.fromarray(gradient(width, height))


def jpeg(width: int = 96, height: int = 96, **params: object) -> bytes:
    return encode(rgb(width, height), "JPEG", quality=90, **params)


def png(width: int = 96, height: int = 96) -> bytes:
    return encode(rgb(width, height), "PNG")


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def raw_png(width: int, height: int, idat: bytes, extra: bytes = b"", colour_type: int = 2) -> bytes:
    """A PNG assembled chunk by chunk: the header may claim any size, whatever IDAT holds."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + extra + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


def png_bomb_header(width: int, height: int) -> bytes:
    return raw_png(width, height, zlib.compress(b"\x00" * 1024))


def heic_declaring(width: int, height: int) -> bytes:
    """A real 64x64 HEIC whose image-size property (ispe) claims width x height."""
    import pillow_heif  # noqa: PLC0415 - registers the HEIF plugin with Pillow

    pillow_heif.register_heif_opener()
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (100, 120, 140)).save(buffer, format="HEIF", quality=50)
    data = bytearray(buffer.getvalue())
    at = data.find(b"ispe") + 8  # box type, then version/flags, then width and height
    data[at : at + 8] = struct.pack(">II", width, height)
    return bytes(data)


def png_zeros(width: int, height: int) -> bytes:
    """A real, complete PNG of black pixels whose IDAT inflates to width*height*3 bytes."""
    row = b"\x00" + b"\x00" * (width * 3)
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    return raw_png(width, height, idat)


def png_idat_overflow() -> bytes:
    """Declares 64x64 but its IDAT inflates to 100 MB."""
    return raw_png(64, 64, zlib.compress(b"\x00" * 100_000_000, 9))


def png_text_bomb() -> bytes:
    """A zTXt chunk that inflates to 100 MB ahead of a valid image."""
    payload = b"Comment\x00\x00" + zlib.compress(b"A" * 100_000_000, 9)
    row = b"\x00" + bytes(range(48)) * 2
    return raw_png(32, 32, zlib.compress(row * 32), extra=png_chunk(b"zTXt", payload))


def png_bad_crc() -> bytes:
    data = bytearray(png())
    data[29] ^= 0xFF  # inside the IHDR CRC
    return bytes(data)


def jpeg_with_sof_size(width: int, height: int) -> bytes:
    data = bytearray(jpeg())
    sof = data.index(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, height, width)
    return bytes(data)


def jpeg_with_segment(marker: bytes, payload: bytes, declared: int | None = None) -> bytes:
    """Insert a segment (e.g. APP1) right after SOI; `declared` overrides its length field."""
    data = jpeg()
    length = declared if declared is not None else len(payload) + 2
    return data[:2] + marker + struct.pack(">H", length) + payload + data[2:]


def jpeg_huge_exif() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "Facecraft hostile"
    exif.get_ifd(0x8769)[0x9286] = b"ASCII\x00\x00\x00" + b"A" * 60_000  # UserComment
    return jpeg(exif=exif.tobytes())


def jpeg_exif_orientation(value: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = value
    return jpeg(exif=exif.tobytes())


def jpeg_exif_loop() -> bytes:
    """TIFF-in-EXIF whose IFD points at itself as the next IFD."""
    ifd = struct.pack("<H", 1) + struct.pack("<HHII", 0x0112, 3, 1, 6) + struct.pack("<I", 8)
    tiff = b"II*\x00" + struct.pack("<I", 8) + ifd
    return jpeg_with_segment(b"\xff\xe1", b"Exif\x00\x00" + tiff)


def tiff_header(width: int, height: int) -> bytes:
    entries = [
        (256, 4, 1, width),
        (257, 4, 1, height),
        (258, 3, 1, 8),
        (259, 3, 1, 1),
        (262, 3, 1, 1),
        (273, 4, 1, 8 + 2 + 12 * 9 + 4),
        (277, 3, 1, 1),
        (278, 4, 1, height),
        (279, 4, 1, 16),
    ]
    ifd = struct.pack("<H", len(entries)) + b"".join(struct.pack("<HHII", *e) for e in entries) + b"\x00" * 4
    return b"II*\x00" + struct.pack("<I", 8) + ifd + b"\x00" * 16


def bmp_header(width: int, height: int) -> bytes:
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, 0, 2835, 2835, 0, 0)
    pixels = b"\x00" * 64
    return b"BM" + struct.pack("<IHHI", 14 + 40 + len(pixels), 0, 0, 54) + info + pixels


def webp_vp8l_header(width: int, height: int) -> bytes:
    bits = (width - 1) | ((height - 1) << 14)
    payload = b"\x2f" + struct.pack("<I", bits) + b"\x00" * 16
    chunk = b"VP8L" + struct.pack("<I", len(payload)) + payload
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


def gif_header(width: int, height: int) -> bytes:
    return (
        b"GIF89a"
        + struct.pack("<HH", width, height)
        + b"\x00\x00\x00"
        + b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
    )


def zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("payload.html", "<script>alert(1)</script>")
    return buffer.getvalue()


def cut(name: str, fraction: float) -> bytes:
    data = (DATA / name).read_bytes()
    return data[: int(len(data) * fraction)]


def animated_webp() -> bytes:
    frames = [rgb(), Image.fromarray(255 - gradient())]
    buffer = io.BytesIO()
    frames[0].save(buffer, "WEBP", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return buffer.getvalue()


def apng() -> bytes:
    frames = [rgb(), Image.fromarray(255 - gradient())]
    buffer = io.BytesIO()
    frames[0].save(buffer, "PNG", save_all=True, append_images=frames[1:], duration=100)
    return buffer.getvalue()


def multipage_tiff() -> bytes:
    frames = [rgb(), rgb(48, 48)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "TIFF", save_all=True, append_images=frames[1:])
    return buffer.getvalue()


def png16_rgb() -> bytes:
    ok, data = cv2.imencode(".png", gradient().astype(np.uint16) * 257)
    assert ok
    return bytes(data.tobytes())


def float_tiff() -> bytes:
    return encode(Image.fromarray(gradient()[:, :, 0].astype(np.float32) / 255.0, mode="F"), "TIFF")


def int32_tiff() -> bytes:
    return encode(Image.fromarray(gradient()[:, :, 0].astype(np.int32) * 1000, mode="I"), "TIFF")


def palette_transparent() -> bytes:
    image = rgb().convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    return encode(image, "PNG", transparency=0)


def svg() -> bytes:
    return (
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="64" height="64">'
        b"<script>alert(1)</script></svg>"
    )


def pdf() -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
        b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )


def random_bytes(n: int, seed: int = 7) -> bytes:
    return np.random.default_rng(seed).integers(0, 256, n, dtype=np.uint8).tobytes()


# --- the catalogue -------------------------------------------------------------------------

UNSUPPORTED = frozenset({"unsupported_image"})
NO_FACE = frozenset({"no_face"})
TOO_LARGE = frozenset({"image_too_large"})
BAD_OPTION = frozenset({"invalid_option"})
BAD_REQUEST = frozenset({"bad_request"})


def _file(kind: str, name: str, make: Callable[[], bytes], expect: frozenset[str], **kw: object) -> Case:
    return Case(name, kind, lambda: upload(make(), **kw), expect)  # type: ignore[arg-type]


def file_cases() -> list[Case]:
    c = _file
    return [
        # empty, truncated, damaged
        c("damaged", "zero bytes", lambda: b"", UNSUPPORTED),
        c("damaged", "one byte", lambda: b"\xff", UNSUPPORTED),
        c("damaged", "jpeg SOI only", lambda: b"\xff\xd8", UNSUPPORTED),
        c("damaged", "png signature only", lambda: b"\x89PNG\r\n\x1a\n", UNSUPPORTED),
        c("damaged", "truncated jpeg 50%", lambda: cut("astronaut.jpg", 0.5), UNSUPPORTED),
        c("damaged", "truncated jpeg header", lambda: cut("astronaut.jpg", 0.01), UNSUPPORTED),
        c("damaged", "truncated png 60%", lambda: cut("camera.png", 0.6), UNSUPPORTED),
        c("damaged", "truncated webp 50%", lambda: cut("astronaut.webp", 0.5), UNSUPPORTED),
        c("damaged", "png bad CRC", png_bad_crc, UNSUPPORTED),
        c("damaged", "random 4 KB", lambda: random_bytes(4096), UNSUPPORTED),
        c("damaged", "random 1.5 MB (spooled)", lambda: random_bytes(1_500_000), UNSUPPORTED),
        c("damaged", "jpeg header + random", lambda: b"\xff\xd8\xff\xe0" + random_bytes(8000), UNSUPPORTED),
        c("damaged", "png 0x0", lambda: raw_png(0, 0, zlib.compress(b"")), UNSUPPORTED),
        # wrong or missing extension and content type: the bytes decide, never the name
        c("mislabelled", "jpeg named .png, text/plain", jpeg, NO_FACE, filename=b"a.png", content_type="text/plain"),
        c("mislabelled", "png named .jpg", png, NO_FACE, filename=b"a.jpg", content_type="image/jpeg"),
        c("mislabelled", "no extension, no type", png, NO_FACE, filename=b"upload", content_type=None),
        c("mislabelled", "html named .jpg", lambda: b"<html><body>hi</body></html>", UNSUPPORTED),
        c("mislabelled", "exe named .png", lambda: b"MZ\x90\x00" + random_bytes(2000), UNSUPPORTED),
        # polyglots
        c("polyglot", "jpeg + zip appended", lambda: jpeg() + zip_bytes(), NO_FACE),
        c("polyglot", "jpeg + html appended", lambda: jpeg() + b"<html><script>alert(1)</script></html>", NO_FACE),
        c("polyglot", "png + php appended", lambda: png() + b"<?php system($_GET['c']); ?>", NO_FACE),
        c("polyglot", "gif/js header", lambda: b"GIF89a/*\x01\x00\x01\x00*/=alert(1);//" + b"\x00" * 32, UNSUPPORTED),
        c("polyglot", "zip + jpeg appended", lambda: zip_bytes() + jpeg(), UNSUPPORTED),
        # decompression bombs
        c("bomb", "png declares 50000x50000", lambda: png_bomb_header(50_000, 50_000), TOO_LARGE),
        # Just over the default MAX_IMAGE_PIXELS (50 million, a 48 MP phone photo fits).
        c("bomb", "png declares 7500x7500", lambda: png_bomb_header(7500, 7500), TOO_LARGE),
        c("bomb", "heic declares 60000x60000", lambda: heic_declaring(60_000, 60_000), TOO_LARGE),
        c("bomb", "heic declares 7500x7500", lambda: heic_declaring(7500, 7500), TOO_LARGE),
        c("bomb", "png 6000x6000 zeros (real, 36 MP)", lambda: png_zeros(6000, 6000), NO_FACE),
        c("bomb", "png 64x64, IDAT inflates to 100 MB", png_idat_overflow, NO_FACE | UNSUPPORTED),
        c("bomb", "png zTXt inflates to 100 MB", png_text_bomb, NO_FACE | UNSUPPORTED),
        c("bomb", "jpeg SOF declares 65000x65000", lambda: jpeg_with_sof_size(65_000, 65_000), TOO_LARGE),
        c("bomb", "tiff declares 60000x60000", lambda: tiff_header(60_000, 60_000), TOO_LARGE),
        c("bomb", "bmp declares 50000x50000", lambda: bmp_header(50_000, 50_000), TOO_LARGE),
        c("bomb", "webp declares 16384x16384", lambda: webp_vp8l_header(16_384, 16_384), TOO_LARGE | UNSUPPORTED),
        c("bomb", "gif declares 50000x50000", lambda: gif_header(50_000, 50_000), UNSUPPORTED),
        # EXIF and metadata
        c("metadata", "exif 60 KB UserComment", jpeg_huge_exif, NO_FACE),
        c(
            "metadata",
            "garbage APP1 exif",
            lambda: jpeg_with_segment(b"\xff\xe1", b"Exif\x00\x00" + random_bytes(3000)),
            NO_FACE | UNSUPPORTED,
        ),
        c(
            "metadata",
            "APP1 length past the end",
            lambda: jpeg_with_segment(b"\xff\xe1", b"Exif\x00\x00II", declared=65_000),
            UNSUPPORTED | NO_FACE,
        ),
        c("metadata", "exif orientation 9", lambda: jpeg_exif_orientation(9), NO_FACE),
        c("metadata", "exif orientation 0", lambda: jpeg_exif_orientation(0), NO_FACE),
        c("metadata", "exif IFD loop", jpeg_exif_loop, NO_FACE),
        c(
            "metadata",
            "garbage ICC profile",
            lambda: jpeg_with_segment(b"\xff\xe2", b"ICC_PROFILE\x00\x01\x01" + random_bytes(2000)),
            NO_FACE,
        ),
        # colour modes and depths
        c("colour", "CMYK jpeg", lambda: encode(rgb().convert("CMYK"), "JPEG"), NO_FACE),
        c("colour", "CMYK tiff", lambda: encode(rgb().convert("CMYK"), "TIFF"), NO_FACE),
        c(
            "colour",
            "16-bit grey png",
            lambda: encode(Image.fromarray(gradient()[:, :, 0].astype(np.uint16) * 257), "PNG"),
            NO_FACE,
        ),
        c("colour", "16-bit RGB png", png16_rgb, NO_FACE),
        c("colour", "float32 tiff", float_tiff, NO_FACE),
        c("colour", "int32 tiff", int32_tiff, NO_FACE),
        c("colour", "1-bit png", lambda: encode(rgb().convert("1"), "PNG"), NO_FACE),
        c("colour", "LA png", lambda: encode(rgb().convert("LA"), "PNG"), NO_FACE),
        c("colour", "palette + transparency png", palette_transparent, NO_FACE),
        c("colour", "RGBA webp", lambda: encode(rgb().convert("RGBA"), "WEBP"), NO_FACE),
        c("colour", "grey jpeg", lambda: encode(rgb().convert("L"), "JPEG"), NO_FACE),
        c("colour", "LAB tiff", lambda: encode(rgb().convert("LAB"), "TIFF"), NO_FACE | UNSUPPORTED),
        # animations and pages
        c("animated", "animated gif", (DATA / "animated.gif").read_bytes, UNSUPPORTED),
        c("animated", "animated webp", animated_webp, NO_FACE),
        c("animated", "animated png (APNG)", apng, NO_FACE),
        c("animated", "multi-page tiff", multipage_tiff, NO_FACE),
        # not images at all
        c("not-image", "svg with script", svg, UNSUPPORTED, content_type="image/svg+xml"),
        c("not-image", "html", lambda: b"<!doctype html><html><img src=x onerror=alert(1)></html>", UNSUPPORTED),
        c("not-image", "pdf", pdf, UNSUPPORTED, content_type="application/pdf"),
        c("not-image", "text", lambda: b"hello, this is not a photo\n" * 10, UNSUPPORTED, content_type="text/plain"),
        c("not-image", "json", lambda: b'{"image": "base64..."}', UNSUPPORTED, content_type="application/json"),
        c("not-image", "zip", zip_bytes, UNSUPPORTED, content_type="application/zip"),
        c("not-image", "gzip", lambda: b"\x1f\x8b\x08\x00" + random_bytes(500), UNSUPPORTED),
        c(
            "not-image",
            "xml with entity bomb",
            lambda: b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa">]><l>&a;</l>',
            UNSUPPORTED,
        ),
        c("not-image", "psd header", lambda: b"8BPS\x00\x01" + b"\x00" * 200, UNSUPPORTED),
        c(
            "not-image",
            "heic ftyp",
            lambda: b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + random_bytes(200),
            UNSUPPORTED,
        ),
        c("not-image", "ico", lambda: encode(rgb(32, 32), "ICO"), UNSUPPORTED),
        # tiny and extreme shapes
        c("shape", "1x1 png", lambda: png(1, 1), NO_FACE),
        c("shape", "1x1 jpeg", lambda: jpeg(1, 1), NO_FACE),
        c("shape", "16x16 png", lambda: png(16, 16), NO_FACE),
        c("shape", "10000x16 png", lambda: png(10_000, 16), NO_FACE),
        c("shape", "16x10000 png", lambda: png(16, 10_000), NO_FACE),
        c("shape", "40000x1 png", lambda: png(40_000, 1), NO_FACE),
        c("shape", "1x40000 jpeg", lambda: jpeg(1, 40_000), NO_FACE),
        c(
            "shape",
            "bmp top-down",
            lambda: encode(rgb(), "BMP")[:22] + struct.pack("<i", -96) + encode(rgb(), "BMP")[26:],
            NO_FACE | UNSUPPORTED,
        ),
    ]


def filename_cases() -> list[Case]:
    names: list[tuple[str, bytes]] = [
        ("traversal", b"../../etc/passwd"),
        ("windows traversal", b"..\\..\\windows\\system32\\cmd.exe"),
        ("absolute path", b"/etc/shadow"),
        ("unicode", "портрет 😀 ﬁ.jpg".encode()),
        ("NUL inside", b"photo\x00.php.jpg"),
        ("1000 characters", b"a" * 996 + b".jpg"),
        ("CRLF header injection", b"a.jpg\r\nX-Injected: 1"),
        ("quotes and semicolons", b'a";filename="../../x.sh'),
        ("empty", b""),
        ("only dots", b".."),
        ("percent-encoded traversal", b"..%2F..%2Fetc%2Fpasswd"),
        ("control characters", bytes(range(1, 32)) + b".jpg"),
    ]
    # Names the multipart parser itself refuses (raw control characters) get 400 bad_request.
    return [
        Case(label, "filename", lambda n=name: upload(png(), filename=n), NO_FACE | BAD_OPTION | BAD_REQUEST)  # type: ignore[misc]
        for label, name in names
    ]


def option_cases() -> list[Case]:
    bad: list[tuple[str, str]] = [
        ("width", "NaN"),
        ("width", "inf"),
        ("width", "-1"),
        ("width", "0"),
        ("width", "99999999999999999999999"),
        ("width", "abc"),
        ("width", "1e3"),
        ("height", "nan"),
        ("height", "-inf"),
        ("height", "100000"),
        ("face_margin", "nan"),
        ("face_margin", "inf"),
        ("face_margin", "-0.5"),
        ("face_margin", "1e308"),
        ("face_margin", "many"),
        ("enhance_fidelity", "NaN"),
        ("enhance_fidelity", "-inf"),
        ("enhance_fidelity", "2"),
        ("max_kb", "nan"),
        ("max_kb", "-5"),
        ("max_kb", "99999999999"),
        ("max_kb", "1.5"),
        ("background_r", "nan"),
        ("background_r", "-1"),
        ("background_r", "256"),
        ("background_r", "red"),
        ("background", "#GGGGGG"),
        ("background", "#12345"),
        ("background", "red"),
        ("background", "300,0,0"),
        ("background", "#" + "f" * 100),
        ("background", "rgb(1,2,3)"),
        ("matting", "best"),
        ("output_format", "gif"),
        ("output_format", "../png"),
        ("face_policy", "all"),
        ("use_oval_mask", "maybe"),
    ]
    cases = [
        Case(f"{name}={value[:20]}", "option", lambda n=name, v=value: upload(png(), options={n: v}), BAD_OPTION)  # type: ignore[misc]
        for name, value in bad
    ]
    for value in ("0", "5000", "nan", "-16"):
        cases.append(
            Case(f"quick size={value}", "option", lambda v=value: upload(png(), options={"size": v}), BAD_OPTION, QUICK)  # type: ignore[misc]
        )
    return cases


def request_cases() -> list[Case]:
    """Malformed requests around a well-formed file (the raw-socket ones live in the test module)."""
    image = png()
    ctype = f"multipart/form-data; boundary={BOUNDARY}"

    def two_files() -> Request:
        return Request(multipart([Part("file", image, b"a.png"), Part("file", random_bytes(100), b"b.png")]), ctype)

    def many_fields() -> Request:
        parts = [Part(f"f{i}", b"x") for i in range(1500)] + [Part("file", image, b"a.png")]
        return Request(multipart(parts), ctype)

    def huge_part_header() -> Request:
        body = multipart([Part("file", image, b"a" * 200_000 + b".png")])
        return Request(body, ctype)

    def over_limit() -> Request:
        return upload(b"\xff\xd8" + random_bytes(2_500_000))

    cases = [
        Case("no file field", "request", lambda: Request(multipart([Part("width", b"64")]), ctype), BAD_OPTION),
        Case("file as plain field", "request", lambda: Request(multipart([Part("file", image)]), ctype), BAD_OPTION),
        Case("json body", "request", lambda: Request(b'{"file": "x"}', "application/json"), BAD_OPTION),
        Case(
            "urlencoded body",
            "request",
            lambda: Request(b"file=abc&width=1", "application/x-www-form-urlencoded"),
            BAD_OPTION,
        ),
        Case(
            "multipart without boundary",
            "request",
            lambda: Request(b"--x\r\n\r\n", "multipart/form-data"),
            frozenset({"bad_request", "invalid_option"}),
        ),
        Case(
            "wrong boundary",
            "request",
            lambda: Request(multipart([Part("file", image, b"a.png")], "other"), ctype),
            frozenset({"bad_request", "invalid_option"}),
        ),
        Case(
            "garbage multipart",
            "request",
            lambda: Request(random_bytes(5000), ctype),
            frozenset({"bad_request", "invalid_option"}),
        ),
        Case(
            "unterminated multipart",
            "request",
            lambda: Request(multipart([Part("file", image, b"a.png")])[:-40], ctype),
            frozenset({"bad_request", "invalid_option"}),
        ),
        Case("two file parts", "request", two_files, NO_FACE | UNSUPPORTED | BAD_OPTION),
        Case("1500 form fields", "request", many_fields, frozenset({"bad_request", "invalid_option"})),
        Case(
            "200 KB part header", "request", huge_part_header, frozenset({"bad_request", "invalid_option", "no_face"})
        ),
        Case("file over the 2 MB limit", "request", over_limit, frozenset({"upload_too_large"})),
    ]
    return cases


def all_cases() -> list[Case]:
    return file_cases() + filename_cases() + option_cases() + request_cases()
