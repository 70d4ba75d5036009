"""Print sheets: copies of one ID photo laid out on photo paper at its exact physical size, with cut marks.

Pure layout and drawing, no models. The sheet is drawn at 300 dpi so that printing it at 100 % gives every
copy its true size: 4 × 6 in is exactly 1800 × 1200 px. The photo keeps its own pixel size when it is
already at the sheet's dpi (a 300-dpi preset: 35 × 45 mm = 413 × 531 px); otherwise it is resampled to its
physical size. Both orientations of the paper are tried and the one holding more copies wins; the grid is
centred, with a small gap between copies, and thin grey cut lines run through the gaps and out to the edges.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from facecraft.errors import InvalidOptionError
from facecraft.imaging.decode import decode_image
from facecraft.imaging.encode import encode_jpeg

MM_PER_INCH = 25.4
SHEET_DPI = 300


@dataclass(frozen=True)
class Paper:
    id: str
    label: str
    width_mm: float  # portrait orientation: width <= height
    height_mm: float


PAPERS: tuple[Paper, ...] = (
    Paper("4x6", "4 × 6 in (10 × 15 cm)", 4 * MM_PER_INCH, 6 * MM_PER_INCH),
    Paper("5x7", "5 × 7 in (13 × 18 cm)", 5 * MM_PER_INCH, 7 * MM_PER_INCH),
    Paper("a4", "A4 (210 × 297 mm)", 210, 297),
    Paper("letter", "US Letter (8.5 × 11 in)", 8.5 * MM_PER_INCH, 11 * MM_PER_INCH),
)
PAPER_IDS: tuple[str, ...] = tuple(p.id for p in PAPERS)
_BY_ID = {p.id: p for p in PAPERS}

MARGIN_MM = 3.0  # printers seldom print the last millimetres of the paper
GAP_MM = 2.0  # between copies: room for the cut line and a scissor's error
CUT_LINE = (160, 160, 160)


def get_paper(paper_id: str) -> Paper | None:
    return _BY_ID.get(paper_id.strip().lower())


def mm_to_px(mm: float, dpi: int = SHEET_DPI) -> int:
    return round(mm / MM_PER_INCH * dpi)


@dataclass(frozen=True)
class Layout:
    sheet_px: tuple[int, int]  # width, height
    photo_px: tuple[int, int]
    columns: int
    rows: int
    origins: tuple[tuple[int, int], ...]  # top-left corner of each copy, row by row
    gap_px: int

    @property
    def capacity(self) -> int:
        return self.columns * self.rows


def _grid(sheet: tuple[int, int], photo: tuple[int, int], margin: int, gap: int) -> tuple[int, int]:
    usable_w, usable_h = sheet[0] - 2 * margin, sheet[1] - 2 * margin
    columns = max(0, (usable_w + gap) // (photo[0] + gap))
    rows = max(0, (usable_h + gap) // (photo[1] + gap))
    return int(columns), int(rows)


def plan_sheet(paper: Paper, photo_px: tuple[int, int], copies: int | None = None, dpi: int = SHEET_DPI) -> Layout:
    """Where the copies go. `copies` None: as many as fit; more than fit raises ValueError."""
    margin, gap = mm_to_px(MARGIN_MM, dpi), mm_to_px(GAP_MM, dpi)
    portrait = (mm_to_px(paper.width_mm, dpi), mm_to_px(paper.height_mm, dpi))
    landscape = (portrait[1], portrait[0])
    options = [(sheet, _grid(sheet, photo_px, margin, gap)) for sheet in (landscape, portrait)]
    sheet, (columns, rows) = max(options, key=lambda item: item[1][0] * item[1][1])  # landscape wins a tie
    capacity = columns * rows
    if capacity == 0:
        raise ValueError(f"a {photo_px[0]} × {photo_px[1]} px photo does not fit on {paper.label}")
    wanted = capacity if copies is None else copies
    if not 1 <= wanted <= capacity:
        raise ValueError(f"{paper.label} holds at most {capacity} copies of this photo")
    # Use as few rows as the copies need, and centre the block they fill.
    rows_used = math.ceil(wanted / columns)
    columns_used = min(columns, wanted)
    block_w = columns_used * photo_px[0] + (columns_used - 1) * gap
    block_h = rows_used * photo_px[1] + (rows_used - 1) * gap
    left, top = (sheet[0] - block_w) // 2, (sheet[1] - block_h) // 2
    origins = tuple(
        (left + (i % columns_used) * (photo_px[0] + gap), top + (i // columns_used) * (photo_px[1] + gap))
        for i in range(wanted)
    )
    return Layout(sheet, photo_px, columns_used, rows_used, origins, gap)


def photo_at_dpi(rgb: npt.NDArray[np.uint8], photo_dpi: int, dpi: int = SHEET_DPI) -> npt.NDArray[np.uint8]:
    """The photo resampled so it prints at its physical size on a `dpi` sheet (unchanged when the dpi match)."""
    if photo_dpi == dpi:
        return rgb
    height, width = rgb.shape[:2]
    size = (max(1, round(width * dpi / photo_dpi)), max(1, round(height * dpi / photo_dpi)))
    interpolation = cv2.INTER_AREA if size[0] < width else cv2.INTER_CUBIC
    return np.asarray(cv2.resize(rgb, size, interpolation=interpolation), dtype=np.uint8)


def draw_sheet(rgb: npt.NDArray[np.uint8], layout: Layout) -> npt.NDArray[np.uint8]:
    """White paper, the copies, and a 1-px grey cut line centred in every gap and along the block's edges,
    running to the paper's edges so the guillotine can be lined up from outside."""
    width, height = layout.sheet_px
    sheet = np.full((height, width, 3), 255, np.uint8)
    photo_w, photo_h = layout.photo_px
    if rgb.shape[:2] != (photo_h, photo_w):
        raise ValueError("photo size does not match the layout")
    after = layout.gap_px // 2  # the line's offset past a copy's edge; the next copy starts gap - after past it
    before = layout.gap_px - after
    xs: set[int] = set()
    ys: set[int] = set()
    for x, y in layout.origins:
        xs.update((x - before, x + photo_w + after))
        ys.update((y - before, y + photo_h + after))
    for x in xs:
        if 0 <= x < width:
            sheet[:, x] = CUT_LINE
    for y in ys:
        if 0 <= y < height:
            sheet[y, :] = CUT_LINE
    for x, y in layout.origins:
        sheet[y : y + photo_h, x : x + photo_w] = rgb
    return sheet


