"""A page's text layer and image boxes read through PDFium's text-page API.

PDFium reads a page's characters with their boxes about fifteen times faster than pdfminer (which
builds a Python object per character), so the word layer comes from here and pdfplumber is opened
only for the ruled/aligned tables (:mod:`~.grids`). Words are built the way pdfplumber's
``extract_words`` builds them (its default tolerances): characters clustered into lines by their
top, sorted left to right, and split at whitespace or a horizontal gap over ``_X_TOLERANCE``.
Character boxes are PDFium's "loose" boxes (font ascent to descent, advance width), the nearest to
pdfminer's, in PDF points with a top-left origin. All calls hold :mod:`~.pdfium`'s lock.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tools.documents.layout import Word

_X_TOLERANCE = 3.0
_Y_TOLERANCE = 3.0
# pdfplumber expands ligatures (``expand_ligatures``); PDFium reports their code points, and 2 for
# a hyphen that ends a line.
_LIGATURES = {"\x02": "-", "ﬀ": "ff", "ﬃ": "ffi", "ﬄ": "ffl", "ﬁ": "fi", "ﬂ": "fl", "ﬆ": "st", "ﬅ": "st"}

Char = tuple[str, float, float, float, float, bool, bool]  # text, box, upright, after a space


def page_chars(document: Any, index: int) -> list[Char]:
    """The page's printed characters; spaces and line breaks only mark the next one as a word start."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    from tools.documents.pdfium import _LOCK

    chars: list[Char] = []
    with _LOCK:
        page = document[index]
        try:
            left, _bottom, _right, top_edge = page.get_mediabox()
            textpage = page.get_textpage()
            try:
                handle = textpage.raw
                gap = False
                for i in range(textpage.count_chars()):
                    code = raw.FPDFText_GetUnicode(handle, i)
                    if code == 0xFFFE or code == 0xFFFF:
                        continue
                    text = chr(code) if code < 0xD800 or code > 0xDFFF else "\ufffd"
                    if text.isspace():
                        # A space, or PDFium's own word-gap guess (generated; pdfminer splits there
                        # by width): the next character starts a word, wherever its box lies.
                        gap = True
                        continue
                    try:
                        x0, y0, x1, y1 = textpage.get_charbox(i, loose=True)
                    except pdfium.PdfiumError:
                        continue  # a character without a box cannot be placed
                    angle = raw.FPDFText_GetCharAngle(handle, i)
                    upright = angle < 0.01 or angle > 6.27 or angle < 0  # -1: unknown, taken as level
                    top, bottom = top_edge - y1, top_edge - y0
                    if chars and upright and chars[-1][5]:
                        # A glyph without font metrics gets its ink box (a hyphen a point high):
                        # inside the character before it, it takes that one's line height.
                        prev = chars[-1]
                        if (
                            prev[2] <= (top + bottom) / 2 <= prev[4]
                            and bottom - top < (prev[4] - prev[2]) / 2
                        ):
                            top, bottom = prev[2], prev[4]
                    chars.append((text, x0 - left, top, x1 - left, bottom, upright, gap))
                    gap = False
            finally:
                textpage.close()
        finally:
            page.close()
    return chars


def words_from_chars(chars: list[Char], number: int) -> list[Word]:
    """pdfplumber's word grouping (``use_text_flow=False``) over ``chars``."""
    words: list[Word] = []
    # Turned text (a margin note) is grouped apart, as pdfplumber does: it would otherwise chain
    # every line it crosses into one.
    for run in _columns([c for c in chars if not c[5]]):
        current: list[Char] = []
        for char in run:
            if current and (char[6] or char[2] > current[-1][4] + _Y_TOLERANCE):
                _flush(current, number, words)
                current = []
            current.append(char)
        _flush(current, number, words)
    for line in _lines([c for c in chars if c[5]]):
        current = []
        for char in sorted(line, key=lambda c: c[1]):
            if current and (
                char[6]
                or char[1] > current[-1][3] + _X_TOLERANCE
                or abs(char[2] - current[-1][2]) > _Y_TOLERANCE
            ):
                _flush(current, number, words)
                current = []
            current.append(char)
        _flush(current, number, words)
    return words


def _clusters(chars: list[Char], position: Callable[[Char], float]) -> list[list[Char]]:
    """Characters sorted by ``position``, chained while each is within the tolerance of the one before."""
    clusters: list[list[Char]] = []
    last = None
    for char in sorted(chars, key=position):
        if last is None or position(char) - last > _Y_TOLERANCE:
            clusters.append([])
        clusters[-1].append(char)
        last = position(char)
    return clusters


def _lines(chars: list[Char]) -> list[list[Char]]:
    """Characters clustered by top."""
    return _clusters(chars, lambda c: c[2])


def _columns(chars: list[Char]) -> list[list[Char]]:
    """Turned characters as runs: clustered by left edge, each run one word from top to bottom."""
    return [sorted(run, key=lambda c: c[2]) for run in _clusters(chars, lambda c: c[1])]


def _flush(chars: list[Char], number: int, words: list[Word]) -> None:
    if not chars:
        return
    text = "".join(_LIGATURES.get(c[0], c[0]) for c in chars)
    if not text.strip("\ufffd \t\n"):
        return  # nothing PDFium could name
    words.append(
        Word(
            text,
            min(c[1] for c in chars),
            min(c[2] for c in chars),
            max(c[3] for c in chars),
            max(c[4] for c in chars),
            number,
        )
    )


def image_boxes(document: Any, index: int) -> list[tuple[float, float, float, float]]:
    """(x0, top, x1, bottom) of each image on the page, form XObjects included."""
    import pypdfium2.raw as raw

    from tools.documents.pdfium import _LOCK

    boxes = []
    with _LOCK:
        page = document[index]
        try:
            left, _bottom, _right, top_edge = page.get_mediabox()
            for obj in page.get_objects(filter=(raw.FPDF_PAGEOBJ_IMAGE,)):
                x0, y0, x1, y1 = obj.get_bounds()
                boxes.append((x0 - left, top_edge - y1, x1 - left, top_edge - y0))
        finally:
            page.close()
    return boxes
