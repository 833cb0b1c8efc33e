"""Pictures of pages as people make them, before tesseract (``tools.documents.picture.clean``
and ``tools.documents.ocr.ocr_image``): uneven light evened out (a page lit evenly is left as it
is), a sheet photographed on a desk seen square-on, small print enlarged, a page fed in sideways
or upside down read upright; every word's provenance box mapped back onto the picture as given."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from tools.documents.picture import clean, even_light, paper_light, sheet_corners


def _page(width: int = 900, height: int = 1200) -> np.ndarray:
    """Dark text lines on white paper, with a solid dark picture in one corner."""
    from PIL import ImageFont

    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=22)  # Pillow's own font: no system font needed
    for row in range(200, height - 60, 40):
        draw.text((60, row), "Rechnung 4711 Betrag 1.234,56 EUR", fill=20, font=font)
    draw.rectangle((width - 220, 40, width - 60, 160), fill=30)  # a logo
    return np.asarray(image)


def _lit(page: np.ndarray, fall_off: float) -> np.ndarray:
    """``page`` with the light falling off from left to right to ``1 - fall_off``, grey paper."""
    width = page.shape[1]
    light = 1.0 - fall_off * np.linspace(0.0, 1.0, width, dtype=np.float32)[None, :]
    return np.clip((30 + page.astype(np.float32) * 185 / 255) * light, 0, 255).astype(np.uint8)


def _ink(gray: np.ndarray) -> np.ndarray:
    """The pixels Otsu's threshold calls ink."""
    import cv2

    _, binary = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return binary == 0


def test_a_page_lit_unevenly_binarises_as_the_evenly_lit_page_does() -> None:
    page = _page()
    truth = page < 128
    photo = _lit(page, fall_off=0.55)
    # One threshold over the raw photo: the dim side's paper comes out as ink.
    raw = _ink(photo)
    assert (raw & ~truth).mean() > 0.2
    levelled = _ink(even_light(photo))
    assert (levelled != truth).mean() < 0.01
    assert (levelled & truth).sum() > 0.95 * truth.sum()


def test_an_evenly_lit_page_is_left_as_it_is() -> None:
    scan = _lit(_page(), fall_off=0.05)  # a scanner's few percent
    assert paper_light(scan) is None
    assert even_light(scan) is scan


def test_the_dark_picture_does_not_bend_the_paper_surface() -> None:
    """The logo's blocks lie far below the paper; the robust fit drops them, so the surface is
    the light's alone (here a straight fall-off from 215 to about 97)."""
    photo = _lit(_page(), fall_off=0.55)
    light = paper_light(photo)
    assert light is not None
    assert abs(float(light[100, 780]) - float(light[1100, 780])) < 6  # same column, logo above
    left, right = float(light[600, 10]), float(light[600, 890])
    assert 200 < left < 225 and 90 < right < 110


def test_clean_turns_and_binarises_the_photo_as_it_does_the_scan() -> None:
    """Unlevelled, the dim side misled the deskewing (5.5 degrees on this level page) and kept
    four times the scan's ink. (The two are turned by slightly different angles, so their ink is
    compared by amount, not pixel by pixel.)"""
    page = _page()
    scan, photo = (
        clean(Image.fromarray(_lit(page, fall_off=0.0))),
        clean(Image.fromarray(_lit(page, fall_off=0.55))),
    )
    assert abs(photo.angle - scan.angle) <= 0.3
    scan_ink, photo_ink = (np.asarray(scan.image) == 0).sum(), (np.asarray(photo.image) == 0).sum()
    assert 0.8 * scan_ink < photo_ink < 1.5 * scan_ink


