"""Every text page of the real invoices as the table finders see it: PDFium's characters and edges."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from tools.documents.layout import Page
from tools.documents.pdf import read_pdf
from tools.documents.pdfium import OpenPage, close_document, open_document
from tools.documents.surface import Surface
from tools.documents.vectors import page_edges


def real_surfaces(shared_data: Path) -> Iterator[tuple[str, Page, Surface]]:
    """(file name, page, surface) for each page with characters of ``invoices/*/*.pdf``."""
    for path in sorted((shared_data / "invoices").glob("*/*.pdf")):
        data = path.read_bytes()
        document = open_document(data)
        try:
            for page in read_pdf(data, path.name):
                if not page.chars:
                    continue
                with OpenPage(document, page.number - 1) as loaded:
                    edges = page_edges(loaded.get())
                yield path.name, page, Surface((0.0, 0.0, page.width, page.height), page.chars, edges)
        finally:
            close_document(document)
