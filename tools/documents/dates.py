"""Invoice dates that no label names: the due date in payment terms, the issue date in the header.

Contract: :func:`due_in_terms` reads "Zahlbar ... bis 04.04.2013", "$19.00 due April 16, 2023",
"wird am 20.03.2014 ... per SEPA-Lastschrift eingezogen" (a payment-terms sentence with a date);
:func:`header_date` is the first date in the top part of the first page that no other date label
(delivery, service period, order) claims: the date a letterhead prints beside the place name.
Both return a :class:`Hit` at lower confidence than a labelled value, or None.
"""

from __future__ import annotations

import re

from tools.documents.document import Document, Hit
from tools.documents.fields import valid_date
from tools.documents.layout import UNSURE, Line, Word
from tools.documents.normalize import DATE_RE, find_amounts, fold, one_letter_off

# Words of a payment-terms sentence, folded; the date that follows is when payment falls due.
_TERMS = re.compile(
    r"\b(zahlbar|fallig|payable|due|remit|pay by|pay until|payment by|uberweisen|faellig|eingezogen|abgebucht"
    r"|lastschrift|debited|collected|echeance|a payer|preleve|vencimiento|pagadero|scadenza|pagabile"
    r"|betaalbaar|vervalt|uiterlijk)\b"
)
# Other dates a header prints; a line naming one of these does not hold the issue date.
_OTHER_DATES = re.compile(
    r"(liefer|leistung|delivery|service|period|zeitraum|order|bestell|auftrag|commande|levering|"
    r"entrega|consegna|due|fallig|echeance|vencimiento|scadenza|vervaldatum|vertrag|contract|from|bis|"
    r"valid|gultig|version)"
)


# A word every term above holds whole (a term of two words holds one of them): a line pair without
# one cannot match, so the pattern is searched only where one of these occurs.
_TERM_WORDS = re.compile(
    r"zahlbar|fallig|payable|due|remit|pay|uberweisen|faellig|eingezogen|abgebucht|lastschrift|debited"
    r"|collected|echeance|preleve|vencimiento|pagadero|scadenza|pagabile|betaalbaar|vervalt|uiterlijk"
)


# The words of the terms above OCR may misread by a letter ("iberweisen"): long enough that one
# letter off is still that word.
_LONG_TERM_WORDS = [w for w in _TERM_WORDS.pattern.split("|") if len(w) >= 6]


def _folded(line: Line) -> str:
    """The line's text folded, an OCR'd word tesseract doubts read as the term word it is one
    letter from (the same length: positions in the text stay those of ``line.text``)."""
    if all(w.confidence >= UNSURE for w in line.words):
        return fold(line.text)
    return " ".join(_near_term(fold(w.text)) if w.confidence < UNSURE else fold(w.text) for w in line.words)


def _near_term(folded: str) -> str:
    core = folded.strip(".,:;!?()")
    near = one_letter_off(core, _LONG_TERM_WORDS)
    return folded.replace(core, near[0], 1) if near else folded


def due_in_terms(doc: Document) -> Hit | None:
    lines = doc.lines
    folded_lines = [_folded(line) for line in lines]
    worded = [_TERM_WORDS.search(text) is not None for text in folded_lines]
    for index, line in enumerate(lines):
        following = lines[index + 1] if index + 1 < len(lines) else None
        together = following is not None and following.page == line.page
        if not (worded[index] or (together and worded[index + 1])):
            continue
        folded = folded_lines[index]
        window = folded + " " + folded_lines[index + 1] if together else folded
        match = _TERMS.search(window)
        if match is None:
            continue
        if match.start() >= len(folded) and find_amounts(window[match.end() :]):
            # "Due payable: 571.04" below is a total's label, not this line's terms (an amount
            # after the keyword: "BIC MARKDEF 1860, ... eingezogen" has its figures before it)
            continue
        # The date after the keyword when the keyword is on this line; else this line's first date.
        start = match.end() if match.start() < len(folded) else 0
        for date_match in DATE_RE.finditer(line.text):
            if date_match.start() < start:
                continue
            hit = valid_date(doc, _span_hit(line.words, line.text, date_match.span()))
            if hit is not None:
                hit.confidence = round(hit.confidence * 0.85, 3)
                return hit
            break
    return None


def header_date(doc: Document) -> Hit | None:
    if not doc.pages:
        return None
    first = doc.pages[0]
    for line in first.lines:
        if line.top > 0.4 * first.height:
            break
        for segment in line.segments:
            match = DATE_RE.search(segment.text)
            if match is None:
                continue
            if _OTHER_DATES.search(fold(line.text)):
                break
            hit = valid_date(doc, _span_hit(list(segment.words), segment.text, match.span()))
            if hit is not None:
                hit.confidence = round(hit.confidence * 0.7, 3)
                return hit
    return None


def _span_hit(words: list[Word], text: str, span: tuple[int, int]) -> Hit:
    """The words of ``text`` (words joined by single spaces) that cover ``span``."""
    chosen, position = [], 0
    for word in words:
        end = position + len(word.text)
        if end > span[0] and position < span[1]:
            chosen.append(word)
        position = end + 1
    return Hit(" ".join(w.text for w in chosen), chosen or words)
