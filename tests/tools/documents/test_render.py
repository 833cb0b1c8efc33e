"""Page images for the UI, in the same units as the field boxes."""

from __future__ import annotations

import io

from PIL import Image

from tests.tools.documents.generator import generate
from tools.documents import extract_document, render_pages
from tools.documents.render import page_sizes


def test_render_pdf_pages_match_box_units() -> None:
    doc = next(d for d in generate(6, seed=5) if d.pages > 1)
    pages = render_pages(doc.pdf, "advice.pdf", dpi=50)
    assert [p.page for p in pages] == list(range(1, doc.pages + 1))
    first = pages[0]
    assert first.unit == "pt" and round(first.width) == 595 and round(first.height) == 842
    image = Image.open(io.BytesIO(first.png))
    assert image.size == (first.png_width, first.png_height)
    assert abs(first.png_width - 595 * 50 / 72) <= 1
    [extraction] = extract_document(doc.pdf, "advice.pdf")
    for field in extraction.fields:
        assert field.source.page is not None and field.source.bbox is not None
        page = pages[field.source.page - 1]
        x0, top, x1, bottom = field.source.bbox
        assert 0 <= x0 < x1 <= page.width and 0 <= top < bottom <= page.height


def test_render_image_in_pixels() -> None:
    buffer = io.BytesIO()
    Image.new("L", (1200, 900), 255).save(buffer, format="PNG")
    [page] = render_pages(buffer.getvalue(), "scan.png", dpi=150)
    assert page.unit == "px" and (page.width, page.height) == (1200, 900)
    assert (page.png_width, page.png_height) == (600, 450)


def test_page_sizes_render_nothing_and_one_page_renders_alone() -> None:
    doc = next(d for d in generate(6, seed=5) if d.pages > 1)
    every = render_pages(doc.pdf, "advice.pdf", dpi=30)
    assert page_sizes(doc.pdf, "advice.pdf") == [(p.page, p.width, p.height) for p in every]
    [last] = render_pages(doc.pdf, "advice.pdf", dpi=30, pages=[doc.pages])
    assert last == every[-1]
    assert render_pages(doc.pdf, "advice.pdf", dpi=30, pages=[doc.pages + 1]) == []
    buffer = io.BytesIO()
    Image.new("L", (1200, 900), 255).save(buffer, format="PNG")
    assert page_sizes(buffer.getvalue(), "scan.png") == [(1, 1200.0, 900.0)]
