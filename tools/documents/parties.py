"""Payer and payee names when no label names them: legal forms, address blocks, web domains.

Contract: :func:`find_parties` returns ``(payer, payee)`` hits (either may be None) for a document of
``doc_type``. An invoice's issuer is the payee and its addressee the payer; a remittance advice's
letterhead is the payer and its addressee the payee. Names found this way carry lower confidence
than labelled ones.
"""

from __future__ import annotations

import re

from tools.documents.document import Document, Hit
from tools.documents.labels import (
    CUSTOMER_BLOCK_LABELS,
    HEADER_TOKENS,
    INVOICE_WORDS,
    LEGAL_FORMS,
    REMITTANCE_WORDS,
    tokens,
)
from tools.documents.layout import Line, Segment, Word
from tools.documents.normalize import fold

# Headings of the block that holds the customer's (addressee's) address.
CUSTOMER_BLOCK = [tokens(t) for t in CUSTOMER_BLOCK_LABELS]
_CUSTOMER_HEADINGS = set(CUSTOMER_BLOCK)
_ADDRESSEE_HEADINGS = [["to"], ["an"], ["aan"]]
# Lower-case words that belong inside a company's name ("Gebrüder von Müller GmbH", "Smith and Sons Ltd").
_NAME_PARTICLES = {
    "and",
    "und",
    "et",
    "en",
    "y",
    "e",
    "of",
    "de",
    "du",
    "des",
    "der",
    "den",
    "van",
    "von",
    "di",
    "da",
    "&",
}
_LEGAL = {f.strip(".") for f in LEGAL_FORMS}
# Forms conventionally written in lower case ("Kestrel Components plc"); no unit of measure clashes.
_LOWER_CASE_FORMS = {"plc"}
_TITLE_WORDS = {fold(w) for w in INVOICE_WORDS + REMITTANCE_WORDS} | {"kopie", "copy", "copie", "copia"}
_POSTCODE = re.compile(r"\b(\d{4,5}|\d{4} ?[A-Z]{2}|[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}|[A-Z]{2} \d{5})\b")


_COPYRIGHT = ("(c)", "©", "copyright")


def legal_name(words: list[Word]) -> list[Word] | None:
    """The words up to and including a legal form ("Coolblue B.V."), without leading titles. A
    copyright notice ("(c) AWV e.V. 2020") names whoever wrote the form or the software, not a party."""
    if words and words[0].text.lower().startswith(_COPYRIGHT):
        return None
    for end in range(len(words) - 1, 0, -1):
        raw = words[end].text
        key = fold(raw).strip(",;").rstrip(".")
        if not (key in _LEGAL or key.replace(".", "") in _LEGAL):
            continue
        letters = [c for c in raw if c.isalpha()]
        dotted = "." in key  # "e.K.", "a.G.", "B.V.": a dot between the letters marks the form
        # Legal forms are written with a capital ("KG", "GmbH", "B.V.", "e.K."); "1.00 kg" is a weight.
        if not (raw[:1].isupper() or key in _LOWER_CASE_FORMS or (dotted and any(map(str.isupper, letters)))):
            continue
        # A two-letter form is written in capitals ("SA", "AG"): "Sa" is Saturday, "Se" a word.
        if len(letters) == 2 and key != "co" and not dotted and not all(c.isupper() for c in letters):
            continue
        start = 0
        while start < end and fold(words[start].text).strip(".:,") in _TITLE_WORDS:
            start += 1
        # Stop at separators such as "-" that join a name to an address on one line.
        for i in range(end - 1, start - 1, -1):
            if words[i].text in {"-", "|", "–", "·"}:
                start = i + 1
                break
        if start < end and any(w.text[:1].isalpha() for w in words[start:end]):
            return words[start : end + 1]
    return None


def ends_with_legal_form(words: list[Word]) -> bool:
    """Whether the words end in a legal form after a name ("Versicherungsverein Musterstadt a.G.")."""
    found = legal_name(words)
    return found is not None and found[-1] is words[-1]


def _in_customer_block(doc: Document, line: Line, x0: float) -> bool:
    """Whether a block heading such as "Bill to" sits up to four lines above, in the same column."""
    position = doc.line_index[id(line)]
    for previous in reversed(doc.lines[max(0, position - 4) : position + 1]):
        if previous.page != line.page:
            break
        for segment in previous.segments:
            keys = [w.key for w in segment.words]
            # A heading heads its own column: "Naturalsoft Limited ... Bill to" side by side on
            # one line puts the name in the other column, not under the heading.
            if abs(segment.x0 - x0) > 30:
                continue
            for label in CUSTOMER_BLOCK:
                if tuple(keys[: len(label)]) == label:
                    return True
            if keys in _ADDRESSEE_HEADINGS:
                return True  # a heading that is only "To" ("An", "Aan") heads the addressee
    return False


# Block headings and field labels ("Bill to", "Factuuradres", "Verkäufer"): a line of them heads
# a block, it does not begin a name.
_HEADINGS = (
    {tuple(label) for label in CUSTOMER_BLOCK}
    | {tuple(label) for labels in HEADER_TOKENS.values() for label in labels}
    | {tuple(label) for label in _ADDRESSEE_HEADINGS}
)
# Words that head an addressee's block without being part of a name ("Herrn", "z.Hd.", "Firma").
_SALUTATIONS = {"herrn", "herr", "frau", "mr", "mrs", "ms", "z.hd", "zhd", "attn", "firma", "c/o", "m", "mme"}


