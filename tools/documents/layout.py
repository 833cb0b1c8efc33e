"""The reader-neutral page model: words with boxes, grouped into lines and segments.

Every reader (PDF text layer, OCR) produces :class:`Page` objects of :class:`Word` s; extractors only
see this model, so they work the same on text PDFs and scans. Coordinates are ``[x0, top, x1, bottom]``
with the origin at the top-left corner of the page: PDF points for PDFs (scanned or not), pixels of the
original image for images.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Generic, Literal, TypeVar, overload

from tools.documents.normalize import fold

_Owner = TypeVar("_Owner")
_Value = TypeVar("_Value")


class _once(Generic[_Owner, _Value]):
    """``functools.cached_property`` without its lock (Python 3.11 takes the property's one lock,
    shared by every instance, at each first read, and a page reads a key for each of its words).
    The value goes into the instance's ``__dict__``, where later reads find it first."""

    def __init__(self, func: Callable[[_Owner], _Value]) -> None:
        self.func = func
        self.name = func.__name__
        self.__doc__ = func.__doc__

    @overload
    def __get__(self, instance: None, owner: type[Any] | None = None) -> _once[_Owner, _Value]: ...
    @overload
    def __get__(self, instance: _Owner, owner: type[Any] | None = None) -> _Value: ...
    def __get__(self, instance: _Owner | None, owner: type[Any] | None = None) -> Any:
        if instance is None:
            return self
        value = instance.__dict__[self.name] = self.func(instance)
        return value


# Punctuation around a label word: a dash glued to it ("Invoice #—", "Amount—") as much as a
# colon, and quote marks and underscores OCR reads from specks beside it ('"Rechnungsnummer').
_KEY_PUNCTUATION = ":.#*()[]|;,—–\"'„“”‚‘’«»_"
# Under this tesseract confidence a word may be a label word with one letter misread.
UNSURE = 0.9
# Figures OCR reads for the letters they look like, at the start of a word of letters.
_OCR_LETTERS = {"1": "i", "0": "o", "5": "s", "8": "b"}


@dataclass(frozen=True)
class Word:
    text: str
    x0: float
    top: float
    x1: float
    bottom: float
    page: int  # 1-based
    confidence: float = 1.0  # 1.0 for a text layer; tesseract's word confidence for OCR
    # The box on the page as delivered when it differs from the layout box (a deskewed scan: layout
    # works on the levelled page, provenance points at the original pixels).
    original: tuple[float, float, float, float] | None = None

    @property
    def box(self) -> tuple[float, float, float, float]:
        return self.original or (self.x0, self.top, self.x1, self.bottom)

    @_once
    def key(self) -> str:
        """Folded text without surrounding punctuation, for label matching (computed once)."""
        text = fold(self.text.replace("°", "").replace("º", ""))
        key = text.strip(_KEY_PUNCTUATION)
        if self.confidence < 1.0:
            if key[:1] in _OCR_LETTERS and key[1:3].isalpha():
                # OCR reads a word's first letter as a look-alike figure ("1BAN-Nr."): a word of
                # letters starts with a letter
                key = _OCR_LETTERS[key[0]] + key[1:]
            elif text[:1] in "{[(|!" and text[1:3].isalpha():
                # ... or as a bracket or bar ("{nvoice"): taken as an "I" where that spells a label word
                from tools.documents.labels import label_vocabulary

                candidate = "i" + text[1:].strip(_KEY_PUNCTUATION)
                if candidate in label_vocabulary():
                    key = candidate
            if self.confidence < UNSURE and len(key) >= 5:
                # ... or one letter of a label word as another ("Räufer" for "Käufer"), where
                # tesseract itself doubts the word: the one label word it is a letter away from
                from tools.documents.labels import near_label_word

                key = near_label_word(key) or key
        return key

    @property
    def height(self) -> float:
        return self.bottom - self.top


def text_word(text: str, x0: float, top: float, x1: float, bottom: float, page: int) -> Word:
    """``Word(text, x0, top, x1, bottom, page)``, built without the frozen dataclass's
    ``__init__`` (one ``object.__setattr__`` call per field, twice the cost): the same fields, in
    the same order, defaults included. A text layer makes one per word."""
    word = object.__new__(Word)
    fields = word.__dict__
    fields["text"] = text
    fields["x0"] = x0
    fields["top"] = top
    fields["x1"] = x1
    fields["bottom"] = bottom
    fields["page"] = page
    fields["confidence"] = 1.0
    fields["original"] = None
    return word


def bbox_of(words: list[Word]) -> list[float]:
    """The provenance box of ``words``: ``[x0, top, x1, bottom]`` on the page as delivered."""
    boxes = [w.box for w in words]
    return [
        round(min(b[0] for b in boxes), 1),
        round(min(b[1] for b in boxes), 1),
        round(max(b[2] for b in boxes), 1),
        round(max(b[3] for b in boxes), 1),
    ]


@dataclass
class Segment:
    """Words of one line that sit close together: a cell, a label with its value, a phrase."""

    words: list[Word]

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)

    @property
    def keys(self) -> list[str]:
        return [w.key for w in self.words]

    @property
    def x0(self) -> float:
        return self.words[0].x0

    @property
    def x1(self) -> float:
        return self.words[-1].x1

    @property
    def bbox(self) -> list[float]:
        return bbox_of(self.words)


@dataclass
class Line:
    page: int
    words: list[Word]
    segments: list[Segment] = field(default_factory=list)
    # What readers work out from the (unchanging) words once, such as the column labels the line
    # holds: every table reader asks whether each line is a table header.
    memo: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)

    @property
    def top(self) -> float:
        return min(w.top for w in self.words)

    @property
    def bottom(self) -> float:
        return max(w.bottom for w in self.words)


