"""Named output presets: ID documents (from facecraft.standards) and profile-picture sizes as plain data.

A preset fills in width, height, background, oval, output format, JPEG size cap, margin and dpi; any option
a request also sends explicitly wins over the preset's value. The API lists them at GET /api/v1/presets and
accepts `preset=<id>` on /process, /process/quick and /process/batch; the web page at / offers them.

A document preset is made from its Document (size, background, file limits, dpi) and also sets `document`,
which frames the photo to the document's head and eye bands (pipeline/framing.py) and adds a compliance
report. Pixel sizes at 300 dpi: 35 × 45 mm = 413 × 531 px (35 / 25.4 × 300 = 413.4), 2 × 2 in = 600 × 600 px.
"""

from __future__ import annotations

from dataclasses import dataclass

from facecraft.config import OutputFormat
from facecraft.errors import InvalidOptionError
from facecraft.imaging.compose import parse_color
from facecraft.standards.documents import DOCUMENTS, Document, get_document


@dataclass(frozen=True)
class Preset:
    id: str
    label: str
    width: int
    height: int
    background: str  # '#rrggbb'; the JPEG background (and PNG/WebP with transparent_background=false)
    oval: bool
    format: OutputFormat
    max_kb: int
    face_margin: float
    description: str
    document: str | None = None  # the ID document whose rules frame and check the photo
    dpi: int = 300

    def option_values(self) -> dict[str, object]:
        """The preset as PortraitOptions field values."""
        return {
            "width": self.width,
            "height": self.height,
            "background": parse_color(self.background),
            "use_oval_mask": self.oval,
            "output_format": self.format,
            "max_kb": self.max_kb,
            "face_margin": self.face_margin,
            "dpi": self.dpi,
            "document": self.document,
        }

    def rules(self) -> dict[str, object] | None:
        """The document's published rules, or None for a plain size preset."""
        document = get_document(self.document) if self.document else None
        return document.rules() if document is not None else None


# A document preset's JPEG cap when the rule sets none: a 300-dpi print at quality 95 stays well below it.
_PRINT_MAX_KB = 500


def _document_preset(document: Document) -> Preset:
    head_low, head_high = document.head_band_mm
    bands = f"head {head_low:.3g}-{head_high:.3g} mm"
    if document.eye_share is not None:
        low, high = document.eye_share
        bands += f", eyes {low * document.height_mm:.3g}-{high * document.height_mm:.3g} mm from the bottom"
    return Preset(
        id=document.id,
        label=document.name,
        width=document.width_px,
        height=document.height_px,
        background=document.background,
        oval=False,
        format=OutputFormat.JPG,
        max_kb=document.files.max_kb or _PRINT_MAX_KB,
        face_margin=0.25,  # unused: the document's bands frame the photo
        description=f"{document.name} at {document.dpi} dpi ({document.width_px} × {document.height_px} px), "
        f"{bands}; {document.background_rule} background. Rules from {document.source.authority}.",
        document=document.id,
        dpi=document.dpi,
    )


PRESETS: tuple[Preset, ...] = (
    *(_document_preset(document) for document in DOCUMENTS),
    Preset(
        id="badge",
        label="Staff badge, 600 × 800",
        width=600,
        height=800,
        background="#f0f0f0",
        oval=False,
        format=OutputFormat.JPG,
        max_kb=300,
        face_margin=0.3,
        description="3:4 portrait (600 × 800 px, 2 × 2.67 in at 300 dpi) for ID badges and staff cards; "
        "light-grey background, JPEG.",
    ),
    Preset(
        id="square",
        label="Square headshot, 648 × 648",
        width=648,
        height=648,
        background="#f0f0f0",
        oval=True,
        format=OutputFormat.PNG,
        max_kb=99,
        face_margin=0.3,
        description="648 × 648 px, the size Microsoft 365 and Teams recommend for profile photos; "
        "feathered oval on a transparent background, PNG.",
    ),
    Preset(
        id="avatar",
        label="Round avatar, 256 × 256",
        width=256,
        height=256,
        background="#ffffff",
        oval=True,
        format=OutputFormat.PNG,
        max_kb=99,
        face_margin=0.25,
        description="256 × 256 px with an oval on a transparent background, PNG: chat and web profile pictures.",
    ),
    Preset(
        id="ad_thumbnail",
        label="AD thumbnail, 96 × 96",
        width=96,
        height=96,
        background="#f0f0f0",
        oval=False,
        format=OutputFormat.JPG,
        max_kb=99,
        face_margin=0.3,
        description="96 × 96 px JPEG under 100 KB, the size Active Directory's thumbnailPhoto attribute "
        "(Outlook, Exchange) expects.",
    ),
)

PRESET_IDS: tuple[str, ...] = tuple(p.id for p in PRESETS)
_BY_ID = {p.id: p for p in PRESETS}


def get_preset(preset_id: str) -> Preset:
    """The preset with this id; InvalidOptionError naming the field `preset` when there is none."""
    preset = _BY_ID.get(preset_id.strip().lower())
    if preset is None:
        raise InvalidOptionError(
            f"Unknown preset '{preset_id[:40]}'; use one of: {', '.join(PRESET_IDS)}.", field="preset"
        )
    return preset
