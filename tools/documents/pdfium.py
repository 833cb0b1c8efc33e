"""pypdfium2 behind one process-wide lock.

PDFium is not thread-safe: two threads rendering at once (the service's worker pool, the OCR thread
pool, a test running documents in parallel) crash the process. Every PDFium call goes through here.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

_LOCK = threading.RLock()


@functools.cache
def unchecked(name: str) -> Any:
    """PDFium's function ``name`` as a plain pointer into the library, without the argument types
    pypdfium2 declares for it: ctypes then passes each argument as it is instead of converting it,
    which halves the cost of a call (the readers make several per character or path segment).
    Only where every declared argument is a pointer (a handle, a ``byref``) or a C ``int``, which
    is what ctypes passes undeclared; the result type stays the declared one. Otherwise, or where
    the library is not found, the declared function."""
    import ctypes

    import pypdfium2.raw as raw

    declared = getattr(raw, name)
    kinds = declared.argtypes or ()
    if not all(kind is ctypes.c_int or issubclass(kind, ctypes._Pointer) for kind in kinds):
        return declared
    try:
        from pypdfium2_raw.bindings import _libs

        bare = _libs["pdfium"][name]  # a new pointer: pypdfium2's own keeps its declaration
    except (ImportError, KeyError, AttributeError, TypeError):
        return declared
    bare.restype = declared.restype
    bare.argtypes = None
    return bare


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


def page_origin(page: Any) -> tuple[float, float]:
    """(left, top) of a loaded page's MediaBox in PDF space: where the top-left origin of the
    reading's coordinates lies. A MediaBox inherited from the page tree (fpdf2 writes it there) is
    invisible to PDFium's MediaBox call, which then answers US Letter; the page's bounding box,
    which does follow the tree, stands in for it."""
    box = page.get_mediabox(fallback_ok=False) or page.get_bbox()
    return float(box[0]), float(box[3])


class OpenPage:
    """One page of a document, loaded on first use and kept until :meth:`close`, so that the
    readers of its characters, images, paths and pictures share one load (loading parses the
    content stream: milliseconds on a busy page). While loaded it holds the module's lock, so
    close it (a ``with`` block) before work that does not need PDFium, such as OCR."""

    def __init__(self, document: Any, index: int) -> None:
        self.document, self.index = document, index
        self._page: Any = None
        # How many times the page has been loaded: handles into one load (its page objects) are
        # dangling after a close, and must not be used with the next load.
        self.loads = 0

    def get(self) -> Any:
        if self._page is None:
            _LOCK.acquire()
            try:
                self._page = self.document[self.index]
            except BaseException:
                _LOCK.release()
                raise
            self.loads += 1
        return self._page

    def close(self) -> None:
        if self._page is not None:
            try:
                self._page.close()
            finally:
                self._page = None
                _LOCK.release()

    def __enter__(self) -> OpenPage:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def render_region(
    page: Any, box: tuple[float, float, float, float], *, scale: float
) -> tuple[Any, float, tuple[float, float]]:
    """The part of a loaded page (:class:`OpenPage`) inside ``box`` (x0, top, x1, bottom in points,
    top-left origin) as a greyscale PIL image at ``scale`` pixels per point, the points per pixel,
    and the point where the image's top-left pixel lies (the box's corner moved onto the page's
    pixel grid, as a whole-page rendering cut at the box would place it). Only that part is
    rasterised; a turned page (``/Rotate``) is rendered whole and cut."""
    import math

    with _LOCK:
        width, height = page.get_size()
        x0, top, x1, bottom = (max(0.0, v) for v in box)
        x0, top = math.floor(x0 * scale) / scale, math.floor(top * scale) / scale
        if page.get_rotation() == 0:
            crop = (x0, max(0.0, height - bottom), max(0.0, width - x1), top)
            bitmap = page.render(scale=scale, crop=crop, grayscale=True)
            image = bitmap.to_pil().copy()
        else:
            bitmap = page.render(scale=scale, grayscale=True)
            image = bitmap.to_pil().crop(tuple(int(v * scale) for v in (x0, top, x1, bottom)))
        bitmap.close()
    return image, 1 / scale, (x0, top)


def close_document(document: Any) -> None:
    with _LOCK:
        document.close()
