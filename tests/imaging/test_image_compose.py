"""Oval mask (defect D-15), colours (defect D-4: red must stay red), resizing."""

from __future__ import annotations

import io

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image

from facecraft.errors import InvalidOptionError
from facecraft.imaging import (
    composite_over_color,
    encode_jpeg,
    encode_png,
    oval_mask,
    parse_color,
    resize_alpha,
    resize_rgb,
)


@pytest.mark.parametrize("size", [64, 2000])
def test_oval_edge_is_soft_at_every_output_size(size: int) -> None:
    mask = oval_mask(size, size)
    assert mask.dtype == np.float32 and mask.shape == (size, size)
    centre_row = mask[size // 2]
    assert centre_row[0] == 0.0 and centre_row[-1] == 0.0
    assert centre_row[size // 2] == 1.0
    soft = np.unique(centre_row[(centre_row > 0) & (centre_row < 1)])
    assert len(soft) >= 3
    # Rising from the left edge to the centre without a step larger than half the range.
    rising = centre_row[: size // 2]
    assert np.all(np.diff(rising) >= 0)
    assert np.diff(rising).max() <= 0.5


@pytest.mark.parametrize(("width", "height"), [(100, 130), (648, 648), (300, 400), (37, 53)])
def test_oval_is_zero_on_every_frame_edge(width: int, height: int) -> None:
    mask = oval_mask(width, height)
    assert mask.shape == (height, width)
    for edge in (mask[0], mask[-1], mask[:, 0], mask[:, -1]):
        assert edge.max() == 0.0
    assert mask[height // 2, width // 2] == 1.0
    assert mask.min() >= 0.0 and mask.max() <= 1.0


def test_oval_feather_scales_with_output_size() -> None:
    def soft_fraction(size: int) -> float:
        row = oval_mask(size, size)[size // 2]
        return float(np.count_nonzero((row > 0) & (row < 1))) / size

    assert soft_fraction(400) == pytest.approx(soft_fraction(1600), abs=0.01)


def test_oval_mask_is_a_fresh_array() -> None:
    first = oval_mask(50, 60)
    first[:] = 0.5
    assert oval_mask(50, 60)[30, 25] == 1.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("255,0,0", (255, 0, 0)),
        (" 12 , 34 ,56 ", (12, 34, 56)),
        ("#FF0000", (255, 0, 0)),
        ("00ff7f", (0, 255, 127)),
        ("#f0a", (255, 0, 170)),
    ],
)
def test_parse_color_accepts(text: str, expected: tuple[int, int, int]) -> None:
    assert parse_color(text) == expected


@pytest.mark.parametrize(
    "text", ["", "red", "256,0,0", "-1,0,0", "1,2", "1,2,3,4", "#12345", "#GG0000", "fff", "1.5,2,3"]
)
def test_parse_color_rejects(text: str) -> None:
    with pytest.raises(InvalidOptionError) as caught:
        parse_color(text)
    assert caught.value.code == "invalid_option"


def test_red_background_is_red_in_array_png_and_jpeg() -> None:
    rgb = np.full((32, 32, 3), 90, np.uint8)
    alpha = np.zeros((32, 32), np.float32)  # nothing opaque: the whole frame is background
    out = composite_over_color(rgb, alpha, parse_color("255,0,0"))
    assert np.all(out == np.array([255, 0, 0], np.uint8))
    png = np.asarray(Image.open(io.BytesIO(encode_png(out))).convert("RGB"))
    assert tuple(png[16, 16]) == (255, 0, 0)
    jpeg = np.asarray(Image.open(io.BytesIO(encode_jpeg(out, 95))).convert("RGB"))
    red, green, blue = (int(v) for v in jpeg[16, 16])
    assert red >= 250 and green <= 5 and blue <= 5


def test_composite_rounds_and_keeps_opaque_pixels() -> None:
    rgb = np.array([[[200, 100, 0], [0, 0, 0], [255, 255, 255]]], np.uint8)
    alpha = np.array([[1.0, 0.5, 0.5]], np.float32)
    out = composite_over_color(rgb, alpha, (255, 255, 0))
    assert tuple(out[0, 0]) == (200, 100, 0)
    assert tuple(out[0, 1]) == (128, 128, 0)  # 127.5 rounds up; truncation would give 127
    assert tuple(out[0, 2]) == (255, 255, 128)


def test_resize_shrink_and_enlarge(astronaut: npt.NDArray[np.uint8]) -> None:
    small = resize_rgb(astronaut, 100, 80)
    assert small.shape == (80, 100, 3) and small.dtype == np.uint8
    large = resize_rgb(astronaut, 1100, 1000)
    assert large.shape == (1000, 1100, 3)
    assert abs(float(large.mean()) - float(astronaut.mean())) < 2


def test_resize_alpha_stays_in_range() -> None:
    hard_edge = np.zeros((20, 20), np.float32)
    hard_edge[:, 10:] = 1.0
    for width, height in ((200, 200), (7, 7)):
        resized = resize_alpha(hard_edge, width, height)
        assert resized.dtype == np.float32 and resized.shape == (height, width)
        assert resized.min() >= 0.0 and resized.max() <= 1.0


@pytest.mark.parametrize(("width", "height"), [(0, 10), (10, -1)])
def test_resize_rejects_empty_sizes(width: int, height: int) -> None:
    with pytest.raises(InvalidOptionError):
        resize_rgb(np.zeros((4, 4, 3), np.uint8), width, height)
