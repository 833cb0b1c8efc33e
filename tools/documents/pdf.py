"""PDF reader: the text layer through PDFium (:mod:`~.textlayer`), OCR (pypdfium2 + tesseract) where it
is missing.

Contract: :func:`read_pdf` returns one :class:`Page` per PDF page, coordinates in PDF points (top-left
origin). A page whose text layer is empty or unusable is rendered at 300 dpi and OCR'd (such pages
two at a time, see :func:`~.ocr.ocr_pages`); a page with a text layer that also carries large images
(company details pasted as a picture) gets those image areas OCR'd too. Text pages that show a
line-item header also get their tables (``Page.tables``, see :mod:`~.grids`): pdfplumber's table
finder over PDFium's characters and path edges, so no page is interpreted twice. Raises
:class:`DocumentError` for encrypted, corrupt, empty or over-long PDFs.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from functools import partial
from typing import Any

from tools.documents.layout import Page, Word
from tools.documents.limits import MIN_TEXT_CHARS, OCR_DPI, limits
from tools.documents.textlayer import Box, Char
from tools.errors import DocumentError, InputTooLargeError

# Images smaller than this share of the page are logos or signatures, not worth OCR time.
_MIN_IMAGE_SHARE = 0.04
_NOT_WORDS = set("AIYOEUÀ")  # single letters that are words; other lone capitals are kerning splits
# A replacement or control character (below a space): counted in C rather than tested one by one.
_UNREADABLE = re.compile("[\x00-\x1f\ufffd]")


def open_pdf(data: bytes, source: str) -> Any:
    """Open with pdfium (fast, strict), enforcing the page limit before any page is parsed."""
    import pypdfium2 as pdfium

    from tools.documents.pdfium import close_document, open_document, page_count, page_size

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
    if pages > limits().max_pages:
        close_document(document)
        raise DocumentError(f"PDF has {pages} pages, over the limit of {limits().max_pages}", source=source)
    try:
        for index in range(pages):
            check_page_size(*page_size(document, index), index + 1, source)
    except DocumentError:
        close_document(document)
        raise
    return document


def check_page_size(width: float, height: float, number: int, source: str) -> None:
    """Refuse an empty or inverted page box (it breaks layout code) and a giant one (it makes the
    renderer allocate gigabytes), before the page is parsed or rendered."""
    if not (width > 0 and height > 0):
        raise DocumentError(
            f"page {number} has an invalid size ({width:g} x {height:g} points)", source=source
        )
    if max(width, height) > limits().max_page_side_pt:
        raise InputTooLargeError(
            f"page {number} is {width:g} x {height:g} points, over the page-size limit of "
            f"{limits().max_page_side_pt} points a side",
            source=source,
        )


def render_scale(width: float, height: float, dpi: int) -> float:
    """``dpi / 72``, lowered when the page would come out over ``limits().max_render_pixels``."""
    scale = dpi / 72
    pixels = width * height * scale * scale
    if pixels > limits().max_render_pixels:
        scale *= (limits().max_render_pixels / pixels) ** 0.5
    return scale


def _stream_bytes(stream: Any, budget: int) -> bytes:
    """A PDF stream's decoded bytes, at most ``budget + 1`` of them for Flate (a zip bomb costs no
    more than the budget); other filter chains are decoded by qpdf (the sandbox bounds those)."""
    import zlib

    import pikepdf

    raw = stream.read_raw_bytes()
    filters = stream.get("/Filter")
    names = [str(filters)] if isinstance(filters, pikepdf.Name) else [str(f) for f in filters or []]
    if not names:
        return raw[: budget + 1]
    if names == ["/FlateDecode"] or names == ["/Fl"]:
        try:
            return zlib.decompressobj().decompress(raw, budget + 1)
        except zlib.error:
            return raw[: budget + 1]  # PDFium reports the corruption when it reads the page
    return stream.read_bytes()[: budget + 1]


# String operands of the text operators: literal "(...)" (escapes skipped) and hex "<...>" strings.
_LITERAL = re.compile(rb"\((?:[^()\\]|\\.)*\)")
_HEX = re.compile(rb"<[0-9A-Fa-f\s]*>")


def text_estimate(content: bytes) -> int:
    """An upper estimate of the glyphs a content stream shows, without interpreting it: the length
    of its string operands (hex strings count a glyph per byte). Cheap (regular expressions in C) and
    never below the real count for one-byte fonts, so a page far over the limit is refused before
    PDFium spends seconds building an object per character."""
    literals = _LITERAL.findall(content)
    # Each hex string's (length - 2) // 2, summed without a Python step per string:
    # (n - 2) // 2 is n // 2 - 1, and n // 2 is (n - n % 2) / 2.
    hex_lengths = list(map(len, _HEX.findall(content)))
    odd = sum(map((1).__and__, hex_lengths))
    hexed = (sum(hex_lengths) - odd) // 2 - len(hex_lengths)
    return sum(map(len, literals)) - 2 * len(literals) + hexed


_QPDF_INPUT = re.compile(r"^(?:stream )?<[^>]*>:?\s*")


def check_structure(data: bytes, source: str) -> None:
    """:func:`check_content_streams` with qpdf's errors as typed ones: the cheap structural limits,
    run before anything parses or renders a page."""
    import pikepdf

    try:
        check_content_streams(data, source)
    except pikepdf.PasswordError as exc:
        raise DocumentError("encrypted PDF (a password is required)", source=source) from exc
    except (pikepdf.PdfError, ValueError, KeyError, TypeError, AttributeError, RuntimeError) as exc:
        # qpdf names the input first ("stream <_io.BytesIO object at 0x...>: "): the reason follows
        reason = _QPDF_INPUT.sub("", str(exc))
        raise DocumentError(f"corrupt PDF structure ({type(exc).__name__}: {reason})", source=source) from exc


def estimate_bound(size: int) -> int:
    """The most :func:`text_estimate` can say of ``size`` bytes of content: each literal string
    counts at most its own bytes, and a hex string inside one (both patterns match there) half of
    them again."""
    return size * 3 // 2


def check_content_streams(data: bytes, source: str, *, exact: bool = False) -> None:
    """Refuse a PDF whose page content streams decompress past the per-page or per-document size
    limit, or show more characters than the page or document limit, before PDFium interprets them
    (a content-stream bomb, or millions of words). The structure is read by qpdf (pikepdf), which
    parses objects only as they are asked for: the page tree and each page's contents, in C++.
    A content stream's characters are estimated only where its bytes could show more than a
    page's limit (:func:`estimate_bound`): an invoice page's cannot. Where the bounds alone come
    over a limit, the check runs again estimating every stream (``exact``)."""
    import pikepdf

    total = chars = 0
    bounded = False  # some stream's characters counted by their bound, not estimated
    max_page_chars, max_document_chars = limits().max_page_chars, limits().max_document_chars
    with pikepdf.open(io.BytesIO(data), inherit_page_attributes=False) as document:
        for number, page in enumerate(document.pages, start=1):
            if number > limits().max_pages:
                break
            box = page.mediabox  # inherited from the page tree where the page has none
            if isinstance(box, pikepdf.Array) and len(box) >= 4:
                # as written: pdfplumber and PDFium normalise an inverted box differently
                x0, y0, x1, y1 = (float(v) for v in list(box)[:4])
                check_page_size(x1 - x0, y1 - y0, number, source)
            contents = page.obj.get("/Contents")
            size = page_chars = 0
            for stream in contents if isinstance(contents, pikepdf.Array) else [contents]:
                if isinstance(stream, pikepdf.Stream):
                    content = _stream_bytes(stream, limits().max_page_content_bytes - size)
                    size += len(content)
                    if size <= limits().max_page_content_bytes:
                        bound = estimate_bound(len(content))
                        if exact or bound > max_page_chars:
                            page_chars += text_estimate(content)
                        else:
                            page_chars, bounded = page_chars + bound, True
                if size > limits().max_page_content_bytes:
                    raise InputTooLargeError(
                        f"page {number}'s content stream is over the limit of "
                        f"{limits().max_page_content_bytes} bytes",
                        source=source,
                    )
            if page_chars > max_page_chars:
                if bounded and not exact:
                    return check_content_streams(data, source, exact=True)
                raise InputTooLargeError(
                    f"page {number} shows some {page_chars} characters, over the limit of "
                    f"{max_page_chars} a page",
                    source=source,
                )
            total += size
            chars += page_chars
            if total > limits().max_content_bytes:
                raise InputTooLargeError(
                    f"content streams are over the document limit of {limits().max_content_bytes} bytes",
                    source=source,
                )
            if chars > max_document_chars:
                if bounded and not exact:
                    return check_content_streams(data, source, exact=True)
                raise InputTooLargeError(
                    f"the text layer shows over the document limit of {max_document_chars} characters",
                    source=source,
                )


def _merge_kerning_splits(words: list[Word]) -> list[Word]:
    """Join a lone capital to the word right after it ("F actuurnummer" -> "Factuurnummer"), and
    two pieces of a label word split where PDFium guessed a space inside it from tight spacing
    ("Br uttosumme" -> "Bruttosumme"): pieces closer than a word gap whose joined letters spell a
    word of the label vocabulary."""
    merged: list[Word] = []
    for word in words:
        if merged:
            prev = merged[-1]
            gap = word.x0 - prev.x1
            if abs(word.top - prev.top) < 1 and 0 <= gap < 0.5 * word.height and word.text[:1].islower():
                lone_capital = len(prev.text) == 1 and prev.text.isupper() and prev.text not in _NOT_WORDS
                if lone_capital or (gap < 0.2 * word.height and _is_label_word(prev.text + word.text)):
                    text = prev.text + word.text
                    merged[-1] = Word(text, prev.x0, prev.top, word.x1, word.bottom, word.page)
                    continue
        merged.append(word)
    return merged


def _is_label_word(text: str) -> bool:
    from tools.documents.labels import label_vocabulary
    from tools.documents.normalize import fold

    return fold(text).strip(":.") in label_vocabulary()


def _text_layer(chars: list[Char], number: int, source: str) -> list[Word]:
    from tools.documents.textlayer import words_from_chars

    if len(chars) > limits().max_page_chars:
        raise InputTooLargeError(
            f"page {number} has {len(chars)} characters, over the limit of {limits().max_page_chars} a page",
            source=source,
        )
    return _merge_kerning_splits(words_from_chars(chars, number))


def _picture_words(page: Any, number: int, boxes: list[Box], render: float, source: str) -> list[Word]:
    """OCR of the large pictures on a page that has a text layer (company details pasted as an
    image): only their regions are rendered, and the page is let go (PDFium's lock with it) before
    tesseract runs."""
    from tools.documents.ocr import ocr_picture
    from tools.documents.pdfium import render_region

    crops = []
    for image_box in boxes:
        box = (max(0.0, image_box[0]), max(0.0, image_box[1]), image_box[2], image_box[3])
        crops.append(render_region(page.get(), box, scale=render))
    page.close()
    found: list[Word] = []
    for crop, scale, origin in crops:
        read = ocr_picture(crop, number, scale=scale, offset=origin, source=source)
        found += [w for w in read if w.confidence >= 0.5]
    return found


def _edges(page: Any, paths: list[Any], load: int) -> list[dict[str, Any]]:
    """The page's edges, from the path objects its first reading found while that load lasts
    (OCR of its pictures lets the page go; a new load has new objects, and is walked again)."""
    from tools.documents.vectors import page_edges

    loaded = page.get()
    return page_edges(loaded, paths if page.loads == load else None)


def _reach(page: Any, paths: list[Any], load: int, heights: list[float], margin: float) -> bool:
    """Whether a path of the page comes within ``margin`` of one of ``heights``
    (:func:`~.vectors.paths_reach`); True after a reload, whose objects are new (the edges then
    decide)."""
    from tools.documents.vectors import paths_reach

    if page.loads != load:
        return True
    return paths_reach(page.get(), paths, heights, margin)


def _usable(words: list[Word]) -> bool:
    text = "".join(w.text for w in words)
    if len(text) < MIN_TEXT_CHARS:
        return False
    # Fonts without a Unicode map come out as "(cid:12)" runs (pdfminer) or replacement and control
    # characters (PDFium): no better than no text layer.
    unmapped = text.count("(cid:") * 6 + len(_UNREADABLE.findall(text))
    return unmapped < len(text) / 2


def read_pdf(data: bytes, source: str, attachments: list[tuple[str, bytes]] | None = None) -> list[Page]:
    """The pages (see the module docstring); with ``attachments``, the PDF's ``.xml`` attachments
    (:func:`~.einvoice.xml_attachments`) are appended to it while the document is open."""
    from tools.documents.glyphs import repair_unmapped
    from tools.documents.grids import read_grids
    from tools.documents.ocr import OcrJob, ocr_pages
    from tools.documents.pdfium import OpenPage, close_document, page_count, page_size, render_page
    from tools.documents.textlayer import read_layer

    check_structure(data, source)  # the cheap structural limits: nothing below runs before they pass
    document = open_pdf(data, source)
    pages: list[Page] = []
    scanned: list[tuple[int, float, float]] = []  # (index, width, height) of pages to OCR
    word_count = 0

    def scans() -> Iterator[OcrJob]:
        for index, width, height in scanned:
            render = render_scale(width, height, OCR_DPI)
            image = render_page(document, index, scale=render, grayscale=True)
            yield OcrJob(image, index + 1, 1 / render)

    try:
        if attachments is not None:
            from tools.documents.einvoice import xml_attachments

            attachments += xml_attachments(document)
        for index in range(page_count(document)):
            number = index + 1
            width, height = page_size(document, index)
            check_page_size(width, height, number, source)
            with OpenPage(document, index) as loaded:  # one load for characters, images and paths
                chars, images, paths = read_layer(loaded.get())
                load = loaded.loads  # the paths are this load's objects
                words = repair_unmapped(_text_layer(chars, number, source), loaded.get())
                word_count += len(words)
                if word_count > limits().max_words:
                    raise InputTooLargeError(
                        f"the text layer is over the limit of {limits().max_words} words", source=source
                    )
                if not _usable(words):
                    scanned.append((index, width, height))
                    continue
                share = _MIN_IMAGE_SHARE * width * height
                big = [b for b in images if (b[2] - b[0]) * (b[3] - b[1]) >= share]
                reader: Any = "text"
                if big:
                    render = render_scale(width, height, OCR_DPI)
                    words += _picture_words(loaded, number, big, render, source)
                    reader = "text+ocr"
                page = Page(number, width, height, "pt", reader, words, chars=chars)
                page.tables = read_grids(
                    page, chars, partial(_edges, loaded, paths, load), partial(_reach, loaded, paths, load)
                )
                pages.append(page)
        # Scanned pages are OCR'd together: two at a time, the language probed once.
        for (index, width, height), words in zip(scanned, ocr_pages(scans(), source), strict=True):
            pages.append(Page(index + 1, width, height, "pt", "ocr", words))
        pages.sort(key=lambda page: page.number)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise DocumentError(f"corrupt PDF structure ({type(exc).__name__}: {exc})", source=source) from exc
    finally:
        close_document(document)
    return pages
