"""Generate the documentation's tables from the code: models, presets and ID documents in README.md, the
environment variables in docs/configuration.md (the README must fit Docker Hub's 25,000-byte description).

    .venv/bin/python scripts/gen_readme_tables.py          # rewrite both files in place
    .venv/bin/python scripts/gen_readme_tables.py --check  # exit 1 when either is stale

The settings class, the model registry, the presets and the standards data are the single sources of truth;
tests/test_readme.py runs the --check mode, so a change to any of them not reflected in the docs fails.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from pydantic.fields import FieldInfo

from facecraft.config import Settings
from facecraft.models.registry import MODELS, Location
from facecraft.pipeline.presets import PRESETS
from facecraft.standards.documents import DOCUMENTS, Document

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
CONFIGURATION = REPO / "docs" / "configuration.md"
# Settings whose defaults are relative paths resolved against the working directory; the image sets
# absolute ones, which the table shows too.
IMAGE_DEFAULTS = {"models_dir": "/app/models", "upload_dir": "/app/uploads", "output_dir": "/app/processed"}


def _default(name: str, field: FieldInfo) -> str:
    value = field.get_default(call_default_factory=True)
    if value is None:
        text = "(unset)"
    elif isinstance(value, list):
        text = ",".join(str(item) for item in value)
    elif isinstance(value, bool):
        text = str(value).lower()
    else:
        text = str(getattr(value, "value", value))
    if name in IMAGE_DEFAULTS:
        text = f"{text} (image: {IMAGE_DEFAULTS[name]})"
    return f"`{text}`"


def env_table() -> str:
    rows = ["| Variable | Default | Description |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        description = (field.description or "").replace("|", "\\|")
        rows.append(f"| `FACECRAFT_{name.upper()}` | {_default(name, field)} | {description} |")
    return "\n".join(rows)


def model_table() -> str:
    rows = [
        "| Model | File | Size | SHA-256 | Source | Licence | Purpose |",
        "|---|---|---|---|---|---|---|",
    ]
    for spec in MODELS:
        where = "" if spec.location is Location.MODELS_DIR else " (inside the wheel)"
        rows.append(
            f"| {spec.name} | `{spec.file}`{where} | {spec.size_bytes / 1e6:.1f} MB | `{spec.sha256}` | "
            f"`{spec.source}` | {spec.licence} | {spec.purpose} |"
        )
    return "\n".join(rows)


def preset_table() -> str:
    rows = [
        "| `preset` | Pixels | Background | Oval | Format | `max_kb` | `face_margin` |",
        "|---|---|---|---|---|---|---|",
    ]
    for p in PRESETS:
        if p.document is None:
            oval = "yes" if p.oval else "no"
            rows.append(
                f"| `{p.id}` | {p.width} × {p.height} | `{p.background}` | {oval} | {p.format.value} | "
                f"{p.max_kb} | {p.face_margin} |"
            )
    return "\n".join(rows)


def _mm(low: float, high: float) -> str:
    return f"{low:.3g}–{high:.3g} mm"


def _limits(document: Document) -> str:
    files = document.files
    parts = [files.format.upper()]
    if files.min_px or files.max_px:
        parts.append(f"{files.min_px}–{files.max_px} px" + (" square" if files.square else ""))
    if files.max_kb:
        parts.append(f"≤ {files.max_kb} KB")
    return ", ".join(parts) if len(parts) > 1 else "—"


def document_table() -> str:
    rows = [
        "| `preset` | Size | Head, chin–crown | Eyes from bottom | Background | File | Source |",
        "|---|---|---|---|---|---|---|",
    ]
    for d in DOCUMENTS:
        inches = d.width_mm / 25.4
        size = (
            f"{inches:g} × {d.height_mm / 25.4:g} in"
            if inches == round(inches)
            else f"{d.width_mm:g} × {d.height_mm:g} mm"
        )
        head = _mm(*d.head_band_mm)
        if d.head_share_rule is not None:  # the rule is stated as shares of the height
            head += f" ({d.head_share_rule[0]:.0%}–{d.head_share_rule[1]:.0%})"
        eye = _mm(d.eye_share[0] * d.height_mm, d.eye_share[1] * d.height_mm) if d.eye_share else "—"
        if d.crown_margin_mm:
            eye += f" (crown {_mm(*d.crown_margin_mm)} from top)"
        host = d.source.url.split("/")[2].removeprefix("www.")
        background = d.background_rule.removeprefix("plain ")
        rows.append(f"| `{d.id}` | {size} | {head} | {eye} | {background} | {_limits(d)} | {host} |")
    return "\n".join(rows)


TABLES = {
    README: {"model-table": model_table, "preset-table": preset_table, "document-table": document_table},
    CONFIGURATION: {"env-table": env_table},
}


def render(path: Path, text: str) -> str:
    for marker, build in TABLES[path].items():
        pattern = re.compile(rf"(<!-- BEGIN {marker} -->\n)(?:.*?\n)?(<!-- END {marker} -->)", re.DOTALL)
        if not pattern.search(text):
            raise SystemExit(f"{path.name} lacks the <!-- BEGIN {marker} --> / <!-- END {marker} --> markers")
        replacement = build() + "\n"
        text = pattern.sub(lambda match, body=replacement: match.group(1) + body + match.group(2), text)
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="Only report whether README.md is up to date.")
    args = parser.parse_args()
    stale = []
    for path in TABLES:
        current = path.read_text(encoding="utf-8")
        updated = render(path, current)
        if updated == current:
            continue
        stale.append(path.relative_to(REPO))
        if not args.check:
            path.write_text(updated, encoding="utf-8")
    if args.check and stale:
        print(f"stale tables in {', '.join(map(str, stale))}: run `make docs-tables`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
