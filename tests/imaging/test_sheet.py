"""Print-sheet geometry: exact pixel size at 300 dpi, the dpi tag, copies, and cut lines between copies."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from facecraft.errors import InvalidOptionError
from facecraft.imaging.encode import encode_png
from facecraft.imaging.sheet import CUT_LINE, PAPERS, get_paper, make_sheet, plan_sheet, sheet_jpeg


def _photo(width: int, height: int) -> np.ndarray:
    rgb = np.zeros((height, width, 3), np.uint8)
    rgb[:] = (30, 90, 200)
    return rgb


@pytest.mark.parametrize(
    ("paper_id", "size_px"),
    [("4x6", (1800, 1200)), ("5x7", (2100, 1500)), ("a4", (3508, 2480)), ("letter", (3300, 2550))],
)
def test_sheet_has_the_papers_exact_size(paper_id: str, size_px: tuple[int, int]) -> None:
    paper = get_paper(paper_id)
    assert paper is not None
    layout = plan_sheet(paper, (413, 531))
    assert sorted(layout.sheet_px) == sorted(size_px)


def test_four_by_six_holds_eight_passport_photos_or_two_us_ones() -> None:
    paper = get_paper("4x6")
    assert paper is not None
    passport = plan_sheet(paper, (413, 531))
    assert (passport.sheet_px, passport.capacity) == ((1800, 1200), 8)
    assert plan_sheet(paper, (600, 600)).capacity == 2
    assert len(plan_sheet(paper, (413, 531), copies=3).origins) == 3
    with pytest.raises(ValueError, match="at most 8"):
        plan_sheet(paper, (413, 531), copies=9)


def test_copies_do_not_overlap_and_stay_on_the_paper() -> None:
    for paper in PAPERS:
        layout = plan_sheet(paper, (413, 531))
        boxes = [(x, y, x + 413, y + 531) for x, y in layout.origins]
        for left, top, right, bottom in boxes:
            assert left >= 0 and top >= 0 and right <= layout.sheet_px[0] and bottom <= layout.sheet_px[1]
        for i, a in enumerate(boxes):
            for b in boxes[i + 1 :]:
                assert (
                    a[2] + layout.gap_px <= b[0]
                    or b[2] + layout.gap_px <= a[0]
                    or a[3] + layout.gap_px <= b[1]
                    or b[3] + layout.gap_px <= a[1]
                )


def test_cut_lines_run_between_copies_and_copies_are_intact() -> None:
    paper = get_paper("4x6")
    assert paper is not None
    pixels, layout = make_sheet(_photo(413, 531), 300, paper)
    (x0, y0), (x1, _) = layout.origins[0], layout.origins[1]
    assert x1 - (x0 + 413) == layout.gap_px
    line_x = x0 + 413 + layout.gap_px // 2
    assert tuple(pixels[y0 + 100, line_x]) == CUT_LINE  # in the gap between two copies
    assert tuple(pixels[5, line_x]) == CUT_LINE  # and out to the paper's edge
    assert tuple(pixels[y0 + 100, x0 + 414]) == (255, 255, 255)  # the rest of the gap is white paper
    for x, y in layout.origins:
        assert (pixels[y : y + 531, x : x + 413] == (30, 90, 200)).all()


def test_sheet_jpeg_is_tagged_300_dpi_and_resamples_other_dpis() -> None:
    data, placed = sheet_jpeg(encode_png(_photo(413, 531), dpi=300), 300, "4x6", None)
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == (1800, 1200) and image.info["jfif_density"] == (300, 300)
    assert placed == 8
    # The same 35 x 45 mm photo made at 600 dpi prints at the same size.
    _, placed_600 = sheet_jpeg(encode_png(_photo(827, 1063), dpi=600), 600, "4x6", None)
    assert placed_600 == 8
    with pytest.raises(InvalidOptionError):
        sheet_jpeg(encode_png(_photo(413, 531)), 300, "legal", None)
    with pytest.raises(InvalidOptionError) as caught:
        sheet_jpeg(encode_png(_photo(413, 531)), 300, "4x6", 20)
    assert caught.value.details["field"] == "copies"
