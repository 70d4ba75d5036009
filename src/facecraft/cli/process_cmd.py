"""`facecraft process PHOTO_OR_DIR... [-o DIR]`: headshots from files, without a server."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from tqdm import tqdm

from facecraft.config import FacePolicy, MattingMode, OutputFormat
from facecraft.errors import FacecraftError
from facecraft.files import write_atomic
from facecraft.jobs.processing import process_photo
from facecraft.pipeline.options import SCALAR_OPTIONS, PortraitOptions
from facecraft.pipeline.presets import PRESETS, get_preset

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"}


def register(commands: Any) -> None:
    parser = commands.add_parser("process", help="Process photos or folders of photos into headshots.")
    parser.add_argument("inputs", nargs="+", type=Path, help="Photos, or folders whose photos are processed.")
    parser.add_argument("-o", "--output-dir", type=Path, default=Path(), help="Where results go (default: .).")
    parser.add_argument(
        "--preset", choices=[preset.id for preset in PRESETS], help="A named preset (see GET /api/v1/presets)."
    )
    parser.add_argument("--width", type=int, help="Output width (default FACECRAFT_DEFAULT_WIDTH).")
    parser.add_argument("--height", type=int, help="Output height (default FACECRAFT_DEFAULT_HEIGHT).")
    parser.add_argument("--size", type=int, help="Square output: sets width and height.")
    parser.add_argument("--background", help="Background colour: r,g,b or #RRGGBB.")
    parser.add_argument("--margin", type=float, dest="face_margin", help="Face margin 0.0-1.0.")
    parser.add_argument("--oval", action=argparse.BooleanOptionalAction, dest="use_oval_mask", help="Oval mask.")
    parser.add_argument("--transparent", action=argparse.BooleanOptionalAction, dest="transparent_background")
    parser.add_argument("--enhance-face", action=argparse.BooleanOptionalAction)
    parser.add_argument("--fidelity", type=float, dest="enhance_fidelity", help="0 strongest .. 1 none.")
    parser.add_argument("--enhance-photo", action=argparse.BooleanOptionalAction)
    parser.add_argument("--matting", choices=[mode.value for mode in MattingMode])
    parser.add_argument("--face-policy", choices=[policy.value for policy in FacePolicy])
    parser.add_argument("-f", "--format", dest="output_format", choices=[fmt.value for fmt in OutputFormat])
    parser.add_argument("--max-kb", type=int, help="JPEG size cap in KB.")
    parser.set_defaults(handler=run)


def collect_inputs(inputs: list[Path]) -> list[Path]:
    """Files as given, plus the image files directly inside any folder given (sorted, not recursive)."""
    photos: list[Path] = []
    for item in inputs:
        if item.is_dir():
            photos.extend(sorted(p for p in item.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES))
        else:
            photos.append(item)
    return photos


def _options(args: argparse.Namespace) -> PortraitOptions:
    from facecraft.cli.main import settings_or_exit  # noqa: PLC0415 - avoids an import cycle
    from facecraft.imaging.compose import parse_color  # noqa: PLC0415

    # A preset's values first, then whatever was given explicitly, as the API does.
    overrides: dict[str, object] = get_preset(args.preset).option_values() if args.preset else {}
    overrides |= {name: getattr(args, name) for name in SCALAR_OPTIONS if getattr(args, name) is not None}
    if args.size is not None:
        overrides["width"] = overrides["height"] = args.size
    if args.background is not None:
        overrides["background"] = parse_color(args.background)
    return PortraitOptions.from_settings(settings_or_exit(), **overrides)


def _unique_target(output_dir: Path, stem: str, suffix: str, taken: set[Path]) -> Path:
    """`stem.suffix`, or `stem-2.suffix`... when two inputs share a stem (a.jpg and a.png)."""
    target = output_dir / f"{stem}.{suffix}"
    counter = 2
    while target in taken:
        target = output_dir / f"{stem}-{counter}.{suffix}"
        counter += 1
    taken.add(target)
    return target


def run(args: argparse.Namespace) -> int:
    from facecraft.cli.main import settings_or_exit  # noqa: PLC0415
    from facecraft.pipeline.factory import build_pipeline  # noqa: PLC0415 - loads models

    try:
        options = _options(args)
    except (ValidationError, FacecraftError) as exc:
        print(f"facecraft: invalid option: {exc}", file=sys.stderr)
        return 2
    photos = collect_inputs(args.inputs)
    if not photos:
        print("facecraft: no photos found in the given paths", file=sys.stderr)
        return 2
    try:
        pipeline = build_pipeline(settings_or_exit())
    except FacecraftError as exc:
        print(f"facecraft: {exc.code}: {exc.message}", file=sys.stderr)
        return 3
    args.output_dir.mkdir(parents=True, exist_ok=True)
    failures = 0
    taken: set[Path] = set()
    bar = tqdm(photos, unit="photo", disable=len(photos) < 2, file=sys.stderr)
    for photo in bar:
        try:
            outcome = process_photo(pipeline, photo.read_bytes(), options)
        except FacecraftError as exc:
            failures += 1
            tqdm.write(f"FAILED {photo}: {exc.code}: {exc.message}", file=sys.stderr)
            continue
        except OSError as exc:
            failures += 1
            tqdm.write(f"FAILED {photo}: unreadable: {exc.strerror}", file=sys.stderr)
            continue
        target = _unique_target(args.output_dir, photo.stem, options.output_format.value, taken)
        write_atomic(target, outcome.images[options.output_format].data)
        total = sum(outcome.result.timings_ms.values()) / 1000
        tqdm.write(f"ok     {photo} -> {target} (faces: {outcome.result.face_count}, {total:.2f} s)", file=sys.stderr)
    done = len(photos) - failures
    print(f"{done} processed, {failures} failed", file=sys.stderr)
    return 1 if failures else 0
