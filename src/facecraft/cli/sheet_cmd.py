"""`facecraft sheet PHOTO --preset us_passport --paper 4x6`: a print sheet of one photo, without a server."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from facecraft.cli.process_cmd import _add_option_flags, _options
from facecraft.config import OutputFormat
from facecraft.errors import FacecraftError
from facecraft.files import write_atomic
from facecraft.imaging.sheet import PAPER_IDS, sheet_jpeg
from facecraft.jobs.processing import process_photo


def register(commands: Any) -> None:
    parser = commands.add_parser("sheet", help="Lay out copies of one photo on a 300-dpi print sheet with cut marks.")
    parser.add_argument("photo", type=Path, help="The photo.")
    parser.add_argument("--paper", choices=list(PAPER_IDS), default="4x6", help="Paper size (default 4x6).")
    parser.add_argument("--copies", type=int, help="Copies (default: as many as fit).")
    parser.add_argument("-o", "--output", type=Path, help="Where the sheet goes (default: PHOTO-sheet.jpg).")
    _add_option_flags(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from facecraft.cli.main import settings_or_exit  # noqa: PLC0415
    from facecraft.pipeline.factory import build_pipeline  # noqa: PLC0415 - loads models

    try:
        options = _options(args).model_copy(update={"output_format": OutputFormat.PNG, "transparent_background": False})
    except (ValidationError, FacecraftError) as exc:
        print(f"facecraft: invalid option: {exc}", file=sys.stderr)
        return 2
    try:
        pipeline = build_pipeline(settings_or_exit())
        outcome = process_photo(pipeline, args.photo.read_bytes(), options)
        sheet, placed = sheet_jpeg(outcome.images[OutputFormat.PNG].data, options.dpi, args.paper, args.copies)
    except FacecraftError as exc:
        print(f"facecraft: {exc.code}: {exc.message}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"facecraft: {args.photo}: unreadable: {exc.strerror}", file=sys.stderr)
        return 1
    target = args.output or args.photo.with_name(f"{args.photo.stem}-sheet.jpg")
    write_atomic(target, sheet)
    compliance = outcome.result.compliance
    verdict = "" if compliance is None else f", compliance: {'pass' if compliance['passed'] else 'fail'}"
    print(f"{target}: {placed} copies on {args.paper}{verdict}", file=sys.stderr)
    return 0