@dataclass(frozen=True)
class Cell:
    """One table cell found by pdfplumber: its text (lines joined by spaces) and its box."""

    text: str
    bbox: tuple[float, float, float, float]


@dataclass
class Grid:
    """A table pdfplumber found on a page with one strategy: rows of cells (None where a row has
    no cell in a column)."""

    page: int
    strategy: Literal["lines", "text"]
    bbox: tuple[float, float, float, float]
    rows: list[list[Cell | None]]

    def column_spans(self) -> list[tuple[float, float] | None]:
        """Each column's horizontal extent (None for a column with no cell)."""
        spans: list[tuple[float, float] | None] = []
        for j in range(max((len(row) for row in self.rows), default=0)):
            cells = [row[j] for row in self.rows if j < len(row) and row[j] is not None]
            boxes = [cell.bbox for cell in cells if cell is not None]
            spans.append((min(b[0] for b in boxes), max(b[2] for b in boxes)) if boxes else None)
        return spans


@dataclass
class Page:
    number: int  # 1-based
    width: float
    height: float
    unit: Literal["pt", "px"]
    reader: Literal["text", "ocr", "text+ocr", "plain"]
    words: list[Word]
    lines: list[Line] = field(default_factory=list)
    # Ruled tables of the text layer that hold a line-item header, a second source of line items.
    tables: list[Grid] = field(default_factory=list)
    # The text layer's characters (text, x0, top, x1, bottom, upright, after a space), kept for the
    # text-aligned tables (tools.documents.grids.text_grids); empty for OCR'd pages.
    chars: list[tuple[str, float, float, float, float, bool, bool]] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self.words = split_numbered(without_leaders(self.words))
        if not self.lines:
            self.lines = group_lines(self.words)


def without_leaders(words: list[Word]) -> list[Word]:
    """``words`` with leader dots taken out of the words they were drawn through: a row printed
    over a dotted leader comes out as "In..v.o..ic..e.." and "4..8.3..6..2.1..2.5"; its own dots
    (a decimal point, "B.V.", an ellipsis) never come in two runs of two or more."""
    if not any(".." in w.text for w in words):
        return words
    out = []
    for word in words:
        if word.text.count("..") >= 2:
            text = word.text.replace(".", "")
            if text:
                word = replace(word, text=text)
            else:
                continue  # a word of leader dots alone
        out.append(word)
    return out


# A number sign glued to the number it introduces ("Facture n°562044387", "Invoice No.4711",
# "Rechnung Nr.12"): the sign belongs to the label, the digits are the value.
_NUMERO = re.compile(r"(?:n[°º]|no\.|nr\.)(?=\d)", re.IGNORECASE)
_NUMERO_ANYWHERE = re.compile(r"(?:^|\s)(?:n[°º]|no\.|nr\.)\d", re.IGNORECASE)  # one scan a page


def split_numbered(words: list[Word]) -> list[Word]:
    """``words`` with each number sign glued to a number split off as a word of its own; the box
    is shared out by character count (a proportional font's widths are unknown here)."""
    if not _NUMERO_ANYWHERE.search(" ".join([w.text for w in words])):
        return words
    out: list[Word] = []
    for word in words:
        match = _NUMERO.match(word.text)
        if match is None:
            out.append(word)
            continue
        share = match.end() / len(word.text)
        x = word.x0 + (word.x1 - word.x0) * share
        sign, number = word.text[: match.end()], word.text[match.end() :]
        original = word.original
        first_original = second_original = None
        if original is not None:
            ox = original[0] + (original[2] - original[0]) * share
            first_original = (original[0], original[1], ox, original[3])
            second_original = (ox, original[1], original[2], original[3])
        out.append(replace(word, text=sign, x1=x, original=first_original))
        out.append(replace(word, text=number, x0=x, original=second_original))
    return out


def _median(ordered: list[float]) -> float:
    """``statistics.median`` of an already sorted list."""
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def group_lines(words: list[Word]) -> list[Line]:
    """Group words into reading-order lines, then split each line into segments at wide gaps."""
    if not words:
        return []
    ordered = sorted(words, key=lambda w: ((w.top + w.bottom) / 2, w.x0))
    lines: list[list[Word]] = []
    tops: list[float] = []  # the last line's tops and bottoms, kept sorted for their medians
    bottoms: list[float] = []
    top = bottom = 0.0  # their medians, updated as the line grows
    for word in ordered:
        centre = (word.top + word.bottom) / 2
        height = word.bottom - word.top
        # Same line when the centre falls inside the line's band (skewed scans drift a little).
        if lines and top - 0.1 * height <= centre <= bottom + 0.1 * height:
            lines[-1].append(word)
            bisect.insort(tops, word.top)
            bisect.insort(bottoms, word.bottom)
            top, bottom = _median(tops), _median(bottoms)
            continue
        lines.append([word])
        tops, bottoms = [word.top], [word.bottom]
        top, bottom = word.top, word.bottom
    result = []
    for line_words in lines:
        line_words.sort(key=lambda w: w.x0)
        line = Line(page=line_words[0].page, words=line_words)
        line.segments = split_segments(line_words)
        result.append(line)
    return result


def split_segments(words: list[Word]) -> list[Segment]:
    """Split one line where the gap between words is wider than about two spaces' worth."""
    height = _median(sorted([w.bottom - w.top for w in words])) or 1.0  # statistics.median
    segments = [Segment([words[0]])]
    for previous, word in itertools.pairwise(words):
        if word.x0 - previous.x1 > 1.1 * height:
            segments.append(Segment([word]))
        else:
            segments[-1].words.append(word)
    return segments
