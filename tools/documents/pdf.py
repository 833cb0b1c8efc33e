"""PDF reader: the text layer through pdfplumber, OCR through pypdfium2 + tesseract where it is missing.

Contract: :func:`read_pdf` returns one :class:`Page` per PDF page, coordinates in PDF points (top-left
origin). A page whose text layer is empty or unusable is rendered at 300 dpi and OCR'd (such pages
two at a time, see :func:`~.ocr.ocr_pages`); a page with a text layer that also carries large images
(company details pasted as a picture) gets those image areas OCR'd too. Text pages that show a
line-item header also get pdfplumber's tables (``Page.tables``, see :mod:`~.grids`). Raises
:class:`DocumentError` for encrypted, corrupt, empty or over-long PDFs.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

from tools.documents.layout import Page, Word
from tools.documents.limits import MAX_PAGES, MIN_TEXT_CHARS, OCR_DPI
from tools.errors import DocumentError

# Images smaller than this share of the page are logos or signatures, not worth OCR time.
_MIN_IMAGE_SHARE = 0.04
_NOT_WORDS = set("AIYOEUÀ")  # single letters that are words; other lone capitals are kerning splits


def open_pdf(data: bytes, source: str) -> Any:
    """Open with pdfium (fast, strict), enforcing the page limit before any page is parsed."""
    import pypdfium2 as pdfium

    from tools.documents.pdfium import open_document, page_count

    try:
        document = open_document(data)
    except pdfium.PdfiumError as exc:
        reason = str(exc).lower()
        if "password" in reason:
            raise DocumentError("encrypted PDF (a password is required)", source=source) from exc
        raise DocumentError(f"corrupt or unreadable PDF ({exc})", source=source) from exc
    pages = page_count(document)
    if pages == 0:
        raise DocumentError("PDF has no pages", source=source)
    if pages > MAX_PAGES:
        raise DocumentError(f"PDF has {pages} pages, over the limit of {MAX_PAGES}", source=source)
    return document


def _merge_kerning_splits(words: list[Word]) -> list[Word]:
    """Join a lone capital to the word right after it ("F actuurnummer" -> "Factuurnummer")."""
    merged: list[Word] = []
    for word in words:
        if merged:
            prev = merged[-1]
            if (
                len(prev.text) == 1
                and prev.text.isupper()
                and prev.text not in _NOT_WORDS
                and word.text[:1].islower()
                and abs(word.top - prev.top) < 1
                and 0 <= word.x0 - prev.x1 < 0.5 * word.height
            ):
                merged[-1] = Word(prev.text + word.text, prev.x0, prev.top, word.x1, word.bottom, word.page)
                continue
        merged.append(word)
    return merged


def _text_layer(plumber_page: Any, number: int) -> list[Word]:
    raw = plumber_page.extract_words(keep_blank_chars=False, use_text_flow=False)
    words = [
        Word(str(w["text"]), float(w["x0"]), float(w["top"]), float(w["x1"]), float(w["bottom"]), number)
        for w in raw
        if str(w["text"]).strip()
    ]
    return _merge_kerning_splits(words)


def _usable(words: list[Word]) -> bool:
    text = "".join(w.text for w in words)
    if len(text) < MIN_TEXT_CHARS:
        return False
    # Fonts without a Unicode map come out as "(cid:12)" runs: no better than no text layer.
    return text.count("(cid:") * 6 < len(text) / 2


def read_pdf(data: bytes, source: str) -> list[Page]:
    import pdfplumber
    from pdfminer.pdfparser import PDFSyntaxError

    from tools.documents.glyphs import repair_unmapped
    from tools.documents.grids import read_grids
    from tools.documents.ocr import OcrJob, ocr_image, ocr_pages
    from tools.documents.pdfium import close_document, render_page

    document = open_pdf(data, source)
    pages: list[Page] = []
    scanned: list[tuple[int, float, float]] = []  # (index, width, height) of pages to OCR
    scale = 72 / OCR_DPI

    def scans() -> Iterator[OcrJob]:
        for index, _, _ in scanned:
            image = render_page(document, index, scale=OCR_DPI / 72, grayscale=True)
            yield OcrJob(image, index + 1, scale)

    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            for index, plumber_page in enumerate(pdf.pages):
                number = index + 1
                width, height = float(plumber_page.width), float(plumber_page.height)
                words = repair_unmapped(_text_layer(plumber_page, number), document, index)
                if not _usable(words):
                    scanned.append((index, width, height))
                    continue
                reader: Any = "text"
                big_images = [
                    img
                    for img in plumber_page.images
                    if (img["x1"] - img["x0"]) * (img["bottom"] - img["top"])
                    >= _MIN_IMAGE_SHARE * width * height
                ]
                if big_images:
                    rendered = render_page(document, index, scale=OCR_DPI / 72, grayscale=True)
                    for img in big_images:
                        box = [max(0.0, float(img[k])) for k in ("x0", "top", "x1", "bottom")]
                        crop = rendered.crop(tuple(int(v / scale) for v in box))
                        # An embedded picture is level and clean: no deskew or binarisation needed.
                        found = ocr_image(
                            crop, number, scale=scale, offset=(box[0], box[1]), source=source, deskew=False
                        )
                        words += [w for w in found if w.confidence >= 0.5]
                    reader = "text+ocr"
                page = Page(number, width, height, "pt", reader, words)
                page.tables = read_grids(plumber_page, page)
                pages.append(page)
        # Scanned pages are OCR'd together: two at a time, the language probed once.
        for (index, width, height), words in zip(scanned, ocr_pages(scans(), source), strict=True):
            pages.append(Page(index + 1, width, height, "pt", "ocr", words))
        pages.sort(key=lambda page: page.number)
    except (PDFSyntaxError, ValueError, KeyError, TypeError) as exc:
        raise DocumentError(f"corrupt PDF structure ({type(exc).__name__}: {exc})", source=source) from exc
    finally:
        close_document(document)
    return pages
