"""Template-free header fields: find a label, read the value next to or under it, validate it.

Contract: :func:`header_fields` returns ``{field: Hit}`` with the value normalised to its canonical
string (ISO date, dot-decimal amount, ISO currency, compact IBAN) in ``Hit.text`` and a confidence
that combines the label's reliability, the parse's ambiguity and the OCR confidence of the words.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from operator import is_

from tools.documents.document import Document, Hit, LabelMatch
from tools.documents.labels import ACCOUNT_HOLDER_TOKENS, HEADER_TOKENS, LEGAL_FORMS
from tools.documents.layout import Line, Segment, Word
from tools.documents.normalize import DATE_RE, find_amounts, fold, parse_currency, parse_date
from tools.documents.parties import ends_with_legal_form, legal_name, segment_above

IBAN_RE = re.compile(r"\b([A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?)\b")
BIC_RE = re.compile(r"\b([A-Z]{4}[A-Z]{2}[A-Z0-9]{2}(?:[A-Z0-9]{3})?)\b")
ACCOUNT_RE = re.compile(r"\b([A-Z]{2}[0-9A-Z]{6,32}|\d[\d \-]{5,30}\d)\b")
REFERENCE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9/\-_.]{2,34}$")

Validator = Callable[[Document, Hit], Hit | None]


def _sub(hit: Hit, start: int, end: int, text: str, confidence: float) -> Hit:
    """A hit narrowed to the words that cover characters ``start:end`` of ``hit.text``."""
    words, position = [], 0
    for word in hit.words:
        word_start, word_end = position, position + len(word.text)
        if word_end > start and word_start < end:
            words.append(word)
        position = word_end + 1
    return Hit(text, words or hit.words, confidence)


def valid_amount(doc: Document, hit: Hit) -> Hit | None:
    amounts = find_amounts(hit.text, doc.decimal_hint)
    # The day and year of a date are no amounts ("Total amount due on August 3, 2014  $4.11").
    dates = [m.span() for m in DATE_RE.finditer(hit.text)]
    # In a totals row the rightmost figure is the one paid (gross, discount, net read left to right).
    money = [
        a
        for a in amounts
        if not re.fullmatch(r"\d{1,2}", hit.text[a.span[0] : a.span[1]])
        and not any(start < a.span[1] and a.span[0] < end for start, end in dates)
    ]
    if not money:
        return None
    chosen = money[-1]
    assert isinstance(chosen.value, Decimal)
    return _sub(hit, *chosen.span, str(chosen.value), chosen.confidence)


def valid_date(doc: Document, hit: Hit) -> Hit | None:
    parsed = parse_date(hit.text, doc.date_order)
    if parsed is None:
        return None
    assert isinstance(parsed.value, date)
    return _sub(hit, *parsed.span, parsed.value.isoformat(), parsed.confidence)


def valid_currency(doc: Document, hit: Hit) -> Hit | None:
    parsed = parse_currency(hit.text)
    if parsed is None:
        return None
    return _sub(hit, *parsed.span, str(parsed.value), parsed.confidence)


def _checksum_ok(iban: str) -> bool:
    from tools.payments.iban import iban_error

    return iban_error(iban) is None


def valid_iban(doc: Document, hit: Hit) -> Hit | None:
    upper = hit.text.upper()
    match = IBAN_RE.search(upper)
    if match is None:
        ocr = _ocr_iban(hit, upper)
        if ocr is not None:
            return ocr
        spread = _spread_iban(hit, upper)
        if spread is not None:
            return spread
        # An account number holds figures: "ABBUCHEN" after "Konto" is a word, not an account.
        accounts = (m for m in ACCOUNT_RE.finditer(upper) if sum(c.isdigit() for c in m.group(1)) >= 4)
        match = next(accounts, None)
    if match is None:
        return None
    compact = re.sub(r"[ \-]", "", match.group(1))
    end = match.end(1)
    valid = _checksum_ok(compact)  # each check builds a schwifty IBAN: asked once per reading
    if not valid:
        # OCR splits groups at odd places ("GB17NWBK60161356491 800"): take the next short group
        # when the checksum says it belongs.
        tail = re.match(r" ([A-Z0-9]{1,4})\b", upper[end:])
        if tail is not None and _checksum_ok(compact + tail.group(1)):
            compact, end, valid = compact + tail.group(1), end + len(tail.group(0)), True
    narrowed = _sub(hit, match.start(1), end, compact, 1.0)
    if valid:
        return narrowed
    if end == len(upper.rstrip()):
        wrapped = _wrapped_iban(doc, narrowed)  # only ever a valid one
        if wrapped is not None:
            return wrapped
    # groups the pattern could not follow ("DE882008000009 70375700")
    spread = _spread_iban(hit, upper)
    if spread is not None:
        return spread
    if narrowed.ocr_confidence < 1.0:
        from tools.documents.ocr_iban import repair_iban
        from tools.documents.swift_scan import fix_iban

        repaired = fix_iban(compact)
        if not _checksum_ok(repaired):
            # look-alikes by the country's format, or one glyph read twice ("NL50OINGBO683...")
            repaired = repair_iban(compact) or repaired
        if repaired != compact:
            # A checksum-guided OCR repair: right far more often than not, but say so.
            narrowed.text, narrowed.confidence = repaired, 0.8
    return narrowed


def _spread_iban(hit: Hit, upper: str) -> Hit | None:
    """An IBAN printed in irregular groups ("DE 1276040061076236 1400"), read by its country's
    length (:func:`~.ocr_iban.spread_iban`)."""
    from tools.documents.ocr_iban import spread_iban

    found = spread_iban(upper, ocr=hit.ocr_confidence < 1.0)
    if found is None:
        return None
    iban, start, end = found
    return _sub(hit, start, end, iban, 1.0 if iban == upper[start:end].replace(" ", "") else 0.8)


# An IBAN as OCR misreads its head: letters for the check digits ("DEO8"), a space after the
# country code ("DE 12 7604 ..."). Taken only when the checksum, once repaired, holds.
_OCR_IBAN_RE = re.compile(r"\b([A-Z]{2} ?[0-9OISB]{2,3}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?)\b")


def _ocr_iban(hit: Hit, upper: str) -> Hit | None:
    from tools.documents.swift_scan import fix_iban

    for match in _OCR_IBAN_RE.finditer(upper):
        compact = re.sub(r"[ \-]", "", match.group(1))
        repaired = fix_iban(compact)
        if _checksum_ok(repaired):
            confidence = 1.0 if repaired == compact else 0.8
            return _sub(hit, match.start(1), match.end(1), repaired, confidence)
    return None


def _wrapped_iban(doc: Document, hit: Hit) -> Hit | None:
    """An IBAN that ends its line without its last groups, which start the line below in its
    column ("DE67 1004 8392 7221" over "8882 72"): taken whole when the checksum says they belong."""
    index = doc.line_with(hit.words[-1]) if hit.words else None
    if index is None:
        return None
    line = doc.lines[index]
    segment = next((s for s in line.segments if any(w is hit.words[-1] for w in s.words)), None)
    below = doc.below(line, segment) if segment is not None else None
    if below is None:
        return None
    compact, words = hit.text, list(hit.words)
    for word in below.words:
        group = word.text.upper()
        if not re.fullmatch(r"[A-Z0-9]{1,4}", group) or len(compact) + len(group) > 34:
            break
        compact += group
        words.append(word)
        if _checksum_ok(compact):
            return Hit(compact, words, hit.confidence)
    return None


def valid_bic(doc: Document, hit: Hit) -> Hit | None:
    match = BIC_RE.search(hit.text)
    if match is None:
        return None
    return _sub(hit, *match.span(1), match.group(1), 1.0)


_QUOTES = "'\"‚„“”‘’`´"


def valid_reference(doc: Document, hit: Hit) -> Hit | None:
    parts = hit.text.split()
    # A separator printed as its own word ("Beleg-Nr  : KR876...") belongs to the label.
    skip = 0
    while skip < len(parts) - 1 and parts[skip] in {":", "-", "#", "|", "="}:
        skip += 1
    # quote marks around it, or OCR's speck before it ("‚471102"), are no part of a reference
    first = parts[skip].lstrip(":#" + _QUOTES).rstrip(".,;:)" + _QUOTES) if parts else ""
    if not REFERENCE_RE.match(first) or not any(c.isdigit() for c in first) or DATE_RE.fullmatch(first):
        return None
    start = hit.text.find(first)
    return _sub(hit, start, start + len(first), first, 1.0)


_LEGAL_FORMS = {form.rstrip(".") for form in LEGAL_FORMS}
_LABEL_WORDS = {" ".join(label) for labels in HEADER_TOKENS.values() for label in labels}


# "Nom : LE FOURNISSEUR", "Name: Acme Ltd": a name's own label inside a party's block.
_NAME_LABEL = re.compile(r"^(?:name|nom|naam|nombre|nome|firma|raison sociale)\s*:\s*(?=\S)", re.IGNORECASE)


def valid_name(doc: Document, hit: Hit) -> Hit | None:
    named = _NAME_LABEL.match(hit.text)
    if named is not None:
        hit = _sub(hit, named.end(), len(hit.text), hit.text[named.end() :], 1.0)
    text = hit.text.strip(" :,;")
    if ":" in text:
        return None  # "MOYEN DE PAIEMENT : VIREMENT": another label and its value, not a name
    letters = sum(c.isalpha() for c in text)
    digits = sum(c.isdigit() for c in text)
    if len(text) < 2 or not letters:
        return None
    # Another label ("Lieferant | Käufer" headings side by side) or an identifier line
    # ("GLN 4333741000005 Lief-Nr: 549910") is not a name.
    if " ".join(w.key for w in hit.words) in _LABEL_WORDS or digits > letters:
        return None
    return Hit(text, hit.words, 1.0)


VALIDATORS: dict[str, Validator] = {
    "payer": valid_name,
    "payee": valid_name,
    "payment_reference": valid_reference,
    "payment_date": valid_date,
    "currency": valid_currency,
    "total_amount": valid_amount,
    "invoice_number": valid_reference,
    "invoice_date": valid_date,
    "due_date": valid_date,
    "iban": valid_iban,
    "bic": valid_bic,
}

# Labels that are also ordinary words ("total", "reference", "invoice") are less reliable.
_GENERIC = {("total",), ("reference",), ("invoice",), ("rechnung",), ("facture",), ("factuur",), ("factura",)}


_PARTY_FIELDS = {"payer", "payee"}

# Fields whose label may also sit inside running text ("to your account DE89... (BIC ...)").
_IN_TEXT = {"iban", "bic", "payment_reference"}


# Words after a total's label that make it the total of a part (tax, a discount, surcharges, the net
# sum, a deposit), unless an inclusive word says the part is included ("Total incl. VAT").
_PART_WORDS = {
    "zuschlag", "zuschlage", "abschlag", "abschlage", "rabatt", "rabatte", "nachlass", "skonto",
    "discount", "discounts", "rebate", "remise", "remises", "sconto", "descuento", "korting",
    "steuer", "ust", "mwst", "vat", "tax", "taxes", "tva", "iva", "btw",
    "netto", "net", "ohne", "excl", "exkl", "excluding", "ht", "imponibile",
    "anzahlung", "anzahlungen", "prepaid", "deposit", "deposits", "acompte", "acomptes",
}  # fmt: skip
_INCLUSIVE_WORDS = {
    "incl",
    "inkl",
    "including",
    "inclusive",
    "ttc",
    "brutto",
    "gross",
    "mit",
    "with",
    "inclus",
}


# Headings of a line-items table's quantity and unit-price columns, folded.
_ITEM_HEADINGS = {
    "quantity", "qty", "menge", "anzahl", "quantite", "qte", "aantal", "cantidad", "quantita", "units",
    "einzelpreis", "unit price", "prix unitaire", "p.u", "stuksprijs", "precio unitario", "prezzo unitario",
}  # fmt: skip


def _items_header(match: LabelMatch) -> bool:
    """Whether the label heads a column of a line-items table ("# | Produkt | USt | Einzelpreis |
    Summe", "Service | Quantity | Unit price | Total"): three or more headings, one of them a
    description's, a quantity's or a unit price's. The figure under it is the first row's, not
    the document's total."""
    from tools.documents.document import column_labels

    segments = match.line.segments
    if len(segments) < 3 or any(c.isdigit() for seg in segments for c in seg.text):
        return False
    if "description" in {name for name, _, _ in column_labels(match.line)}:
        return True
    return any(" ".join(seg.keys[:2]) in _ITEM_HEADINGS or seg.keys[0] in _ITEM_HEADINGS for seg in segments)


_DATE_FIELDS = {"invoice_date", "due_date", "payment_date"}
_BARE_LABELS = {("date",), ("datum",), ("data",), ("fecha",)}


def label_continues(match: LabelMatch) -> bool:
    """Whether a date's label runs on into a longer phrase before its value: "Date de facture
    associée : 30/11/2018" names another invoice's date, "Datum der Lieferung" another date. A
    word of four or more letters that is no month stands between them; a bare "Date" takes its
    value only after nothing but punctuation."""
    from tools.documents.normalize import MONTHS

    for word in match.segment.words[match.label_end :]:
        if any(c.isdigit() for c in word.text):
            return False
        if match.label in _BARE_LABELS and word.key:
            return True
        letters = "".join(c for c in word.key if c.isalpha())
        if len(letters) >= 4 and letters not in MONTHS:
            return True
    return False


def names_a_part(match: LabelMatch) -> bool:
    """Whether the words between a total's label and its value name a part of the total
    ("Gesamtbetrag der Zuschläge", "Summe netto", "Total VAT") rather than the total itself."""
    keys = set()
    for word in match.segment.words[match.label_end :]:
        if any(c.isdigit() for c in word.text):
            break
        keys.add(word.key.rstrip("."))
    return bool(keys & _PART_WORDS) and not keys & _INCLUSIVE_WORDS


def read_field(doc: Document, name: str, labels: list[tuple[str, ...]] | None = None) -> Hit | None:
    """The value of the first label (in priority order) that has a valid value next to or below it.

    Labels at the start of a segment are tried first; for a few fields, labels inside running text
    next, at a lower confidence.
    """
    validate = VALIDATORS[name]
    passes = [False, True] if name in _IN_TEXT else [False]
    zero: Hit | None = None
    for anywhere in passes:
        matches = doc.find_label(labels or HEADER_TOKENS[name], anywhere=anywhere)
        if name in _PARTY_FIELDS:
            # The parties' blocks open the document: a party label on page 1 before any later
            # one ("Lieferant" in a line item's details on page 2), label priority within a page.
            matches.sort(key=lambda match: match.line.page)
        for match in matches:
            if doc.is_table_header(match.line) and name != "due_date":
                # A due date may head a column of payment terms ("Beschreibung | Fälligkeit").
                continue
            if name == "total_amount" and (names_a_part(match) or _items_header(match)):
                continue
            if name in _DATE_FIELDS and label_continues(match):
                continue
            hit = _first_valid(doc, match, validate)
            if hit is not None and name == "total_amount":
                hit = _row_end(doc, match, hit)
                if Decimal(hit.text) == 0:
                    # "Amount due $0.00" on a paid invoice: the total is another label's.
                    zero = zero or hit
                    continue
            if hit is not None:
                label_confidence = 0.9 if match.label in _GENERIC or anywhere else 1.0
                hit.confidence = round(
                    hit.confidence * label_confidence * min(1.0, hit.ocr_confidence + 0.1), 3
                )
                return hit
    return zero  # a total of zero only when no label gives another


def _pair_label(doc: Document, hit: Hit) -> bool:
    """Whether ``hit`` (a segment's text) is the label of a "label : value" pair on its line
    ("Nummer  : 549910" under a "Verkäufer:" heading), not a value of its own."""
    if not hit.words or hit.text.rstrip().endswith(":"):
        return bool(hit.words)
    index = doc.line_with(hit.words[-1])
    if index is None:
        return False
    segments = doc.lines[index].segments
    for position, segment in enumerate(segments[:-1]):
        if segment.words[-1] is hit.words[-1]:
            return segments[position + 1].text.lstrip().startswith(":")
    return False


def _names_under(doc: Document, match: LabelMatch) -> list[Hit]:
    """Under a heading that ends its line ("Verkäufer:"), the lines of its block in the heading's
    column, "label : value" lines skipped: the party's name is the first of the others. A name
    line without a legal form whose next line ends in one ("MVM Musterhafter" over
    "Versicherungsverein Musterstadt a.G.") is the start of a name written on two lines."""
    found: list[Hit] = []
    line, segment = match.line, match.segment
    joined = False  # whether the last line found came right under the one before it
    for _ in range(4):
        below = doc.below(line, segment)
        if below is None:
            break
        hit = Hit(below.text, list(below.words))
        index = doc.line_with(below.words[0])
        if index is None:
            break
        named = _named_value(doc.lines[index], below)
        if named is not None:  # "Name: MUSTER-Autovermietung" in the block: the name, labelled as such
            return [_with_line_above(doc, index, named)]
        if ":" not in below.text and not _pair_label(doc, hit):
            if len(found) == 1 and joined and _continues_name(found[0].words, hit.words):
                words = found[0].words + hit.words
                found[0] = Hit(" ".join(w.text for w in words), words)
            else:
                found.append(hit)
            joined = True
        else:
            joined = False
        line, segment = doc.lines[index], below
    return found


_NAME_LABELS = {"name", "nom", "naam", "nombre", "nome", "firma", "raison sociale", "firmenname", "company"}


def _named_value(line: Line, segment: Segment) -> Hit | None:
    """The value of a "Name: ..." pair whose label is ``segment`` (the value in the next segment
    of its line, or after the colon in the same one)."""
    label = segment.text.rstrip(" :").strip()
    if fold(label) in _NAME_LABELS and segment.text.rstrip().endswith(":"):
        position = line.segments.index(segment)
        if position + 1 < len(line.segments):
            value = line.segments[position + 1]
            return Hit(value.text.lstrip(": "), list(value.words))
        return None
    named = _NAME_LABEL.match(segment.text)
    if named is not None:
        words = segment.words[len(segment.text[: named.end()].split()) :]
        return Hit(segment.text[named.end() :], list(words)) if words else None
    return None


def _with_line_above(doc: Document, index: int, named: Hit) -> Hit:
    """``named`` (the value on line ``index``) with the line right above it in its column when
    that line begins the name ("MVM Musterhafter" over "Name:  Versicherungsverein ... a.G.")."""
    above = segment_above(doc, doc.lines[index], named.words)
    if above is None or ":" in above.text or not _continues_name(above.words, named.words):
        return named
    words = list(above.words) + named.words
    return Hit(" ".join(w.text for w in words), words)


def _continues_name(first: list[Word], second: list[Word]) -> bool:
    """Whether ``second`` (the line under ``first``) ends a company name ``first`` begins: no
    figures in either, a legal form ending the second and none in the first."""
    if any(c.isdigit() for w in first + second for c in w.text):
        return False
    return ends_with_legal_form(second) and legal_name(first) is None


_TAX_MARKS = {"ttc", "ht", "brutto", "netto", "gross", "net"}


def _figure_only(text: str) -> bool:
    """Whether a segment holds only figures, currencies and tax marks ("29.99 € TTC")."""
    for word in text.split():
        if any(c.isdigit() for c in word) or word.lower().strip(".") in _TAX_MARKS:
            continue
        if parse_currency(word) is None or len(word) > 4:
            return False
    return True


def _row_end(doc: Document, match: LabelMatch, hit: Hit) -> Hit:
    """A total read from a segment of its label's line, moved to the last of the figures that
    follow it in their own segments: a totals row prints net, tax and gross from left to right
    ("Total facture | 24.99 | 5.00 | 29.99"), and the gross is the invoice total."""
    segments = match.line.segments
    if match.segment not in segments or not hit.words:
        return hit
    positions = [i for i, seg in enumerate(segments) if any(w is hit.words[-1] for w in seg.words)]
    if not positions or positions[0] == segments.index(match.segment):
        return hit
    last = hit
    for segment in segments[positions[0] + 1 :]:
        if not _figure_only(segment.text):
            break  # another label on the line: its figures are not this row's
        following = valid_amount(doc, Hit(segment.text, list(segment.words)))
        if following is None:
            break
        if abs(Decimal(following.text)) < abs(Decimal(hit.text)):
            continue  # the tax between net and gross, or another currency's smaller column
        last = following
        last.confidence = hit.confidence
    return last


def _first_valid(doc: Document, match: LabelMatch, validate: Validator) -> Hit | None:
    rest = match.segment.words[match.label_end :]
    if validate is valid_name and rest and all(w.key.rstrip(".") in _LEGAL_FORMS for w in rest):
        # "Lieferant GmbH": the label word is the name itself, the legal form says so.
        return Hit(match.segment.text, list(match.segment.words), 0.9)
    candidates = doc.value_candidates(match)
    if validate is valid_name:
        # A value that is itself the label of a pair below a heading is no name: look further down.
        candidates = [c for c in candidates if not _pair_label(doc, c)]
        if not rest or all(not w.key for w in rest):
            under = _names_under(doc, match)
            if under:
                # the line under the heading that begins a name on two lines: the whole name
                first = under[0].words
                candidates = [
                    under[0] if c.words and len(first) > len(c.words) and all(map(is_, c.words, first)) else c
                    for c in candidates
                ]
            candidates += under
    for candidate in candidates:
        hit = validate(doc, candidate)
        if hit is not None:
            return hit
    return None


# Where a name in running text ends: a dash or bar joining it to the next detail, or the next detail's label.
_NAME_ENDS = {"-", "–", "—", "|", ";", "iban", "bic", "swift", "bank"}


def _name_part(hit: Hit) -> Hit:
    """The words of ``hit`` up to the first separator, or through the first one ending in a comma."""
    words: list[Word] = []
    for word in hit.words:
        if word.text in _NAME_ENDS or word.key in _NAME_ENDS:
            break
        words.append(word)
        if word.text.endswith((",", ";")):
            break
    return Hit(" ".join(w.text for w in words), words) if words else hit


# How a document names its type in its title, and the marks that introduce its number there
# ("Handelsrechnung (380) Nr. 471102 vom 05.03.2018", "Invoice no. 2024-17").
_TITLE_ENDINGS = (
    "rechnung",
    "invoice",
    "facture",
    "factuur",
    "factura",
    "fattura",
    "gutschrift",
    "creditnota",
)
_NUMBER_MARKS = {"nr", "no", "n", "number", "nummer", "numero", "num"}


def _title(doc: Document) -> tuple[Hit, list[Word], int] | None:
    """The number a title line gives the document, and the words after it: a word naming the
    document type, then within three words (or right after a type code) a number mark and the
    number, read across the line's segments."""
    first_page = doc.lines[0].page if doc.lines else 0
    for position, line in enumerate(doc.lines[:20]):
        if line.page != first_page:
            break
        # The title read across the line's segments: a scan's wide gaps split it ("Gutschrift"
        # | "(Selbst ausgestellte Rechnung)" | "Nr." | "471102", "Handelsrechnung Nr." | "471102").
        words = [w for segment in line.segments for w in segment.words]
        for i, word in enumerate(words):
            key = word.key.split("(")[0]  # "HANDELSRECHNUNG(380)": the type code glued on
            if not (key.endswith(_TITLE_ENDINGS) or key.startswith("rechnung")):
                continue
            # the mark within three words of the type word, a type code ("(575)") not counted;
            # or right after a type code however long the type's name ("Invoice information
            # for accounting purposes (751) Nr. 471102": the e-invoice visualisation's title)
            coded = any(w.text.startswith("(") and w.text.endswith(")") for w in words[i + 1 : i + 5])
            reach = i + 4 + coded
            code = next(
                (j for j in range(i + 1, min(i + 9, len(words))) if _TYPE_CODE.fullmatch(words[j].text)),
                None,
            )
            if code is not None:
                reach = max(reach, code + 2)
            for j in range(i + 1, min(reach, len(words) - 1)):
                if words[j].key.rstrip(".") in _NUMBER_MARKS or words[j].text == "#":
                    rest = words[j + 1 :]
                    hit = valid_reference(doc, Hit(" ".join(w.text for w in rest), rest))
                    if hit is not None:
                        hit.confidence = round(0.8 * min(1.0, hit.ocr_confidence + 0.1), 3)
                        after = rest[len(hit.words) :] if hit.words and hit.words[0] is rest[0] else []
                        return hit, after, position
    return None


_DATE_WORDS = {"vom", "du", "del", "dated", "of", "from", "at", "van", "le", "am", "dd"}
_TYPE_CODE = re.compile(r"\(\d{3}\)")  # a UNTDID 1001 document type code in brackets


def title_number(doc: Document) -> Hit | None:
    """The document's number from its title ("Handelsrechnung (380) Nr. 471102 vom 05.03.2018"),
    for titles no label list spells out (a compound type word, a type code before the mark)."""
    found = _title(doc)
    return found[0] if found is not None else None


def title_date(doc: Document) -> Hit | None:
    """The date the title gives with the number ("Nr. 471102 vom 05.03.2018", "n° 12 du 2 mai 2024",
    "No. 17 dated March 3, 2024"): the issue date, before any other date of the letterhead."""
    found = _title(doc)
    if found is None:
        return None
    after, position = found[1], found[2]
    if not after:
        # "Beitragsrechnung ... Nr. 00.123.456.7 ........ 11. März 2014": the date at the title
        # line's other end, the next segment after the number's
        segments = doc.lines[position].segments
        ends = [i for i, s in enumerate(segments) if found[0].words and s.words[-1] is found[0].words[-1]]
        if not ends or ends[0] + 1 >= len(segments):
            return None
        after = list(segments[ends[0] + 1].words)
    hit = valid_date(doc, Hit(" ".join(w.text for w in after), after))
    if hit is None and after[-1].key in _DATE_WORDS and position + 1 < len(doc.lines):
        # "... Nr. 471102 vom" with the date wrapped to the start of the next line
        first = doc.lines[position + 1].segments[0]
        hit = valid_date(doc, Hit(first.text, list(first.words)))
    if hit is not None:
        hit.confidence = round(0.85 * min(1.0, hit.ocr_confidence + 0.1), 3)
    return hit


def account_holder(doc: Document) -> Hit | None:
    """The holder named with the bank details ("Titulaire du compte : NETPRESSE", "Account name:
    Acme Ltd"), at the start of a segment or inside running text. On an invoice it names who is to
    be paid: the issuer, as the bank will check the name against the IBAN."""
    for anywhere in (False, True):
        for match in doc.find_label(ACCOUNT_HOLDER_TOKENS, anywhere=anywhere):
            if doc.is_table_header(match.line):
                continue
            for candidate in doc.value_candidates(match):
                hit = valid_name(doc, _name_part(candidate))
                if hit is not None:
                    hit.confidence = round(0.85 * min(1.0, hit.ocr_confidence + 0.1), 3)
                    return hit
    return None


def header_fields(doc: Document) -> dict[str, Hit]:
    found = {}
    for name in VALIDATORS:
        hit = read_field(doc, name)
        if hit is not None:
            found[name] = hit
    return found
