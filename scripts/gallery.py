"""Render the matte gallery: input | quality | fast, over a checkerboard and over a saturated colour, then the
`passport` document preset (quality) over the same colour.

    .venv/bin/python scripts/gallery.py [--out docs/matte-gallery.png] [--tile 150] [photos...]

One row per test photo (tests/data), output without the oval mask so the matte's own edges show. The passport
column is there because a document preset frames the head differently (pipeline/framing.py): its matte once kept a
band of the old background around the hair that the face-box framing did not. The PNG is quantised to 256 colours
to stay small enough to commit; regenerate it whenever the matte changes (`make gallery`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw

from facecraft.config import MattingMode, Settings
from facecraft.imaging.decode import decode_image
from facecraft.pipeline.factory import build_pipeline
from facecraft.pipeline.options import PortraitOptions
from facecraft.pipeline.presets import get_preset

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
# The photos the matte was tuned on, the list its invariant tests use (the held-out group crops stay out of sight).
from tests.pipeline.matte_invariants import TUNED as PHOTOS  # noqa: E402

COLOUR = (0, 170, 60)  # saturated green: any of the old background left in the edges shows against it
OPTIONS = PortraitOptions(use_oval_mask=False, enhance_face=False, enhance_photo=False)


def checkerboard(size: int, square: int = 10) -> npt.NDArray[np.uint8]:
    yy, xx = np.mgrid[0:size, 0:size]
    light = ((yy // square + xx // square) % 2).astype(bool)
    board = np.where(light[:, :, None], np.uint8(205), np.uint8(150))
    return np.repeat(board, 3, axis=2).astype(np.uint8)


def over(
    rgb: npt.NDArray[np.uint8], alpha: npt.NDArray[np.float32], bg: npt.NDArray[np.uint8]
) -> npt.NDArray[np.uint8]:
    weight = alpha[:, :, None]
    return np.clip(np.rint(rgb * weight + bg * (1 - weight)), 0, 255).astype(np.uint8)


def fit(rgb: npt.NDArray[np.uint8], tile: int) -> npt.NDArray[np.uint8]:
    height, width = rgb.shape[:2]
    scale = tile / max(height, width)
    small = cv2.resize(rgb, (max(1, round(width * scale)), max(1, round(height * scale))), interpolation=cv2.INTER_AREA)
    canvas = np.full((tile, tile, 3), 255, np.uint8)
    y0, x0 = (tile - small.shape[0]) // 2, (tile - small.shape[1]) // 2
    canvas[y0 : y0 + small.shape[0], x0 : x0 + small.shape[1]] = small
    return canvas


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "matte-gallery.png")
    parser.add_argument("--tile", type=int, default=150)
    parser.add_argument("--full-colour", action="store_true", help="skip the 256-colour quantisation")
    parser.add_argument("photos", nargs="*", help="paths (default: the test photos)")
    args = parser.parse_args()
    paths = [Path(p) for p in args.photos] or [REPO / "tests" / "data" / name for name in PHOTOS]
    pipeline = build_pipeline(Settings(models_dir=REPO / "models", _env_file=None))
    tile = args.tile
    options = OPTIONS.model_copy(update={"width": tile, "height": tile})
    board, colour = checkerboard(tile), np.full((tile, tile, 3), COLOUR, np.uint8)
    header = ["input", "quality", "fast", "quality", "fast", "passport"]
    passport = OPTIONS.model_copy(update={**get_preset("passport").option_values(), "use_oval_mask": False})
    rows = []
    for path in paths:
        data = path.read_bytes()
        results = {mode: pipeline.process(data, options.model_copy(update={"matting": mode})) for mode in MattingMode}
        quality, fast = results[MattingMode.QUALITY], results[MattingMode.FAST]
        document = pipeline.process(data, passport)
        height, width = document.alpha.shape
        framed = over(document.rgb, document.alpha, np.full((height, width, 3), COLOUR, np.uint8))
        rows.append(
            np.hstack(
                [
                    fit(decode_image(data, max_bytes=len(data) + 1, max_pixels=10**8).rgb, tile),
                    over(quality.rgb, quality.alpha, board),
                    over(fast.rgb, fast.alpha, board),
                    over(quality.rgb, quality.alpha, colour),
                    over(fast.rgb, fast.alpha, colour),
                    fit(framed, tile),
                ]
            )
        )
    image = Image.fromarray(np.vstack(rows))
    labelled = Image.new("RGB", (image.width, image.height + 18), "white")
    labelled.paste(image, (0, 18))
    draw = ImageDraw.Draw(labelled)
    for i, text in enumerate(header):
        draw.text((i * tile + 6, 3), text, fill=(0, 0, 0))
    if not args.full_colour:
        # Pillow dithers only against a given palette: find one first, then map onto it with error diffusion,
        # which keeps faces free of the posterised bands a plain 256-colour palette leaves.
        palette = labelled.quantize(256, method=Image.Quantize.MEDIANCUT)
        labelled = labelled.quantize(palette=palette, dither=Image.Dither.FLOYDSTEINBERG)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    labelled.save(args.out, optimize=True)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KB, {len(rows)} photos)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