def segment_above(doc: Document, line: Line, words: list[Word]) -> Segment | None:
    """The one segment that starts in the column of ``words`` (on ``line``) on the line right
    above, when the two are set as consecutive lines of one block (the gap under a line height)."""
    position = doc.line_index[id(line)]
    if position == 0 or not words:
        return None
    above = doc.lines[position - 1]
    height = max(w.height for w in words)
    in_column = [s for s in above.segments if abs(s.x0 - words[0].x0) <= 2]
    if above.page != line.page or line.top - above.bottom > 0.8 * height or len(in_column) != 1:
        return None
    return in_column[0]


def _name_start_above(doc: Document, line: Line, segment: Segment) -> list[Word]:
    """The line right above a legal name, in its column and type size, that begins the name
    written on two lines ("MVM Musterhafter" over "Versicherungsverein Musterstadt a.G."): only
    when that line starts its block (nothing in the column right above it), holds no figures or
    label, and is no salutation, title or name of its own."""
    first = segment_above(doc, line, segment.words)
    if first is None:
        return []
    height = max(w.height for w in segment.words)
    if abs(max(w.height for w in first.words) - height) > 0.15 * height:
        return []
    head = fold(first.words[0].text).strip(".,:")
    keys = tuple(w.key for w in first.words)
    if (
        any(keys[:n] in _HEADINGS for n in range(1, min(len(keys), 4) + 1))
        or any(c.isdigit() or c in ":@" for c in first.text)
        or head in _SALUTATIONS
        or head in _TITLE_WORDS
        or legal_name(first.words) is not None
    ):
        return []
    position = doc.line_index[id(line)]
    if position >= 2:
        above, higher = doc.lines[position - 1], doc.lines[position - 2]
        if (
            higher.page == line.page
            and above.top - higher.bottom <= 0.8 * height
            and any(abs(s.x0 - first.x0) <= 2 for s in higher.segments)
        ):
            return []  # a line of a block that started higher up (an address, a department)
    return list(first.words)


def _candidates(doc: Document) -> list[tuple[Hit, Line, bool]]:
    found = []
    for line in doc.lines:
        for segment in line.segments:
            words = legal_name(segment.words)
            if words and words[0] is segment.words[0]:
                words = _name_start_above(doc, line, segment) + words
            if words:
                text = " ".join(w.text for w in words).strip(" ,")
                hit = Hit(text, words, 0.75)
                found.append((hit, line, _in_customer_block(doc, line, segment.x0)))
    return found


def _domain_name(doc: Document) -> Hit | None:
    """A name line whose letters spell the document's web or e-mail domain (azure-interior.com)."""
    domains = {
        re.sub(r"[^a-z]", "", d)
        for d in re.findall(r"(?:www\.|@|https?://(?:www\.)?)([a-z0-9\-]+)\.[a-z]{2,}", doc.text.lower())
    }
    domains = {d for d in domains if len(d) >= 4 and d not in {"example", "gmail", "outlook", "yahoo"}}
    for line in doc.lines:
        for segment in line.segments:
            letters = re.sub(r"[^a-z]", "", fold(segment.text))
            if 4 <= len(letters) <= 40 and "@" not in segment.text and letters in domains:
                return Hit(segment.text, list(segment.words), 0.7)
    return None


def _address_head(doc: Document) -> Hit | None:
    """The first line of the first address block (a name followed by street and post-code lines)."""
    for index, line in enumerate(doc.lines[:40]):
        first = line.segments[0]
        if any(c.isdigit() for c in first.text) or len(first.text) < 3:
            continue
        if fold(first.text).strip(" .:") in _TITLE_WORDS:
            continue  # the document's title ("Invoice"), not a name
        following = doc.lines[index + 1 : index + 4]
        same_column = [seg for nxt in following for seg in nxt.segments if abs(seg.x0 - first.x0) < 10]
        if any(_POSTCODE.search(seg.text) for seg in same_column) and any(
            re.search(r"\d", seg.text) for seg in same_column[:1]
        ):
            return Hit(first.text, list(first.words), 0.6)
    return None


def _under_heading(doc: Document) -> Hit | None:
    """The line right under a bare customer heading ("Bill to" / "Felix Wolf"): a person's name
    carries no legal form, so the heading is the evidence."""
    for line in doc.lines:
        for segment in line.segments:
            keys = tuple(w.key for w in segment.words)
            if keys not in _CUSTOMER_HEADINGS:
                continue
            below = doc.below(line, segment)
            if below is not None and not any(c.isdigit() for c in below.text) and "@" not in below.text:
                return Hit(below.text, list(below.words), 0.6)
    return None


def find_parties(doc: Document, doc_type: str) -> tuple[Hit | None, Hit | None]:
    candidates = _candidates(doc)
    customers = [hit for hit, _, customer in candidates if customer]
    others = [hit for hit, _, customer in candidates if not customer]
    if doc_type == "invoice":
        # A name met once under a customer heading is the customer wherever else it is printed
        # (a receipt repeats it as billing and technical contact): never the issuer.
        known = {hit.text for hit in customers}
        others = [hit for hit in others if hit.text not in known]
        counts: dict[str, int] = {}
        for hit in others:
            counts[hit.text] = counts.get(hit.text, 0) + 1
        issuer = max(others, key=lambda h: counts[h.text]) if others else None
        if issuer is None:
            issuer = _domain_name(doc) or _address_head(doc)
        customer = customers[0] if customers else _under_heading(doc)
        if customer is None:
            customer = next((h for h in others if issuer is None or h.text != issuer.text), None)
        return customer, issuer
    # Remittance advice: the letterhead (first name on the page) pays; the addressee is paid.
    names: list[Hit] = []
    for hit in others + customers:
        if all(hit.text != n.text for n in names):
            names.append(hit)
    names.sort(key=lambda h: (h.words[0].page, h.words[0].top))
    payer = names[0] if names else None
    payee = names[1] if len(names) > 1 else None
    return payer, payee
