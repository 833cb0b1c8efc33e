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

from collections.abc import Callable, Iterator
from itertools import pairwise
from operator import itemgetter, lt, sub
from typing import Any, NamedTuple

from tools.documents.layout import Word, text_word
from tools.documents.vectors import Matrix

_X_TOLERANCE = 3.0
_Y_TOLERANCE = 3.0
# pdfplumber expands ligatures (``expand_ligatures``); PDFium reports their code points, and 2 for
# a hyphen that ends a line.
_LIGATURES = {"\x02": "-", "ﬀ": "ff", "ﬃ": "ffi", "ﬄ": "ffl", "ﬁ": "fi", "ﬂ": "fl", "ﬆ": "st", "ﬅ": "st"}
_LIGATURE_TABLE = str.maketrans(_LIGATURES)

Char = tuple[str, float, float, float, float, bool, bool]  # text, box, upright, after a space
# The widest gap PDFium's guessed space may leave inside a word, as a share of the line height:
# kerned pairs measured on the e-invoice corpora sit at 0.11-0.12, spaces between words at 0.145
# (a narrow font) and above.
_KERNED = 0.13
Box = tuple[float, float, float, float]  # x0, top, x1, bottom


class Layer(NamedTuple):
    """What one page load gives: the characters, the image boxes, and the path objects with
    their forms' matrices (for :func:`~.vectors.page_edges`, valid while the page is loaded)."""

    chars: list[Char]
    images: list[Box]
    paths: list[tuple[Any, Matrix]]


def read_layer(page: Any) -> Layer:
    """The characters, image boxes and path objects of a loaded page (:class:`~.pdfium.OpenPage`):
    one walk over the page's objects finds the images and the paths."""
    from tools.documents.pdfium import _LOCK

    with _LOCK:
        images, paths, level = _objects(page)
        return Layer(_chars(page, level), images, paths)


def page_chars(document: Any, index: int) -> list[Char]:
    from tools.documents.pdfium import OpenPage

    with OpenPage(document, index) as page:
        return read_layer(page.get()).chars


def image_boxes(document: Any, index: int) -> list[Box]:
    from tools.documents.pdfium import OpenPage

    with OpenPage(document, index) as page:
        return read_layer(page.get()).images


def _codes(handle: Any, count: int) -> list[int]:
    """Each character's code point: the page's text in one call, asking character by character
    only where that text holds no code point of its own (PDFium writes 0xFFFE there, e.g. for the
    hyphen that ends a line, code 2, and surrogate pairs for code points past 0xFFFF)."""
    import ctypes

    import pypdfium2.raw as raw

    buffer = (ctypes.c_ushort * (count + 1))()
    written = raw.FPDFText_GetText(handle, 0, count, buffer)
    if written != count + 1:
        return [raw.FPDFText_GetUnicode(handle, i) for i in range(count)]
    codes = list(buffer[:count])
    for i, code in enumerate(codes):
        if code >= 0xD800 and (code <= 0xDFFF or code >= 0xFFFE):
            codes[i] = raw.FPDFText_GetUnicode(handle, i)
    return codes


