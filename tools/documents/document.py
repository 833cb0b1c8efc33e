"""A read document: its pages plus what the extractors learn about it once (language, number style).

Contract: :class:`Document` wraps the reader's pages and offers label look-up (:meth:`find_label`,
:meth:`value_after`) shared by every extractor. Values come back as :class:`Hit` s that carry the
words they were read from, so each extracted field keeps its page and box.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from tools.documents.labels import COLUMN_TOKENS, language_of
from tools.documents.layout import Line, Page, Segment, Word, bbox_of
from tools.documents.normalize import fold, mentioned_currencies, numeric_order_evidence, one_letter_off
from tools.messages.model import FieldSource


@dataclass
class Hit:
    """A value's text and the words it was read from."""

    text: str
    words: list[Word]
    confidence: float = 1.0
    rule: str | None = None  # the learned layout rule that read it ("layout-rule 3, taught by ana")

    def source(self) -> FieldSource:
        if not self.words:
            return FieldSource(rule=self.rule)
        page = self.words[0].page
        words = [w for w in self.words if w.page == page]
        return FieldSource(page=page, bbox=bbox_of(words), rule=self.rule)

    @property
    def ocr_confidence(self) -> float:
        return min((w.confidence for w in self.words), default=1.0)


# A segment of its own between a label and its value.
_SEPARATORS = {":", "-", "=", "–", ":-"}


def _is_separator(text: str) -> bool:
    """A segment that only separates a label from its value: a colon, a dash, or any lone symbol
    (OCR reads a small colon as "©" or "•")."""
    text = text.strip()
    return text in _SEPARATORS or (len(text) == 1 and not text.isalnum())


# Words that join the first half of an elliptical compound to the next ("Liefer- und ...").
_CONJUNCTIONS = {"und", "u", "and", "et", "en", "y", "e", "&", "/"}


@dataclass
class LabelMatch:
    line: Line
    segment: Segment
    label_end: int  # index in segment.words just past the label
    label: tuple[str, ...]

    @property
    def label_words(self) -> list[Word]:
        return self.segment.words[: self.label_end]


def match_tokens(keys: list[str], start: int, label: tuple[str, ...]) -> bool:
    """Whether ``keys[start:]`` begins with the tokens of ``label``."""
    if start + len(label) > len(keys):
        return False
    # One list comparison (token by token, in C) instead of a generator step per token.
    return keys[start : start + len(label)] == [*label]


class LabelSet:
    """Labels indexed by their first token: a line is checked only against the labels its words
    start, not all of them (the matching runs for every line of every page)."""

    def __init__(self, labels: list[tuple[str, ...]]) -> None:
        self.by_first: dict[str, list[tuple[str, ...]]] = {}
        for label in labels:
            if label:
                self.by_first.setdefault(label[0], []).append(label)

    def starts(self, keys: list[str], start: int = 0) -> bool:
        """Whether ``keys[start:]`` begins with one of the labels."""
        if start >= len(keys):
            return False
        return any(match_tokens(keys, start, label) for label in self.by_first.get(keys[start], ()))


# "Verkäufer-IBAN", "Empfänger-BIC": an account label qualified by whose account it is. The
# seller's or payee's reads as the label itself; the buyer's (a direct debit's account) does not.
_ACCOUNT_LABELS = {"iban", "bic"}
_BUYER_WORDS = ("kunde", "kunden", "kaufer", "kaeufer", "customer", "buyer", "debitor", "client", "acheteur")


# Number marks ("Nr.", "No."): a segment ending in one asks for the number that follows it.
_MARK_KEYS = {"nr", "no", "number", "nummer", "numero", "num"}


def _qualified_account_label(key: str) -> str | None:
    key = key.replace(".", "-")  # "IBAN.Nr." as OCR reads the hyphen of "IBAN-Nr."
    head, _, tail = key.partition("-")
    if head in _ACCOUNT_LABELS and len(tail) <= 3:
        return head  # "IBAN-Nr." as OCR garbles its abbreviation ("IBAN-NEe.")
    owner, _, label = key.rpartition("-")
    if not owner or label not in _ACCOUNT_LABELS or owner.startswith(_BUYER_WORDS):
        return None
    return label


