"""A letter's own date as the payment date, when the letter says the payment was made that day.

Contract: :func:`letter_payment_date` returns the date line of a remittance letter ("19 May 2025",
"Berlin, 01.03.2025") as a :class:`Hit` (ISO date text, the date's words, confidence 0.8) when the
text says the money went out *today* ("we have today transferred", "wir haben heute ...
überwiesen", "nous avons viré ce jour", "vandaag hebben wij ... overgemaakt", "hoy hemos
transferido"); otherwise None. A letter dated one day that speaks of a transfer "on 3 May" or of
a payment to come says nothing about the payment date, hence the cue.
"""

from __future__ import annotations

import re

from tools.documents.document import Document, Hit
from tools.documents.fields import valid_date
from tools.documents.normalize import fold

# "Today" in the five languages (folded: lower case, no accents), as whole words.
_TODAY = re.compile(
    r"\b(today|this day|heute|heutigen|ce jour|aujourd ?hui|vandaag|heden|hoy|en el dia de hoy)\b"
)
# A transfer verb near the cue, so "today's date" or "valid today" in small print does not count.
_TRANSFER = re.compile(
    r"\b(transferr|paid|remitted|uberwies|gezahlt|bezahlt|vire|paye|regle|overgemaakt|betaald|"
    r"overgeboekt|transferido|pagado|abonado)\w*"
)
_CUE_SPAN = 120  # characters between the cue and the verb: one sentence


def says_paid_today(text: str) -> bool:
    folded = fold(text).replace("'", " ").replace("’", " ")
    for cue in _TODAY.finditer(folded):
        window = folded[max(0, cue.start() - _CUE_SPAN) : cue.end() + _CUE_SPAN]
        if _TRANSFER.search(window):
            return True
    return False


def letter_payment_date(doc: Document) -> Hit | None:
    if not says_paid_today(doc.text):
        return None
    for line in doc.lines:
        if line.page != doc.lines[0].page:
            break
        # The date line stands alone: a place and a date at most ("Paris, le 3 mars 2025").
        if len(line.words) > 5:
            continue
        hit = valid_date(doc, Hit(line.text, list(line.words)))
        if hit is not None:
            hit.confidence = round(0.8 * hit.confidence * min(1.0, hit.ocr_confidence + 0.1), 3)
            return hit
    return None
