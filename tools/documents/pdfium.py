"""pypdfium2 behind one process-wide lock.

PDFium is not thread-safe: two threads rendering at once (the service's worker pool, the OCR thread
pool, a test running documents in parallel) crash the process. Every PDFium call goes through here.
"""

from __future__ import annotations

import threading
from typing import Any

_LOCK = threading.RLock()


def open_document(data: bytes) -> Any:
    import pypdfium2 as pdfium

    with _LOCK:
        return pdfium.PdfDocument(data)


def page_count(document: Any) -> int:
    with _LOCK:
        return len(document)


def page_size(document: Any, index: int) -> tuple[float, float]:
    """The page's size in points, read from the page tree: the page is not loaded (loading parses its
    content stream, seconds for a hostile one)."""
    with _LOCK:
        width, height = document.get_page_size(index)
    return float(width), float(height)


def render_page(document: Any, index: int, *, scale: float, grayscale: bool = False) -> Any:
    """The page as a PIL image that owns its pixels (no reference into PDFium memory)."""
    with _LOCK:
        page = document[index]
        try:
            bitmap = page.render(scale=scale, grayscale=grayscale)
            image = bitmap.to_pil().copy()
            bitmap.close()
        finally:
            page.close()
    return image


def close_document(document: Any) -> None:
    with _LOCK:
        document.close()