@dataclass
class Document:
    pages: list[Page]
    source: str
    lines: list[Line] = field(init=False)
    line_index: dict[int, int] = field(init=False)
    _segments: list[tuple[Line, Segment, list[str]]] = field(init=False, repr=False)
    _by_first_key: dict[str, list[tuple[Line, Segment, list[str]]]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.lines = [line for page in self.pages for line in page.lines]
        self.line_index = {id(line): i for i, line in enumerate(self.lines)}
        self._segments = [(line, seg, seg.keys) for line in self.lines for seg in line.segments]
        self._by_first_key: dict[str, list[tuple[Line, Segment, list[str]]]] = {}
        for entry in self._segments:
            line, segment, keys = entry
            if keys:
                self._by_first_key.setdefault(keys[0], []).append(entry)
                if keys[0].endswith("-") and len(keys) > 2 and keys[1] in _CONJUNCTIONS:
                    # "Liefer- und Rechnungsdatum": the label after the elliptical compound's
                    # first half is as much this segment's label as at its start
                    self._by_first_key.setdefault(keys[2], []).append(
                        (line, Segment(segment.words[2:]), keys[2:])
                    )
                qualified = _qualified_account_label(keys[0]) if "-" in keys[0] or "." in keys[0] else None
                if qualified is not None:
                    self._by_first_key.setdefault(qualified, []).append(
                        (line, segment, [qualified, *keys[1:]])
                    )

    @cached_property
    def _by_any_key(self) -> dict[str, list[tuple[Line, Segment, list[str]]]]:
        """The segments holding each key anywhere, in document order (for labels in running text)."""
        index: dict[str, list[tuple[Line, Segment, list[str]]]] = {}
        for entry in self._segments:
            for key in dict.fromkeys(entry[2]):
                index.setdefault(key, []).append(entry)
        return index

    def line_with(self, word: Word) -> int | None:
        """The index of the first line holding a word equal to ``word`` (``word in line.words``),
        comparing whole words only where the texts agree: a word's equality compares every field."""
        text = word.text
        for index, line in enumerate(self.lines):
            for candidate in line.words:
                if candidate.text == text and candidate == word:
                    return index
        return None

    @cached_property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)

    @cached_property
    def currencies(self) -> set[str]:
        """Every currency code or unambiguous symbol the text mentions (read once)."""
        return mentioned_currencies(self.text)

    @cached_property
    def language(self) -> str:
        return language_of([fold(w).strip(":.,;") for w in self.text.split()]) or "en"

    @cached_property
    def decimal_hint(self) -> str:
        """The usual decimal separator: whichever ends more two-decimal amounts."""
        import re

        commas = len(re.findall(r"\d,\d{2}(?!\d)", self.text))
        dots = len(re.findall(r"\d\.\d{2}(?!\d)", self.text))
        if commas == dots:
            return "." if self.language == "en" else ","
        return "," if commas > dots else "."

    @cached_property
    def date_order(self) -> str:
        """``DMY`` or ``MDY`` for numeric dates: evidence in the document first, then the language."""
        evidence = numeric_order_evidence(self.text)
        if evidence:
            return evidence
        return "MDY" if self.language == "en" and "/" in self.text and self.decimal_hint == "." else "DMY"

    def is_table_header(self, line: Line) -> bool:
        """A line-item table header: an id or description column plus an amount column."""
        return is_table_header(line)

    def find_label(self, label_tokens: list[tuple[str, ...]], anywhere: bool = False) -> list[LabelMatch]:
        """Segments that start with one of the labels, in label priority order, then document order.

        With ``anywhere``, a label may also sit inside running text ("... with reference PAY123.");
        the match then covers the segment from the label on.
        """
        matches: list[LabelMatch] = []
        for label in label_tokens:
            index = self._by_any_key if anywhere else self._by_first_key
            for line, segment, keys in index.get(label[0], []):
                starts = range(len(keys)) if anywhere else range(1)
                for start in starts:
                    if not match_tokens(keys, start, label):
                        continue
                    end = start + len(label)
                    # A label can be followed by its own punctuation as separate tokens: "No :".
                    while end < len(keys) and keys[end] == "":
                        end += 1
                    tail = Segment(segment.words[start:]) if start else segment
                    matches.append(LabelMatch(line, tail, end - start, label))
                    break
        return matches

    def value_candidates(self, match: LabelMatch) -> list[Hit]:
        """Where a label's value may be: after it in its segment, in the next segment, or below it."""
        candidates = []
        rest = match.segment.words[match.label_end :]
        if rest:
            candidates.append(Hit(" ".join(w.text for w in rest), rest))
        line = match.line
        if match.segment not in line.segments:
            # A label inside running text: its value follows it, or starts the next line (wrapped);
            # a label ending its segment ("1234 5678 90 _ IBAN-Nr.:" | "DE08 7009 ..."), the next
            # segment of its line first.
            if not rest:
                last = match.segment.words[-1] if match.segment.words else None
                index = next(
                    (i for i, s in enumerate(line.segments) if any(w is last for w in s.words)), None
                )
                if index is not None and index + 1 < len(line.segments):
                    nxt = line.segments[index + 1]
                    if not nxt.text.endswith(":"):
                        candidates.append(Hit(nxt.text, list(nxt.words)))
                position = self.line_index[id(line)]
                if position + 1 < len(self.lines) and self.lines[position + 1].page == line.page:
                    first = self.lines[position + 1].segments[0]
                    candidates.append(Hit(first.text, list(first.words)))
            return candidates
        if len(rest) > 1 and rest[-1].key in _MARK_KEYS:
            # "Rechnung gemäß Bestellung Nr." | "2018-471331": the label word opens a sentence
            # whose own number mark the next segment answers, not the label
            return candidates
        index = line.segments.index(match.segment)
        if index + 1 < len(line.segments):
            nxt = line.segments[index + 1]
            if _is_separator(nxt.text) and index + 2 < len(line.segments):
                nxt = line.segments[index + 2]  # "Beleg-Nr  :  KR87654321012": the colon stands alone
            # A segment ending in a colon is the next label, not this one's value.
            if not nxt.text.endswith(":"):
                candidates.append(Hit(nxt.text, list(nxt.words)))
        below = self.below(match.line, match.segment)
        if below is not None and not below.text.endswith(":"):
            candidates.append(Hit(below.text, list(below.words)))
        return candidates

    def below(self, line: Line, segment: Segment) -> Segment | None:
        """The segment on the next line that sits under ``segment`` (values under header labels):
        lines between that hold nothing in its column (a paragraph beside a totals box, its lines
        closer together) are passed over, as long as the value stays within reach."""
        position = self.line_index[id(line)]
        height = max(w.height for w in segment.words)
        for following in self.lines[position + 1 : position + 6]:
            if following.page != line.page or following.top - line.bottom > 2.5 * height:
                return None
            best, best_overlap = None, 0.0
            for candidate in following.segments:
                overlap = min(candidate.x1, segment.x1) - max(candidate.x0, segment.x0)
                if overlap > best_overlap:
                    best, best_overlap = candidate, overlap
            if best is not None:
                return best
        return None


