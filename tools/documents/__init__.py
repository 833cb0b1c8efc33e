"""Documents: remittance advices, invoices and printed SWIFT messages from PDFs, images and text.

Public interface:

- :func:`extract_document` ``(data, source) -> list[Extraction]``: PDFs (text layer, scanned, or
  mixed), images (PNG, JPEG, TIFF incl. multi-page) and plain text. Remittance advices and invoices
  come back with ``doc_type`` ``remittance_advice`` / ``invoice`` and the Remittance model filled;
  a printed or scanned SWIFT message comes back as the MT parser's result after OCR repair, with
  the repairs as ``OCR_CORRECTION`` findings. Each field's ``source`` is ``{"page", "bbox"}`` with
  ``bbox = [x0, top, x1, bottom]``, origin top-left, in PDF points for PDFs (scanned ones too) and
  in pixels of the original image for images (plain text: ``line`` numbers instead). Raises only
  :class:`DocumentError` (corrupt, encrypted, empty, over the page limit, OCR time-out),
  :class:`InputTooLargeError` (image over the pixel limit) and :class:`UnsupportedDocumentError`.
- :func:`render_pages` ``(data, source, dpi=100) -> list[PageImage]``: PNGs of the pages with their
  size in the same units as the boxes, for the UI.

Layout: readers (``pdf``, ``images``, ``ocr``, ``text``) produce :class:`~.layout.Page` s; extractors
(``fields``, ``parties``, ``letter``, ``lines`` with ``grids``) read them through
:class:`~.document.Document`; ``extractor`` assembles the output and ``checks`` adds findings;
``swift_scan`` handles printed FIN messages.
"""

from __future__ import annotations

from tools.documents.render import PageImage, render_pages
from tools.documents.service import extract_document

__all__ = ["PageImage", "extract_document", "render_pages"]
