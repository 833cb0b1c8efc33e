"""Page images for the analyst UI, to draw field boxes on.

Contract: :func:`render_pages` returns one :class:`PageImage` per page: PNG bytes plus the page size in
the units of ``FieldSource.bbox`` (PDF points for PDFs, pixels for images), so a box
``[x0, top, x1, bottom]`` maps onto the PNG by scaling with ``png_width / width``. Same typed errors
as :func:`tools.documents.extract_document`.
"""

from __future__ import annotations

import io
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


def render_pages(data: bytes, source: str, dpi: int = 100) -> list[PageImage]:
    from PIL import Image

    if not data:
        raise DocumentError("empty input (0 bytes)", source=source)
    kind = sniff(data)
    pages = []
    if kind == "pdf":
        from tools.documents.pdf import check_structure, open_pdf, render_scale
        from tools.documents.pdfium import close_document, page_count, page_size, render_page

        check_structure(data, source)
        document = open_pdf(data, source)
        try:
            for index in range(page_count(document)):
                width, height = page_size(document, index)
                image = render_page(document, index, scale=render_scale(width, height, dpi))
                pages.append(_page(index + 1, image, width, height, "pt"))
        finally:
            close_document(document)
        return pages
    if kind == "image":
        from tools.documents.images import load_frames

        for index, frame in enumerate(load_frames(data, source)):
            shown = frame.copy()
            shown.thumbnail(
                (int(frame.width * dpi / 300), int(frame.height * dpi / 300)), Image.Resampling.LANCZOS
            )
            pages.append(_page(index + 1, shown, float(frame.width), float(frame.height), "px"))
        return pages
    raise UnsupportedDocumentError(f"no page images for {kind} input", source=source)


def _page(number: int, image: object, width: float, height: float, unit: Literal["pt", "px"]) -> PageImage:
    from PIL import Image

    assert isinstance(image, Image.Image)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False)
    return PageImage(number, buffer.getvalue(), width, height, unit, image.width, image.height)
