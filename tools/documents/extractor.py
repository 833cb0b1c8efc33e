"""From read pages to the canonical :class:`Extraction` of a remittance advice or an invoice.

Contract: :func:`extract_pages` never raises for content it does not understand; it returns an
Extraction with ``doc_type`` ``remittance_advice``, ``invoice`` or ``unknown``, the Remittance model
filled with what was found, one :class:`ExtractedField` per value (page, box, confidence) and the
findings of the consistency checks.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from tools.documents.checks import check_remittance
from tools.documents.dates import due_in_terms, header_date
from tools.documents.document import Document, Hit
from tools.documents.fields import (
    VALIDATORS,
    account_holder,
    header_fields,
    read_field,
    title_date,
    title_number,
)
from tools.documents.hints import load_hints
from tools.documents.labels import INVOICE_WORDS, REMITTANCE_WORDS, tokens
from tools.documents.layout import Page, bbox_of
from tools.documents.learned import apply_rules, current_rules
from tools.documents.letter import letter_payment_date, sentence_payment_date
from tools.documents.lines import find_lines, narrow
from tools.documents.normalize import currency_mentions, find_amounts, fold, parse_currency
from tools.documents.parties import find_parties
from tools.documents.totals import column_total
from tools.messages.model import (
    ExtractedField,
    Extraction,
    FieldSource,
    Party,
    Remittance,
    RemittanceLine,
)


def _ocr_fold(text: str) -> str:
    """Letter pairs OCR reads as one letter, folded alike on both sides ("awiso" for "avviso",
    "payrnent" for "payment")."""
    return text.replace("vv", "w").replace("rn", "m")


_REMITTANCE_KEYS = [_ocr_fold(word) for word in REMITTANCE_WORDS]
_INVOICE_KEYS = [_ocr_fold(word) for word in INVOICE_WORDS]


def classify(doc: Document) -> str:
    """The type the document names first: a title comes before the body, and an invoice that
    mentions a payment advice further down ("Référence avis de paiement", "send your remittance
    advice to ...") is still an invoice, as a remittance advice listing invoices is a remittance."""
    folded = _ocr_fold(fold(doc.text))
    remittance = min((i for i in (folded.find(w) for w in _REMITTANCE_KEYS) if i >= 0), default=-1)
    invoice = min((i for i in (folded.find(w) for w in _INVOICE_KEYS) if i >= 0), default=-1)
    if remittance >= 0 and (invoice < 0 or remittance < invoice):
        return "remittance_advice"
    if invoice >= 0:
        return "invoice"
    return "unknown"


def _apply_hints(doc: Document, found: dict[str, Hit]) -> None:
    for hint in load_hints(doc.text):
        for name, rule in hint["fields"].items():
            if name not in VALIDATORS or not isinstance(rule, dict):
                continue
            if "value" in rule:
                found[name] = Hit(str(rule["value"]), [], 1.0)
            elif "label" in rule:
                hit = read_field(doc, name, [tokens(str(rule["label"]))])
                if hit is not None:
                    found[name] = hit
            elif "area" in rule:
                x0, top, x1, bottom = (float(v) for v in rule["area"])
                page = int(rule.get("page", 1))
                words = [
                    w
                    for line in doc.lines
                    for w in line.words
                    if w.page == page and w.x0 >= x0 and w.x1 <= x1 and w.top >= top and w.bottom <= bottom
                ]
                hit = VALIDATORS[name](doc, Hit(" ".join(w.text for w in words), words)) if words else None
                if hit is not None:
                    found[name] = hit


def _invoice_fallbacks(doc: Document, found: dict[str, Hit]) -> None:
    """Invoice fields that labels alone miss: a column of totals, dates in terms and letterheads."""
    if "total_amount" in found:
        found["total_amount"] = column_total(doc, found["total_amount"])
    if "due_date" not in found:
        due = due_in_terms(doc)
        if due is not None:
            found["due_date"] = due
    if "invoice_number" not in found:
        number = title_number(doc)
        if number is not None:
            found["invoice_number"] = number
    if "invoice_date" not in found:
        issued = title_date(doc) or header_date(doc)
        if issued is not None:
            found["invoice_date"] = issued


def _currency(doc: Document, found: dict[str, Hit]) -> Hit | None:
    if "currency" in found:
        return found["currency"]
    total = found.get("total_amount")
    if total is not None and total.words:
        anchor = total.words[0]
        index = doc.line_with(anchor)
        line = doc.lines[index] if index is not None else None
        if line is not None:
            parsed = parse_currency(line.text)
            if parsed is not None:
                return Hit(str(parsed.value), total.words, parsed.confidence * 0.95)
    mentions = currency_mentions(doc.text)
    if mentions:
        # Most mentioned, then first mentioned: deterministic (a set's order is not).
        code = min(mentions, key=lambda c: (-mentions[c][0], mentions[c][1]))
        return Hit(code, [], 0.5)
    return None


def _total_from_lines(doc: Document, lines: list[RemittanceLine]) -> Hit | None:
    """With no labelled total, the printed amount that equals the sum of the lines (a letter's
    "we transferred EUR 3.456,78"): the agreement itself is the evidence."""
    paid = [line.net_amount if line.net_amount is not None else line.amount for line in lines]
    if any(p is None for p in paid):
        return None
    total = sum((p for p in paid if p is not None), Decimal(0))
    for line in doc.lines:
        for parsed in find_amounts(line.text, doc.decimal_hint):
            if parsed.value == total:
                words = narrow(line.words, parsed.span)
                return Hit(str(total), words, 0.8 * min(w.confidence for w in words))
    return None


class _Builder:
    """Collects values and their provenance into the Extraction's ``fields`` list."""

    def __init__(self) -> None:
        self.fields: list[ExtractedField] = []

    def add(self, name: str, value: str, hit: Hit) -> None:
        source = hit.source()
        self.fields.append(
            ExtractedField(
                name=name, value=value, confidence=max(0.0, min(1.0, round(hit.confidence, 3))), source=source
            )
        )


def extract_pages(pages: list[Page], source: str, *, use_rules: bool = True) -> Extraction:
    doc = Document(pages, source)
    doc_type = classify(doc)
    found = header_fields(doc)
    _apply_hints(doc, found)
    if "payment_date" not in found and doc_type == "remittance_advice":
        dated = letter_payment_date(doc) or sentence_payment_date(doc)
        if dated is not None:
            found["payment_date"] = dated
    if doc_type == "invoice":
        _invoice_fallbacks(doc, found)
    payer, payee = found.get("payer"), found.get("payee")
    if payer is None or payee is None:
        guessed_payer, guessed_payee = find_parties(doc, doc_type)
        if (
            payee is None
            and doc_type == "invoice"
            and (guessed_payee is None or guessed_payee.confidence < 0.75)
        ):
            # No company name (legal form) in the letterhead: the holder of the account the
            # invoice asks to be paid into names the issuer better than the first address block.
            guessed_payee = account_holder(doc) or guessed_payee
        payer = payer or guessed_payer
        payee = payee or guessed_payee
        if payer is not None and payee is not None and payer.text == payee.text:
            payer = None
    rules = current_rules() if use_rules else []
    if rules:
        # Layouts an analyst taught: the issuer's own positions win over the generic reading.
        apply_rules(doc, found, rules, payee.text if payee is not None else None)
        payer, payee = found.get("payer", payer), found.get("payee", payee)
    currency = _currency(doc, found)
    total_hit = found.get("total_amount")
    items = find_lines(doc, doc_type, Decimal(total_hit.text) if total_hit is not None else None)

    out = _Builder()
    values: dict[str, Any] = {}
    for name in ("payment_reference", "invoice_number", "iban", "bic"):
        if name in found:
            values[name] = found[name].text
            out.add(f"remittance.{name}", found[name].text, found[name])
    for name in ("payment_date", "invoice_date", "due_date"):
        if name in found:
            values[name] = date.fromisoformat(found[name].text)
            out.add(f"remittance.{name}", found[name].text, found[name])
    if "total_amount" in found:
        values["total_amount"] = Decimal(found["total_amount"].text)
        out.add("remittance.total_amount", found["total_amount"].text, found["total_amount"])
    if currency is not None:
        values["currency"] = currency.text
        out.add("remittance.currency", currency.text, currency)
    for role, hit in (("payer", payer), ("payee", payee)):
        if hit is not None:
            values[role] = Party(name=hit.text)
            out.add(f"remittance.{role}.name", hit.text, hit)

    lines = []
    for index, item in enumerate(items):
        line_values: dict[str, Any] = {}
        for name, hit in item.values.items():
            if name == "invoice_date":
                line_values[name] = date.fromisoformat(hit.text)
            elif name in {"amount", "discount", "net_amount"}:
                line_values[name] = Decimal(hit.text)
            else:
                line_values[name] = hit.text
            out.add(f"remittance.lines[{index}].{name}", hit.text, hit)
        lines.append(RemittanceLine(**line_values))
    values["lines"] = lines
    # A remittance that settles one invoice names it in the header.
    if "invoice_number" not in values and len(lines) == 1 and lines[0].invoice_number:
        values["invoice_number"] = lines[0].invoice_number
    if doc_type == "remittance_advice" and len(lines) > 1 and "invoice_number" in values:
        del values["invoice_number"]
        out.fields = [f for f in out.fields if f.name != "remittance.invoice_number"]

    if "total_amount" not in values and lines:
        derived = _total_from_lines(doc, lines)
        if derived is not None:
            values["total_amount"] = Decimal(derived.text)
            out.add("remittance.total_amount", derived.text, derived)
    remittance = Remittance(**values)
    findings, factors = check_remittance(
        remittance, set(doc.currencies), sum_lines=doc_type == "remittance_advice"
    )
    for extracted in out.fields:
        key = "remittance.lines" if extracted.name.startswith("remittance.lines") else extracted.name
        if key in factors:
            extracted.confidence = round(max(0.0, min(1.0, extracted.confidence * factors[key])), 3)
    return Extraction(
        source=source,
        doc_type=doc_type,
        remittance=remittance,
        fields=out.fields,
        findings=findings,
        raw={"readers": [p.reader for p in pages], "language": doc.language, "pages": len(pages)},
    )


__all__ = ["FieldSource", "bbox_of", "classify", "extract_pages"]
