"""Frames whose pixels are not square (a fax in standard mode: 204 x 98 dpi) are read stretched
square (``tools.documents.images.pixel_stretch`` and ``read_image``)."""

from __future__ import annotations

import io
import shutil

import pytest
from PIL import Image, ImageDraw, ImageFont

from tests.conftest import require
from tools.documents.images import pixel_stretch, read_image


def _frame(dpi: tuple[float, float] | None, size: tuple[int, int] = (400, 300)) -> Image.Image:
    frame = Image.new("L", size, 255)
    if dpi is not None:
        frame.info["dpi"] = dpi
    return frame


@pytest.mark.parametrize(
    ("dpi", "stretch"),
    [
        ((204, 98), (1.0, 204 / 98)),  # fax, standard mode: stretched down
        ((98, 204), (204 / 98, 1.0)),  # the same turned: stretched across
        ((204, 196), (1.0, 1.0)),  # fax, fine mode: square enough
        ((300, 300), (1.0, 1.0)),
        (None, (1.0, 1.0)),  # no resolution recorded
        ((600, 100), (1.0, 1.0)),  # six to one: not a fax, left as it is
        ((0, 98), (1.0, 1.0)),
    ],
)
def test_the_stretch_that_makes_pixels_square(
    dpi: tuple[float, float] | None, stretch: tuple[float, float]
) -> None:
    assert pixel_stretch(_frame(dpi)) == pytest.approx(stretch)


def test_a_stretch_past_the_pixel_limit_is_not_made(monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import replace

    from tools.documents import images
    from tools.documents.limits import limits

    small = replace(limits(), max_image_pixels=400 * 300 * 2)
    monkeypatch.setattr(images, "limits", lambda: small)
    assert pixel_stretch(_frame((204, 98))) == (1.0, 1.0)  # 2.08 times 120,000 pixels is over


def test_a_fax_is_read_square_and_its_boxes_stay_on_the_frame() -> None:
    require(shutil.which("tesseract") is not None, "tesseract is not installed")
    page = Image.new("L", (1240, 900), 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.load_default(size=28)
    for row in range(80, 860, 60):
        draw.text((80, row), "Rechnung 4711 Betrag 1.234,56 EUR", fill=0, font=font)
    squashed = page.resize((1240, 450), Image.Resampling.LANCZOS).point(lambda v: 255 if v > 150 else 0)
    buffer = io.BytesIO()
    squashed.convert("1").save(buffer, format="TIFF", compression="group4", dpi=(204, 98))
    [read] = read_image(buffer.getvalue(), "fax.tif")
    assert (read.width, read.height) == (1240, round(450 * 204 / 98))  # the page made square
    found = [w for w in read.words if w.text == "Rechnung"]
    assert len(found) >= 11  # 14 lines
    for word in found:
        assert word.original is not None
        x0, top, _, bottom = word.original
        assert 70 < x0 < 90 and bottom <= 450  # on the squashed frame, where a viewer shows it
        assert word.bottom - word.top == pytest.approx((bottom - top) * 204 / 98, rel=0.01)


def test_black_and_white_print_is_not_median_filtered_and_grey_print_is() -> None:
    """A fax's strokes are a pixel or two wide: the 3x3 median filter that cleans a grey scan's
    speckle erases them. Told apart by how much of the print is pure black."""
    import numpy as np

    from benchmarks.real_invoices import _as_jpeg
    from tools.documents.picture import _black_and_white

    page = Image.new("L", (600, 300), 255)
    draw = ImageDraw.Draw(page)
    for row in range(20, 280, 40):
        draw.text(
            (20, row), "Rechnung 4711 Betrag 1.234,56 EUR", fill=0, font=ImageFont.load_default(size=20)
        )
    fax = page.point(lambda v: 255 if v > 150 else 0)
    stretched = fax.resize((600, 624), Image.Resampling.LANCZOS)  # made square, edges smoothed
    assert _black_and_white(np.asarray(fax)) and _black_and_white(np.asarray(stretched))
    scan = _as_jpeg(page.point(lambda v: 30 + v * 200 // 255), 70)  # grey print, JPEG
    assert not _black_and_white(np.asarray(scan))
    assert not _black_and_white(np.full((50, 50), 255, np.uint8))  # no print at all