def _chars(page: Any, level: bool = False) -> list[Char]:
    """The page's printed characters; spaces and line breaks only mark the next one as a word start.
    ``level``: every text object of the page is known to be upright (:func:`_objects`), so no
    character's angle is asked for (a call per character: 0.25 ms on a page of 1,100)."""
    import ctypes

    import pypdfium2.raw as raw

    chars: list[Char] = []
    from tools.documents.pdfium import page_origin, unchecked

    left, top_edge = page_origin(page)
    handle = raw.FPDFText_LoadPage(page.raw)
    if not handle:
        return chars
    # Raw calls into one reused rectangle: the helpers' wrappers cost more than PDFium's work.
    get_box, get_angle = unchecked("FPDFText_GetLooseCharBox"), unchecked("FPDFText_GetCharAngle")
    rect = raw.FS_RECTF()
    rect_ref = ctypes.byref(rect)
    append = chars.append
    is_generated = unchecked("FPDFText_IsGenerated")
    try:
        gap = guessed = False
        prev: Char | None = None  # the last character kept, if it is upright
        for i, code in enumerate(_codes(handle, raw.FPDFText_CountChars(handle))):
            if code == 0xFFFE or code == 0xFFFF:
                continue
            text = chr(code) if code < 0xD800 or code > 0xDFFF else "\ufffd"
            if text.isspace():
                # A space, or PDFium's own word-gap guess (generated; pdfminer splits there
                # by width): the next character starts a word, wherever its box lies ...
                # (guessed: every blank since the last character is PDFium's own)
                guessed = is_generated(handle, i) == 1 and (guessed or not gap)
                gap = True
                continue
            if not get_box(handle, i, rect_ref):
                continue  # a character without a box cannot be placed
            if level:
                upright = True
            else:
                angle = get_angle(handle, i)
                upright = angle < 0.01 or angle > 6.27  # -1 (unknown) is taken as level
            top, bottom = top_edge - rect.top, top_edge - rect.bottom
            # A glyph without font metrics gets its ink box (a hyphen a point high): inside the
            # upright character before it, an upright one takes that one's line height.
            if (
                upright
                and prev is not None
                and prev[2] <= (top + bottom) / 2 <= prev[4]
                and bottom - top < (prev[4] - prev[2]) / 2
            ):
                top, bottom = prev[2], prev[4]
            if guessed and prev is not None and text.islower() and prev[0].isalpha():
                # ... except a guess inside a word: a kerned pair (a tight "r" or "J" before a
                # small letter) read as a gap. A space between words is a quarter of the line
                # height or more; a kerning pair's gap is a tenth.
                height = prev[4] - prev[2]
                if abs(top - prev[2]) < 0.1 * height and 0 <= rect.left - left - prev[3] < _KERNED * height:
                    gap = False
            char = (text, rect.left - left, top, rect.right - left, bottom, upright, gap)
            append(char)
            prev = char if upright else None
            gap = guessed = False
    finally:
        raw.FPDFText_ClosePage(handle)
    return chars


def words_from_chars(chars: list[Char], number: int) -> list[Word]:
    """pdfplumber's word grouping (``use_text_flow=False``) over ``chars``."""
    return [text_word(text, x0, top, x1, bottom, number) for text, x0, top, x1, bottom in word_boxes(chars)]


def word_boxes(chars: list[Char]) -> list[tuple[str, float, float, float, float]]:
    """(text, x0, top, x1, bottom) of each of :func:`word_runs`' words that has a nameable
    character. A page without turned text (nearly all) is split and measured in one pass over
    each line: the same words, boxes and order as measuring each run (the edges are kept by
    strict comparisons, as ``min`` and ``max`` keep the first of equals)."""
    boxes: list[tuple[str, float, float, float, float]] = []
    if not all(map(_UPRIGHT, chars)):
        for run in word_runs(chars):
            text = run_text(run)
            if text.strip("\ufffd \t\n"):
                _, x0s, tops, x1s, bottoms, _, _ = zip(*run, strict=True)
                boxes.append((text, min(x0s), min(tops), max(x1s), max(bottoms)))
        return boxes
    table, tolerance_x, tolerance_y = _LIGATURE_TABLE, _X_TOLERANCE, _Y_TOLERANCE
    for line in _clusters(chars, _TOP):
        line.sort(key=_LEFT)
        first, x0, top, x1, bottom, _, _ = line[0]
        texts = [first]
        previous_x1, previous_top = x1, top  # the character before's right edge and top
        # Each character unpacked once (one step) rather than indexed field by field.
        for char, cx0, ctop, cx1, cbottom, _, gap in line[1:]:
            if gap or cx0 > previous_x1 + tolerance_x or abs(ctop - previous_top) > tolerance_y:
                text = "".join(texts).translate(table)
                if text.strip("\ufffd \t\n"):
                    boxes.append((text, x0, top, x1, bottom))
                texts = [char]
                x0, top, x1, bottom = cx0, ctop, cx1, cbottom
            else:
                texts.append(char)
                if cx0 < x0:
                    x0 = cx0
                if ctop < top:
                    top = ctop
                if cx1 > x1:
                    x1 = cx1
                if cbottom > bottom:
                    bottom = cbottom
            previous_x1, previous_top = cx1, ctop
        text = "".join(texts).translate(table)
        if text.strip("\ufffd \t\n"):
            boxes.append((text, x0, top, x1, bottom))
    return boxes


