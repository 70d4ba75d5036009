"""Document rules as data: size, head and eye bands, background, file limits, and where each figure comes from.

Every figure below was checked on 2026-11-29 with the project's search tool against copies of the authority's
own page (the machines that build Facecraft have no web access, so the official page itself could not be
opened; `verified_via` names the copies that quote it word for word). The authority named in `source` has the
last word: a figure that changes there must change here, and the README table (generated from this module by
scripts/gen_readme_tables.py) follows.

Shares are fractions of the picture height. The eye line is measured from the bottom edge, as the rules
state it. Physical sizes are in millimetres; pixel sizes are at the document's dpi (300 unless stated).
"""

from __future__ import annotations

from dataclasses import dataclass, field

MM_PER_INCH = 25.4


@dataclass(frozen=True)
class Source:
    authority: str
    url: str
    checked: str  # ISO date the figures were last compared with the source
    verified_via: tuple[str, ...] = ()  # the copies of the authority's text the figures were read from


@dataclass(frozen=True)
class FileLimits:
    """Limits for a digital upload; None where the rule sets none (printed photos)."""

    format: str = "jpg"
    min_kb: int | None = None
    max_kb: int | None = None
    min_px: int | None = None  # on each side
    max_px: int | None = None
    square: bool = False


@dataclass(frozen=True)
class Document:
    id: str
    name: str
    width_mm: float
    height_mm: float
    head_mm: tuple[float, float] | None  # chin to crown (top of the hair), when the rule is in mm
    source: Source
    background: str  # '#rrggbb' painted behind the subject
    background_rule: str  # what the rule allows, in words
    head_share_rule: tuple[float, float] | None = None  # when the rule is stated as shares of the height
    eye_mm: tuple[float, float] | None = None  # eye line above the bottom edge
    eye_share_rule: tuple[float, float] | None = None
    crown_margin_mm: tuple[float, float] | None = None  # top edge to the crown, where the rule gives one
    dpi: int = 300
    files: FileLimits = field(default_factory=FileLimits)
    notes: str = ""

    @property
    def width_px(self) -> int:
        return round(self.width_mm / MM_PER_INCH * self.dpi)

    @property
    def height_px(self) -> int:
        return round(self.height_mm / MM_PER_INCH * self.dpi)

    @property
    def head_share(self) -> tuple[float, float]:
        """Head height (chin to crown) as shares of the picture height."""
        if self.head_share_rule is not None:
            return self.head_share_rule
        assert self.head_mm is not None
        return (self.head_mm[0] / self.height_mm, self.head_mm[1] / self.height_mm)

    @property
    def head_band_mm(self) -> tuple[float, float]:
        low, high = self.head_share
        return (low * self.height_mm, high * self.height_mm)

    @property
    def eye_share(self) -> tuple[float, float] | None:
        """Eye line above the bottom edge, as shares of the picture height; None when the rule has none."""
        if self.eye_share_rule is not None:
            return self.eye_share_rule
        if self.eye_mm is not None:
            return (self.eye_mm[0] / self.height_mm, self.eye_mm[1] / self.height_mm)
        return None

    @property
    def crown_margin_share(self) -> tuple[float, float] | None:
        if self.crown_margin_mm is None:
            return None
        return (self.crown_margin_mm[0] / self.height_mm, self.crown_margin_mm[1] / self.height_mm)

    def rules(self) -> dict[str, object]:
        """The rules as JSON-ready data (GET /api/v1/presets lists them with each document preset)."""
        eye = self.eye_share
        return {
            "document": self.id,
            "name": self.name,
            "size_mm": [self.width_mm, self.height_mm],
            "size_px": [self.width_px, self.height_px],
            "dpi": self.dpi,
            "head_height_mm": [round(v, 1) for v in self.head_band_mm],
            "head_height_share": [round(v, 3) for v in self.head_share],
            "eye_line_from_bottom_mm": [round(v * self.height_mm, 1) for v in eye] if eye else None,
            "eye_line_from_bottom_share": [round(v, 3) for v in eye] if eye else None,
            "crown_margin_mm": list(self.crown_margin_mm) if self.crown_margin_mm else None,
            "background": self.background,
            "background_rule": self.background_rule,
            "file": {
                "format": self.files.format,
                "min_kb": self.files.min_kb,
                "max_kb": self.files.max_kb,
                "min_px": self.files.min_px,
                "max_px": self.files.max_px,
                "square": self.files.square,
            },
            "source": {
                "authority": self.source.authority,
                "url": self.source.url,
                "checked": self.source.checked,
                "verified_via": list(self.source.verified_via),
            },
            "notes": self.notes,
        }


_CHECKED = "2026-11-29"
_INCH = MM_PER_INCH

