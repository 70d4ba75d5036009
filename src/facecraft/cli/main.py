"""`facecraft serve | process | models | config`: the command line."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from urllib.parse import urlsplit, urlunsplit

from pydantic import ValidationError

from facecraft import __version__
from facecraft.config import Settings, get_settings
from facecraft.logs import quiet_native_logs


def settings_or_exit() -> Settings:
    """The settings, or exit with one line per invalid FACECRAFT_* variable."""
    try:
        return get_settings()
    except ValidationError as exc:
        sys.exit(f"facecraft: invalid configuration:\n{format_settings_error(exc)}")


def format_settings_error(exc: ValidationError) -> str:
    """One line per bad variable, named as the user sets it (FACECRAFT_...)."""
    lines = []
    for error in exc.errors():
        name = "FACECRAFT_" + "_".join(str(part) for part in error["loc"]).upper()
        lines.append(f"  {name}: {error['msg']} (got {error.get('input')!r})")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    from facecraft.cli import models_cmd, process_cmd, serve_cmd, sheet_cmd, worker_cmd  # noqa: PLC0415

    parser = argparse.ArgumentParser(prog="facecraft", description="Self-hosted portrait processing.")
    parser.add_argument("--version", action="version", version=f"facecraft {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="Log at DEBUG (also the native libraries' own lines)."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve_cmd.register(commands)
    process_cmd.register(commands)
    sheet_cmd.register(commands)
    models_cmd.register(commands)
    worker_cmd.register(commands)
    config = commands.add_parser("config", help="Print the effective settings (secrets hidden).")
    config.set_defaults(handler=_print_config)
    return parser


def _print_config(_: argparse.Namespace) -> int:
    settings = settings_or_exit()
    for name, value in settings.model_dump(mode="json").items():
        print(f"FACECRAFT_{name.upper()}={_shown(name, value)}")
    return 0


def _shown(name: str, value: object) -> str:
    """A setting as the variable would be written, with secrets hidden (a Redis URL's password too)."""
    if name in ("api_key", "webhook_secret"):
        return "(set)" if value else ""
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    if name == "queue_url" and isinstance(value, str):
        parts = urlsplit(value)
        if parts.password:
            user = f"{parts.username}:" if parts.username else ":"
            return urlunsplit(parts._replace(netloc=f"{user}***@{parts.netloc.rsplit('@', 1)[1]}"))
    return "" if value is None else str(value)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.verbose:
        os.environ["FACECRAFT_LOG_LEVEL"] = "DEBUG"
    settings = settings_or_exit()
    quiet_native_logs(settings.log_level)  # before anything loads mediapipe
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
