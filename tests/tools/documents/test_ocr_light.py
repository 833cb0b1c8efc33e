"""Uneven light on a photographed page (``tools.documents.ocr.even_light``): the paper is made evenly
bright before the one global threshold, so the dim side's paper does not turn black; a page lit
evenly is left exactly as it is."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from tools.documents.ocr import clean, even_light, paper_light


def _page(width: int = 900, height: int = 1200) -> np.ndarray:
    """Dark text lines on white paper, with a solid dark picture in one corner."""
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    for row in range(60, height - 60, 40):
        draw.text((60, row), "Rechnung 4711 Betrag 1.234,56 EUR faellig 30.06.2023", fill=20)
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
    scan, scan_angle = clean(Image.fromarray(_lit(page, fall_off=0.0)))
    photo, photo_angle = clean(Image.fromarray(_lit(page, fall_off=0.55)))
    assert abs(photo_angle - scan_angle) <= 0.3
    scan_ink, photo_ink = (np.asarray(scan) == 0).sum(), (np.asarray(photo) == 0).sum()
    assert 0.8 * scan_ink < photo_ink < 1.5 * scan_ink