def is_table_header(line: Line) -> bool:
    """A line-item table header: an id or description column plus an amount column. Worked out
    once per line, like its column labels."""
    found = line.memo.get("table_header")
    if found is None:
        found = line.memo["table_header"] = is_header_columns([name for name, _, _ in column_labels(line)])
    return bool(found)


def is_header_columns(names: list[str]) -> bool:
    """Column names that make a line-item table: an id or description plus an amount."""
    found = set(names)
    return (
        len(names) >= 2
        and bool(found & {"invoice_number", "description"})
        and bool(found & {"amount", "net_amount", "discount"})
    )


# Column labels by their first token: a line is checked against the few labels its words start.
_COLUMNS_BY_FIRST: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
for _name, _labels in COLUMN_TOKENS.items():
    for _label in _labels:
        _COLUMNS_BY_FIRST.setdefault(_label[0], []).append((_name, _label))


def _near_first_token(key: str) -> str | None:
    """The column label's first token that an OCR'd word misreads by one letter ("tnvoice")."""
    if len(key) < 5:
        return None  # short words are too easily one letter away from another
    return next(iter(one_letter_off(key, _COLUMNS_BY_FIRST)), None)


def column_labels(line: Line) -> list[tuple[str, float, float]]:
    """Column header labels in a line: (column name, x0, x1), left to right, longest label first.

    On OCR'd words the first word of a label may be one letter off; later words must match.
    Worked out once per line (the table readers ask for every line, some several times).
    """
    found = line.memo.get("column_labels")
    if found is None:
        found = line.memo["column_labels"] = _column_labels(line)
    return list(found)


def _column_labels(line: Line) -> list[tuple[str, float, float]]:
    keys = [w.key for w in line.words]
    found: list[tuple[str, float, float]] = []
    i = 0
    while i < len(keys):
        best: tuple[str, tuple[str, ...]] | None = None
        entries = _COLUMNS_BY_FIRST.get(keys[i], ())
        if not entries and line.words[i].confidence < 1.0:
            near = _near_first_token(keys[i])
            if near is not None:
                keys[i] = near
                entries = _COLUMNS_BY_FIRST[near]
        for name, label in entries:
            if match_tokens(keys, i, label) and (best is None or len(label) > len(best[1])):
                best = (name, label)
        if best is None:
            i += 1
            continue
        words = line.words[i : i + len(best[1])]
        found.append((best[0], words[0].x0, words[-1].x1))
        i += len(best[1])
    return found
