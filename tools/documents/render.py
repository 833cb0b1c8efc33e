"""Page images for the analyst UI, to draw field boxes on.

Contract: :func:`render_pages` returns one :class:`PageImage` per page: PNG bytes plus the page size in
the units of ``FieldSource.bbox`` (PDF points for PDFs, pixels for images), so a box
``[x0, top, x1, bottom]`` maps onto the PNG by scaling with ``png_width / width``. Same typed errors
as :func:`tools.documents.extract_document`. ``pages`` (1-based numbers) renders only those pages;
:func:`page_sizes` gives every page's number and size without rendering any, so a viewer can lay out
a long document at once and render each page when it is looked at.
"""

from __future__ import annotations

import io
from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal

from tools.errors import DocumentError, UnsupportedDocumentError
from tools.sniff import sniff


@dataclass(frozen=True)
class PageImage:
    page: int  # 1-based
    png: bytes
    width: float  # page width in bbox units
    height: float
    unit: Literal["pt", "px"]
    png_width: int
    png_height: int


def page_sizes(data: bytes, source: str) -> list[tuple[int, float, float]]:
    """``(number, width, height)`` of each page in ``FieldSource.bbox`` units, nothing rendered."""
    if not data:
        raise DocumentError("empty input (0 bytes)", source=source)
    kind = sniff(data)
    if kind == "pdf":
        from tools.documents.pdf import check_structure, open_pdf
        from tools.documents.pdfium import close_document, page_count, page_size

        check_structure(data, source)
        document = open_pdf(data, source)
        try:
            return [(index + 1, *page_size(document, index)) for index in range(page_count(document))]
        finally:
            close_document(document)
    if kind == "image":
        from tools.documents.images import load_frames

        return [
            (index + 1, float(frame.width), float(frame.height))
            for index, frame in enumerate(load_frames(data, source))
        ]
    raise UnsupportedDocumentError(f"no page images for {kind} input", source=source)


def render_pages(
    data: bytes, source: str, dpi: int = 100, pages: Collection[int] | None = None
) -> list[PageImage]:
    from PIL import Image

    if not data:
        raise DocumentError("empty input (0 bytes)", source=source)
    kind = sniff(data)
    rendered = []

    def wanted(number: int) -> bool:
        return pages is None or number in pages

    if kind == "pdf":
        from tools.documents.pdf import check_structure, open_pdf, render_scale
        from tools.documents.pdfium import close_document, page_count, page_size, render_page

        check_structure(data, source)
        document = open_pdf(data, source)
        try:
            for index in range(page_count(document)):
                if not wanted(index + 1):
                    continue
                width, height = page_size(document, index)
                image = render_page(document, index, scale=render_scale(width, height, dpi))
                rendered.append(_page(index + 1, image, width, height, "pt"))
        finally:
            close_document(document)
        return rendered
    if kind == "image":
        from tools.documents.images import load_frames

        for index, frame in enumerate(load_frames(data, source)):
            if not wanted(index + 1):
                continue
            shown = frame.copy()
            shown.thumbnail(
                (int(frame.width * dpi / 300), int(frame.height * dpi / 300)), Image.Resampling.LANCZOS
            )
            rendered.append(_page(index + 1, shown, float(frame.width), float(frame.height), "px"))
        return rendered
    raise UnsupportedDocumentError(f"no page images for {kind} input", source=source)


def _page(number: int, image: object, width: float, height: float, unit: Literal["pt", "px"]) -> PageImage:
    from PIL import Image

    assert isinstance(image, Image.Image)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False)
    return PageImage(number, buffer.getvalue(), width, height, unit, image.width, image.height)