def word_texts(chars: list[Char]) -> list[str]:
    """The texts of :func:`words_from_chars`' words, without building them (a table cell's text)."""
    if len(chars) <= 1:
        text = "".join([c[0] for c in chars]).translate(_LIGATURE_TABLE)
        return [text] if text.strip("\ufffd \t\n") else []
    # Nearly every cell holds one line of upright characters drawn left to right: within the
    # tolerance of each other they make one line, and sorting it by left edge (no two alike)
    # keeps their order, so the words are split as drawn.
    tops = [c[2] for c in chars]
    lefts = [c[1] for c in chars]
    if not (
        max(tops) - min(tops) <= _Y_TOLERANCE
        and all(map(_UPRIGHT, chars))
        and all(map(lt, lefts, lefts[1:]))  # each left of the next (a NaN is not)
    ):
        return [box[0] for box in word_boxes(chars)]
    texts: list[str] = []
    run = [chars[0][0]]
    previous_x1, previous_top = chars[0][3], chars[0][2]
    for char, cx0, ctop, cx1, _, _, gap in chars[1:]:
        if gap or cx0 > previous_x1 + _X_TOLERANCE or abs(ctop - previous_top) > _Y_TOLERANCE:
            text = "".join(run).translate(_LIGATURE_TABLE)
            if text.strip("\ufffd \t\n"):
                texts.append(text)
            run = [char]
        else:
            run.append(char)
        previous_x1, previous_top = cx1, ctop
    text = "".join(run).translate(_LIGATURE_TABLE)
    if text.strip("\ufffd \t\n"):
        texts.append(text)
    return texts


def run_text(run: list[Char]) -> str:
    """A word's text, ligatures expanded (every character's text is one code point)."""
    return "".join([c[0] for c in run]).translate(_LIGATURE_TABLE)


def word_runs(chars: list[Char]) -> Iterator[list[Char]]:
    """The characters of each word, in pdfplumber's order: turned runs first, then line by line."""
    if len(chars) == 1:
        yield list(chars)  # a table cell's lone character: its own word, whichever way it turns
        return
    upright = chars
    if not all(map(_UPRIGHT, chars)):
        # Turned text (a margin note) is grouped apart, as pdfplumber does: it would otherwise
        # chain every line it crosses into one.
        for run in _columns([c for c in chars if not c[5]]):
            start = 0
            for k in range(1, len(run)):
                if run[k][6] or run[k][2] > run[k - 1][4] + _Y_TOLERANCE:
                    yield run[start:k]
                    start = k
            yield run[start:]
        upright = [c for c in chars if c[5]]
    for line in _clusters(upright, _TOP):
        line.sort(key=_LEFT)
        start = 0
        previous = line[0]
        for k in range(1, len(line)):
            char = line[k]
            if char[6] or char[1] > previous[3] + _X_TOLERANCE or abs(char[2] - previous[2]) > _Y_TOLERANCE:
                yield line[start:k]
                start = k
            previous = char
        yield line[start:]


_LEFT = itemgetter(1)
_TOP = itemgetter(2)
_UPRIGHT = itemgetter(5)


