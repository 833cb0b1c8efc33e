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
from tools.documents.labels import INVOICE_MENTIONS
from tools.documents.lines import narrow
from tools.documents.normalize import DATE_RE, fold

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


# A payment in the past tense, in the six languages (folded); "payee" is the English noun, not the
# French participle, so the feminine forms are left out.
_PAID = re.compile(
    r"\b(paid|transferred|remitted|settled|uberwiesen|gezahlt|bezahlt|beglichen|angewiesen|"
    r"vire|vires|paye|payes|regle|regles|verse|overgemaakt|betaald|overgeboekt|voldaan|"
    r"transferido|transferimos|pagado|pagamos|abonado|pagato|pagati|bonificato|saldato)\b"
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])|\n\s*\n")
# Words that make the date that follows them an invoice's or a deadline, not the payment's.
_NOT_PAYMENT = re.compile(
    r"\b(" + "|".join(re.escape(fold(m)) for m in INVOICE_MENTIONS) + r"|due|dated|fallig|echeance|"
    r"vervaldatum|vencimiento|scadenza)\b[^.]{0,25}$"
)


def sentence_payment_date(doc: Document) -> Hit | None:
    """The date in a sentence that says the money was paid ("On 22 May 2025 we paid ...", "Wir
    haben am 3. März 2025 überwiesen"), unless the date belongs to an invoice or a deadline
    named just before it. Confidence 0.7: a sentence is weaker evidence than a label."""
    text = doc.text.replace("\n", " \n")
    for sentence in _SENTENCE_END.split(text):
        folded = fold(sentence)
        if not _PAID.search(folded):
            continue
        for match in DATE_RE.finditer(sentence):
            if _NOT_PAYMENT.search(fold(sentence[: match.start()])):
                continue
            hit = _date_on_a_line(doc, match.group(0))
            if hit is not None:
                hit.confidence = round(0.7 * hit.confidence * min(1.0, hit.ocr_confidence + 0.1), 3)
                return hit
    return None


def _date_on_a_line(doc: Document, printed: str) -> Hit | None:
    """The words of the first line that prints ``printed``, read as a date."""
    for line in doc.lines:
        start = line.text.find(printed)
        if start >= 0:
            words = narrow(list(line.words), (start, start + len(printed)))
            return valid_date(doc, Hit(" ".join(w.text for w in words), words))
    return None