def _on_a_desk(page: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``page`` photographed on a darker desk at a slant; returns the picture and where the
    sheet's corners lie in it (top-left, top-right, bottom-right, bottom-left)."""
    import cv2

    height, width = page.shape
    seen = np.float32([[150, 110], [width + 60, 160], [width + 120, height + 140], [90, height + 60]])
    sheet = np.float32([[0, 0], [width, 0], [width, height], [0, height]])
    paper = 30 + page.astype(np.float32) * 185 / 255
    matrix = cv2.getPerspectiveTransform(sheet, seen)
    picture = cv2.warpPerspective(paper, matrix, (width + 260, height + 260), borderValue=60)
    return picture.astype(np.uint8), seen


def test_a_sheet_on_a_desk_is_seen_square_on() -> None:
    from tools.documents.picture import deskew_angle, flatten_sheet

    page = _page()
    picture, seen = _on_a_desk(page)
    corners = sheet_corners(picture)
    assert corners is not None
    assert np.abs(corners - seen).max() < 8
    flat, back = flatten_sheet(picture)
    assert back is not None
    height, width = page.shape
    assert abs(flat.shape[0] - height) < 0.08 * height and abs(flat.shape[1] - width) < 0.08 * width
    assert abs(deskew_angle(flat)) <= 0.3  # its text lines level again
    # the matrix takes the flattened sheet's corners back to where they lie in the picture
    h, w = flat.shape
    square = np.array([[[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]]], dtype=np.float64)
    import cv2

    assert np.abs(cv2.perspectiveTransform(square, back)[0] - seen).max() < 8


def test_a_scan_and_a_page_lit_unevenly_are_not_taken_for_a_sheet_on_a_desk() -> None:
    """A scan is all sheet; on a page whose light falls off, one threshold splits the paper
    in two, but that split is no edge: the paper is alike on either side of it."""
    page = _page()
    assert sheet_corners(_lit(page, fall_off=0.0)) is None
    assert sheet_corners(_lit(page, fall_off=0.6)) is None


def test_words_read_on_a_sheet_on_a_desk_are_placed_on_the_picture() -> None:
    import shutil

    import cv2

    from tests.conftest import require
    from tools.documents.ocr import ocr_image

    require(shutil.which("tesseract") is not None, "tesseract is not installed")
    picture, seen = _on_a_desk(_page())
    words = ocr_image(Image.fromarray(picture), 1, languages="deu")
    found = [w for w in words if w.text == "Rechnung"]
    assert len(found) >= 18  # nearly every line's first word
    outline = seen.reshape(-1, 1, 2)
    for word in found:
        assert word.original is not None
        x0, top, x1, bottom = word.original
        assert cv2.pointPolygonTest(outline, ((x0 + x1) / 2, (top + bottom) / 2), False) > 0
    # the first line's word lies near the sheet's top-left corner, on the picture
    first = min(found, key=lambda w: w.original[1] if w.original else 0.0)
    assert first.original is not None and abs(first.original[0] - (seen[0][0] + 60)) < 25


def _shrunk(page: np.ndarray, factor: float) -> np.ndarray:
    import cv2

    return cv2.resize(page, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)


def test_small_print_is_enlarged_and_print_at_scanning_size_is_not() -> None:
    from tools.documents.picture import letter_height, text_zoom

    page = _page()
    assert text_zoom(page) == 1.0  # letters 15 px high: as a 300-dpi scan of small print
    small = _shrunk(page, 0.6)  # letters 9 px high, as an image sent at about 120 dpi
    height = letter_height(small)
    assert height is not None and 7 <= height <= 11
    assert 2.0 <= text_zoom(small) <= 3.0
    assert text_zoom(_shrunk(page, 0.3)) == 3.0  # at most three times
    assert letter_height(np.full((400, 300), 255, np.uint8)) is None  # no print: nothing to measure


def test_words_of_small_print_are_read_and_placed_on_the_picture_given() -> None:
    import shutil

    from tests.conftest import require
    from tools.documents.ocr import ocr_image

    require(shutil.which("tesseract") is not None, "tesseract is not installed")
    small = _shrunk(_page(), 0.6)
    words = ocr_image(Image.fromarray(small), 1, languages="deu")
    found = [w for w in words if w.text == "Rechnung"]
    assert len(found) >= 20  # 24 lines
    for word in found:
        assert abs(word.x0 - 60 * 0.6) < 4  # the picture's own pixels, not the enlarged page's
        assert word.x1 < small.shape[1] and word.bottom < small.shape[0]
        if word.original is not None:  # turned back by the deskew's small angle: the same place
            assert abs(word.original[0] - word.x0) < 3 and abs(word.original[1] - word.top) < 3


def test_a_box_on_the_upright_page_maps_back_onto_the_turned_picture() -> None:
    from tools.documents.layout import Word
    from tools.documents.ocr import _turned_back

    # A 300 x 200 picture; the upright page is it turned clockwise by ``turn``. A box at the
    # upright page's top-left corner (10..30 across, 5..15 down) lies, on the picture, ...
    word = Word("x", 10.0, 5.0, 30.0, 15.0, 1, 1.0)
    expected = {
        180: (270.0, 185.0, 290.0, 195.0),  # ... at its bottom-right corner
        90: (5.0, 170.0, 15.0, 190.0),  # ... down its left edge, near the bottom (turned clockwise)
        270: (285.0, 10.0, 295.0, 30.0),  # ... down its right edge, near the top
    }
    for turn, box in expected.items():
        back = _turned_back(word, turn, (300, 200), 1.0, (0.0, 0.0))
        assert back.original == box, turn
        assert (back.x0, back.top, back.x1, back.bottom) == (10.0, 5.0, 30.0, 15.0)  # layout: upright
    # In the caller's units (half a unit a pixel, 100 to the right): the same, scaled and moved.
    scaled = _turned_back(Word("x", 105.0, 2.5, 115.0, 7.5, 1, 1.0), 180, (300, 200), 0.5, (100.0, 0.0))
    assert scaled.original == (235.0, 92.5, 245.0, 97.5)


@pytest.mark.parametrize("turn", [90, 180, 270])
def test_a_page_fed_in_sideways_or_upside_down_is_read_upright(turn: int) -> None:
    import shutil

    from tests.conftest import require
    from tools.documents.ocr import ocr_image

    require(shutil.which("tesseract") is not None, "tesseract is not installed")
    picture = Image.fromarray(_page()).rotate(turn, expand=True)  # counter-clockwise, as fed in
    words = ocr_image(picture, 1, languages="deu")
    found = [w for w in words if w.text == "Rechnung"]
    assert len(found) >= 20
    assert all(w.x1 - w.x0 > w.bottom - w.top for w in found)  # upright on the page
    ink = np.asarray(picture) < 128
    for word in found:  # each provenance box holds the word's ink on the picture as given
        assert word.original is not None
        x0, top, x1, bottom = (round(v) for v in word.original)
        assert ink[top:bottom, x0:x1].mean() > 0.05
