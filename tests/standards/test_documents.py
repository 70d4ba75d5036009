"""The standards data: every document's figures are self-consistent and match the published rules."""

from __future__ import annotations

import json

import pytest

from facecraft.pipeline.presets import PRESET_IDS, get_preset
from facecraft.standards.documents import DOCUMENT_IDS, DOCUMENTS, get_document


def test_every_document_has_a_preset_with_its_size_dpi_and_source() -> None:
    for document in DOCUMENTS:
        preset = get_preset(document.id)
        assert (preset.width, preset.height) == (document.width_px, document.height_px)
        assert preset.document == document.id and preset.dpi == document.dpi == 300
        assert document.source.url.startswith("https://") and document.source.checked
        assert document.source.verified_via, f"{document.id}: no record of where the figures were read"
        low, high = document.head_share
        assert 0.3 < low < high < 0.9


def test_the_plain_presets_are_kept() -> None:
    for preset_id in ("badge", "square", "avatar", "ad_thumbnail"):
        assert preset_id in PRESET_IDS
        assert get_preset(preset_id).document is None


@pytest.mark.parametrize(
    ("document_id", "size_px", "head_mm", "eye_mm"),
    [
        ("passport", (413, 531), (32, 36), None),
        ("uk_passport", (413, 531), (29, 34), None),
        ("us_passport", (600, 600), (25.4, 34.9), (28.6, 34.9)),
        ("us_visa", (600, 600), (25.4, 35.1), (28.4, 35.1)),
        ("canada_passport", (591, 827), (31, 36), None),
        ("china_passport", (390, 567), (28, 33), None),
        ("japan_passport", (413, 531), (32, 36), None),
        ("australia_passport", (413, 531), (32, 36), None),
    ],
)
def test_published_figures(
    document_id: str, size_px: tuple[int, int], head_mm: tuple[float, float], eye_mm: tuple[float, float] | None
) -> None:
    document = get_document(document_id)
    assert document is not None
    assert (document.width_px, document.height_px) == size_px
    assert document.head_band_mm == pytest.approx(head_mm, abs=0.1)
    share = document.eye_share
    if eye_mm is None:
        assert share is None
    else:
        assert share is not None
        assert (share[0] * document.height_mm, share[1] * document.height_mm) == pytest.approx(eye_mm, abs=0.1)


def test_us_visa_file_limits() -> None:
    document = get_document("us_visa")
    assert document is not None
    files = document.files
    assert (files.format, files.max_kb, files.min_px, files.max_px, files.square) == ("jpg", 240, 600, 1200, True)
    assert get_preset("us_visa").max_kb == 240


def test_rules_are_json_ready() -> None:
    for document_id in DOCUMENT_IDS:
        rules = get_preset(document_id).rules()
        assert rules is not None
        text = json.dumps(rules)
        assert document_id in text and "head_height_mm" in text
