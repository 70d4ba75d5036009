"""Named output presets: ID-photo and profile-picture sizes as plain data.

A preset fills in width, height, background, oval, output format, JPEG size cap and margin; any option a
request also sends explicitly wins over the preset's value. The API lists them at GET /api/v1/presets and
accepts `preset=<id>` on /process, /process/quick and /process/batch; the web page at / offers them.

Pixel sizes at 300 dpi: 35 × 45 mm = 413 × 531 px (35 / 25.4 × 300 = 413.4), 2 × 2 in = 600 × 600 px.
The framing approximates the usual ID rules (head about 70-80 % of the height for `passport`), but the
authority that accepts the photo has the last word: check its rules for background and head size.
"""

from __future__ import annotations

from dataclasses import dataclass

from facecraft.config import OutputFormat
from facecraft.errors import InvalidOptionError
from facecraft.imaging.compose import parse_color


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
        }


PRESETS: tuple[Preset, ...] = (
    Preset(
        id="passport",
        label="Passport / ID, 35 × 45 mm",
        width=413,
        height=531,
        background="#f0f0f0",
        oval=False,
        format=OutputFormat.JPG,
        max_kb=500,
        face_margin=0.25,
        description="35 × 45 mm at 300 dpi (413 × 531 px), the ICAO size used by most passports and ID cards; "
        "plain light-grey background, no oval, JPEG.",
    ),
    Preset(
        id="us_visa",
        label="US passport / visa, 2 × 2 in",
        width=600,
        height=600,
        background="#ffffff",
        oval=False,
        format=OutputFormat.JPG,
        max_kb=240,
        face_margin=0.25,
        description="2 × 2 in at 300 dpi (600 × 600 px) on white, JPEG of at most 240 KB, as the online US visa "
        "application asks.",
    ),
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