DOCUMENTS: tuple[Document, ...] = (
    Document(
        id="passport",
        name="Passport / Schengen visa (ICAO 9303), 35 × 45 mm",
        width_mm=35,
        height_mm=45,
        head_mm=(32, 36),
        background="#f0f0f0",
        background_rule="plain light (white or light grey)",
        source=Source(
            "ICAO Doc 9303 part 3 photo guidelines; EU Visa Code (Schengen) photo specification",
            "https://www.icao.int/publications/pages/publication.aspx?docnum=9303",
            _CHECKED,
            ("passport-photos.net/category/schengen-visapassport (32-36 mm, 70-80 %)",),
        ),
        notes="The common 35 × 45 mm rule of most passports and ID cards: face 70-80 % of the height.",
    ),
    Document(
        id="uk_passport",
        name="UK passport, 35 × 45 mm",
        width_mm=35,
        height_mm=45,
        head_mm=(29, 34),
        background="#eeeeee",
        background_rule="plain cream or light grey",
        source=Source(
            "HM Passport Office (GOV.UK, Photos for passports)",
            "https://www.gov.uk/photos-for-passports",
            _CHECKED,
            ("gov.tc/passports/photos", "portrait4u.co.uk/uk-british-passport-photograph"),
        ),
        notes="Smaller head than ICAO's 32-36 mm: an ICAO crop can be too big for the UK.",
    ),
    Document(
        id="us_passport",
        name="US passport, 2 × 2 in",
        width_mm=2 * _INCH,
        height_mm=2 * _INCH,
        head_mm=(1 * _INCH, 1.375 * _INCH),
        eye_mm=(1.125 * _INCH, 1.375 * _INCH),
        background="#ffffff",
        background_rule="plain white or off-white",
        source=Source(
            "U.S. Department of State, passport photo requirements and photo composition template",
            "https://travel.state.gov/content/travel/en/passports/how-apply/photos.html",
            _CHECKED,
            (
                "bg.usembassy.gov/visas/nonimmigrant-visas/photo-requirements (head 1-1 3/8 in)",
                "ynyoo.com (eye line 1 1/8-1 3/8 in from the bottom, from the composition template)",
            ),
        ),
    ),
    Document(
        id="us_visa",
        name="US visa, DS-160 upload (600 × 600 px JPEG)",
        width_mm=2 * _INCH,
        height_mm=2 * _INCH,
        head_mm=None,
        head_share_rule=(0.50, 0.69),
        eye_share_rule=(0.56, 0.69),
        background="#ffffff",
        background_rule="plain white or off-white",
        files=FileLimits(format="jpg", max_kb=240, min_px=600, max_px=1200, square=True),
        source=Source(
            "U.S. Department of State, digital image requirements for visa applications",
            "https://travel.state.gov/content/travel/en/us-visas/visa-information-resources/photos.html",
            _CHECKED,
            (
                "france.usembassy.gov/niv/photo.html (square, 600-1200 px, JPEG, <= 240 KB, compression <= 20:1)",
                "visapicpro.com/us-visa-photo-size (head 50-69 %, eyes 56-69 % from the bottom)",
            ),
        ),
        notes="Square JPEG of 600-1200 px, at most 240 KB; prints as 2 × 2 in at 300 dpi.",
    ),
    Document(
        id="canada_passport",
        name="Canadian passport, 50 × 70 mm",
        width_mm=50,
        height_mm=70,
        head_mm=(31, 36),
        background="#ffffff",
        background_rule="plain white or light-coloured",
        source=Source(
            "Government of Canada (IRCC), passport photo requirements",
            "https://www.canada.ca/en/immigration-refugees-citizenship/services/canadian-passports/photos.html",
            _CHECKED,
            (
                "123passportphoto.com (quotes canada.ca: 50 × 70 mm, face 31-36 mm chin to crown)",
                "theupsstore.ca/tag/passport",
            ),
        ),
        notes="Crown means the natural top of the head; the printed photo also needs the studio's stamp.",
    ),
    Document(
        id="china_passport",
        name="Chinese passport / travel document, 33 × 48 mm",
        width_mm=33,
        height_mm=48,
        head_mm=(28, 33),
        crown_margin_mm=(3, 5),
        background="#ffffff",
        background_rule="plain white",
        source=Source(
            "Consular service of the PRC Ministry of Foreign Affairs, passport photo requirements",
            "https://cs.mfa.gov.cn/",
            _CHECKED,
            (
                "backgroundremoval.passlens.com (33 × 48 mm, head 28-33 mm, 3-5 mm above the head, chin >= 7 mm)",
                "idphoto4you.com (33 × 48 mm, head 28-33 mm)",
            ),
        ),
        notes="Head width 15-22 mm is also asked for (not checked: it follows from a correct head height).",
    ),
    Document(
        id="japan_passport",
        name="Japanese passport, 35 × 45 mm",
        width_mm=35,
        height_mm=45,
        head_mm=(32, 36),
        crown_margin_mm=(2, 6),
        background="#ffffff",
        background_rule="plain white or off-white",
        source=Source(
            "Ministry of Foreign Affairs of Japan, passport photo specification",
            "https://www.mofa.go.jp/mofaj/toko/passport/ic_photo.html",
            _CHECKED,
            (
                "goodwinsonline.com (32-36 mm chin to crown, 2-6 mm above the head)",
                "ramune-photo.com (MOFA: face 32-36 mm, top margin 2-6 mm)",
            ),
        ),
    ),
    Document(
        id="australia_passport",
        name="Australian passport, 35 × 45 mm",
        width_mm=35,
        height_mm=45,
        head_mm=(32, 36),
        background="#ffffff",
        background_rule="plain white or light-coloured",
        source=Source(
            "Australian Passport Office, photo guidelines",
            "https://www.passports.gov.au/getting-passport-how-it-works/photo-guidelines",
            _CHECKED,
            ("docslib.org copy of the APO 'Guidelines for the photographic industry' (35-40 × 45-50 mm, 32-36 mm)",),
        ),
        notes="The rule allows 35-40 × 45-50 mm; this preset makes the common 35 × 45 mm.",
    ),
)

DOCUMENT_IDS: tuple[str, ...] = tuple(d.id for d in DOCUMENTS)
_BY_ID = {d.id: d for d in DOCUMENTS}


def get_document(document_id: str) -> Document | None:
    return _BY_ID.get(document_id.strip().lower())