def _clusters(chars: list[Char], position: Callable[[Char], float]) -> list[list[Char]]:
    """Characters sorted by ``position``, chained while each is within the tolerance of the one before."""
    ordered = sorted(chars, key=position)
    values = list(map(position, ordered))
    # A cluster starts where a value lies more than the tolerance past the one before.
    starts = [i for i, gap in enumerate(map(sub, values[1:], values), start=1) if gap > _Y_TOLERANCE]
    return [ordered[a:b] for a, b in pairwise([0, *starts, len(ordered)])] if ordered else []


def _columns(chars: list[Char]) -> list[list[Char]]:
    """Turned characters as runs: clustered by left edge, each run one word from top to bottom."""
    return [sorted(run, key=_TOP) for run in _clusters(chars, _LEFT)]


# Text objects checked for :func:`_level` at most: a page is usually written in a few dozen (a line
# or a block each); past this many (a writer that makes one per character), checking them would
# cost as much as the angle calls it saves.
_LEVEL_CHECKS = 128


def _objects(page: Any) -> tuple[list[Box], list[tuple[Any, Matrix]], bool]:
    """(x0, top, x1, bottom) of each image on the page, form XObjects included (an image fills
    the unit square of its matrix), each path object with its forms' matrix, and whether every
    text object is upright (:func:`_level`): then so is each of its characters. False when the
    page has more than ``_LEVEL_CHECKS`` text objects: its characters' angles are asked."""
    import ctypes

    import pypdfium2.raw as raw

    from tools.documents.pdfium import page_origin, unchecked
    from tools.documents.vectors import object_matrix, walk_objects

    left, top_edge = page_origin(page)
    boxes = []
    paths = []
    image, path, text = raw.FPDF_PAGEOBJ_IMAGE, raw.FPDF_PAGEOBJ_PATH, raw.FPDF_PAGEOBJ_TEXT
    own, get_matrix = raw.FS_MATRIX(), unchecked("FPDFPageObj_GetMatrix")
    own_ref = ctypes.byref(own)
    level = True
    budget = _LEVEL_CHECKS
    cut: list[Any] = []
    # The walk reads ``wanted`` at each object: once the page is known not to be level, its
    # further text objects are not even handed over.
    wanted = {image, path, text}
    for obj, kind, outer in walk_objects(page, wanted, compose=False, cut=cut):
        if kind == text:
            budget -= 1
            level = (
                budget >= 0 and bool(get_matrix(obj, own_ref)) and _level(own.a, own.b, own.c, own.d, outer)
            )
            if not level:
                wanted.discard(text)
            continue
        if kind == path:
            paths.append((obj, outer))
            continue
        m = object_matrix(obj, outer)
        xs = [m[4], m[0] + m[4], m[2] + m[4], m[0] + m[2] + m[4]]
        ys = [m[5], m[1] + m[5], m[3] + m[5], m[1] + m[3] + m[5]]
        boxes.append((min(xs) - left, top_edge - max(ys), max(xs) - left, top_edge - min(ys)))
    # Text in a form nested past the walk's depth is unseen: its angle is not known.
    return boxes, paths, level and not cut


def _level(a: float, b: float, c: float, d: float, outer: Matrix) -> bool:
    """Whether PDFium counts the characters of a text object with matrix (a, b, c, d) inside
    forms of matrix ``outer`` as upright: their matrix is the two composed, and their angle is
    ``atan2(c, a)`` of it (``FPDFText_GetCharAngle``), upright under 0.01 or over 6.27 radians.
    Decided only where the angle is within 0.005 of level (|c| <= 0.005 a, a > 0): far enough
    from that bound that PDFium's float arithmetic cannot land on the other side."""
    big_a, _, big_c, _, _, _ = outer
    composed_a = a * big_a + b * big_c
    composed_c = c * big_a + d * big_c
    return composed_a > 0 and abs(composed_c) <= 0.005 * composed_a
