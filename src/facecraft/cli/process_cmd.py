"""`facecraft process PHOTO_OR_DIR... [-o DIR]`: headshots from files, without a server."""

from __future__ import annotations

import argparse
import sys
from enum import Enum
from pathlib import Path
from typing import Any, get_args

from pydantic import ValidationError
from tqdm import tqdm

from facecraft.errors import FacecraftError
from facecraft.files import write_atomic
from facecraft.jobs.processing import process_photo
from facecraft.pipeline.options import OptionRequest, PortraitOptions
from facecraft.pipeline.presets import PRESET_IDS

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".heic", ".heif", ".avif"}


# Short or original names kept beside the generated --<option-name> flags.
_ALIASES = {
    "face_margin": ["--margin"],
    "use_oval_mask": ["--oval"],
    "transparent_background": ["--transparent"],
    "enhance_fidelity": ["--fidelity"],
    "output_format": ["-f", "--format"],
}


def _add_option_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per field of OptionRequest (the API's form fields), with its type, choices and help."""
    for name, field in OptionRequest.model_fields.items():
        flags = [f"--{name.replace('_', '-')}", *_ALIASES.get(name, [])]
        kind = next(a for a in get_args(field.annotation) if a is not type(None))
        extra: dict[str, Any] = {"dest": name, "help": field.description}
        if kind is bool:
            extra["action"] = argparse.BooleanOptionalAction
        elif isinstance(kind, type) and issubclass(kind, Enum):
            extra["choices"] = [member.value for member in kind]
        elif name == "preset":
            extra["choices"] = list(PRESET_IDS)
        else:
            extra["type"] = kind
        parser.add_argument(*flags, **extra)


def register(commands: Any) -> None:
    parser = commands.add_parser("process", help="Process photos or folders of photos into headshots.")
    parser.add_argument("inputs", nargs="+", type=Path, help="Photos, or folders whose photos are processed.")
    parser.add_argument("-o", "--output-dir", type=Path, default=Path(), help="Where results go (default: .).")
    _add_option_flags(parser)
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
    """The same merge as the API's: settings < preset < size < explicit flags."""
    from facecraft.cli.main import settings_or_exit  # noqa: PLC0415 - avoids an import cycle

    given = {name: getattr(args, name) for name in OptionRequest.model_fields if getattr(args, name) is not None}
    return OptionRequest.model_validate(given).resolve(settings_or_exit())


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
        turn = outcome.result.turn_degrees
        turned = f", turned {turn} deg to find the face" if turn else ""
        tqdm.write(
            f"ok     {photo} -> {target} (faces: {outcome.result.face_count}{turned}, {total:.2f} s)", file=sys.stderr
        )
    done = len(photos) - failures
    print(f"{done} processed, {failures} failed", file=sys.stderr)
    return 1 if failures else 0