def make_sheet(
    rgb: npt.NDArray[np.uint8], photo_dpi: int, paper: Paper, copies: int | None = None
) -> tuple[npt.NDArray[np.uint8], Layout]:
    """The sheet's pixels (at SHEET_DPI) and its layout, for a flattened photo made at `photo_dpi`."""
    photo = photo_at_dpi(rgb, photo_dpi)
    layout = plan_sheet(paper, (photo.shape[1], photo.shape[0]), copies)
    return draw_sheet(photo, layout), layout


_SHEET_QUALITY = 95


def sheet_jpeg(photo_png: bytes, photo_dpi: int, paper_id: str, copies: int | None) -> tuple[bytes, int]:
    """The sheet as a 300-dpi JPEG, and how many copies it holds."""
    paper = get_paper(paper_id)
    if paper is None:
        raise InvalidOptionError(f"Unknown paper '{paper_id[:20]}'; use one of: {', '.join(PAPER_IDS)}.", field="paper")
    rgb = decode_image(photo_png, max_bytes=len(photo_png) + 1, max_pixels=100_000_000).rgb
    try:
        pixels, layout = make_sheet(rgb, photo_dpi, paper, copies)
    except ValueError as exc:
        raise InvalidOptionError(f"{exc}.", field="copies") from None
    return encode_jpeg(pixels, _SHEET_QUALITY, dpi=SHEET_DPI), len(layout.origins)
