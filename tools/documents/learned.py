"""Layouts learned from one correction: an analyst points at a value once, the issuer's next
documents are read from the same place.

Contract:

- :func:`teach` ``(pages, field, page, bbox, value, taught_by)`` returns a :class:`LayoutRule`: the
  issuer's fingerprint (IBANs, VAT IDs, issuer name, layout words), the box, and an *anchor* (the
  label words printed just left of or above the box, with the box's offset from them), so the rule
  survives a layout that shifts by a line. Raises :class:`~tools.errors.ValidationError` naming the
  field for an unknown field, a page out of range or a malformed box.
- :func:`apply_rules` ``(doc, found, rules)`` overrides ``found`` (the extractor's ``{field: Hit}``)
  with the value each matching rule reads, its provenance naming the rule and its teacher. A rule
  applies only when the document's issuer matches (see :func:`same_issuer`) and its box holds a
  value that passes the field's validator; otherwise the extractor's own reading stands.
- :func:`set_provider` registers where rules come from (the app's database); extraction asks it
  for the current rules on each document, so a rule taught or removed counts from the next one.

Rules are data about positions, never instructions: the value is always re-read from the new
document and validated like any other value.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from pydantic import BaseModel, Field

from tools.documents.document import Document, Hit
from tools.documents.layout import Word
from tools.documents.normalize import fold

# Contract field name -> the extractor's internal name.
FIELDS: dict[str, str] = {
    "remittance.total_amount": "total_amount",
    "remittance.currency": "currency",
    "remittance.invoice_number": "invoice_number",
    "remittance.invoice_date": "invoice_date",
    "remittance.due_date": "due_date",
    "remittance.payment_date": "payment_date",
    "remittance.payment_reference": "payment_reference",
    "remittance.iban": "iban",
    "remittance.bic": "bic",
    "remittance.payee.name": "payee",
    "remittance.payer.name": "payer",
}
LAYOUT_MIN_SIMILARITY = 0.4  # Jaccard of header words: same template, not just same buyer
_VAT_RE = re.compile(
    r"\b(ATU\d{8}|BE0?\d{9,10}|DE\d{9}|FR[0-9A-Z]{2}\d{9}|NL\d{9}B\d{2}|ES[0-9A-Z]\d{7}[0-9A-Z]"
    r"|IT\d{11}|GB\d{9}(?:\d{3})?|CHE\d{9}|LU\d{8}|PL\d{10}|DK\d{8}|SE\d{12}|AT\d{8})\b"
)
_IBAN_RE = re.compile(r"\b([A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?)\b")


class Fingerprint(BaseModel):
    ibans: list[str] = Field(default_factory=list)
    vat_ids: list[str] = Field(default_factory=list)
    name: str | None = None
    layout: list[str] = Field(default_factory=list)  # folded words of the page-1 header


class Anchor(BaseModel):
    text: list[str]  # folded keys of the label words
    dx: float  # box.x0 - anchor.x0
    dy: float  # box.top - anchor.top


class LayoutRule(BaseModel):
    id: int | None = None
    field: str
    page: int
    bbox: list[float]
    value: str
    taught_by: str
    issuer: Fingerprint
    anchor: Anchor | None = None

    @property
    def label(self) -> str:
        return f"layout-rule {self.id if self.id is not None else '(new)'}, taught by {self.taught_by}"


def _iban_ok(iban: str) -> bool:
    from tools.documents.fields import _checksum_ok

    return _checksum_ok(iban)


def fingerprint(doc: Document, issuer_name: str | None = None) -> Fingerprint:
    text = doc.text.upper()
    ibans = sorted({m.replace(" ", "") for m in _IBAN_RE.findall(text) if _iban_ok(m.replace(" ", ""))})
    vats = sorted(set(_VAT_RE.findall(text.replace(" ", ""))))
    layout: list[str] = []
    if doc.pages:
        first = doc.pages[0]
        header = [w.key for line in first.lines if line.top < 0.35 * first.height for w in line.words]
        layout = sorted({k for k in header if k.isalpha() and len(k) >= 3})[:60]
    name = " ".join(re.sub(r"[^\w&]+", " ", fold(issuer_name)).split()) if issuer_name else None
    return Fingerprint(ibans=ibans, vat_ids=vats, name=name, layout=layout)


def _jaccard(a: Sequence[str], b: Sequence[str]) -> float:
    left, right = set(a), set(b)
    return len(left & right) / len(left | right) if left and right else 0.0


def same_issuer(rule: Fingerprint, doc: Fingerprint) -> bool:
    """The issuer's IBAN is its own; a VAT ID or a name may be the buyer's, so they need the layout too."""
    if set(rule.ibans) & set(doc.ibans):
        return True
    similar_layout = _jaccard(rule.layout, doc.layout) >= LAYOUT_MIN_SIMILARITY
    if set(rule.vat_ids) & set(doc.vat_ids) and similar_layout:
        return True
    return bool(rule.name and doc.name and rule.name == doc.name and similar_layout)


def _words_in(doc: Document, page: int, box: Sequence[float]) -> list[Word]:
    """Words whose vertical middle lies in the box and that overlap it horizontally, widened a little
    so a longer value than the taught one (4,11 -> 1.234,11) is still read whole."""
    x0, top, x1, bottom = box
    slack = 0.3 * (x1 - x0) + 10
    chosen = []
    for line in doc.lines:
        for word in line.words:
            middle = (word.top + word.bottom) / 2
            if (
                word.page == page
                and top - 2 <= middle <= bottom + 2
                and word.x1 > x0 - slack
                and word.x0 < x1 + slack
            ):
                chosen.append(word)
    return sorted(chosen, key=lambda w: (round(w.top), w.x0))


def _anchor(doc: Document, page: int, box: Sequence[float]) -> Anchor | None:
    """The label beside the value: the segment ending left of the box on its line, else the one above."""
    x0, top, _, bottom = box
    middle = (top + bottom) / 2
    best: tuple[float, list[Word]] | None = None
    for line in doc.lines:
        if line.page != page:
            continue
        for segment in line.segments:
            words = [w for w in segment.words if w.x1 <= x0 + 1]
            on_line = line.top - 2 <= middle <= line.bottom + 2
            above = line.bottom <= top + 1 and top - line.bottom < 3 * max(bottom - top, 8)
            if not words or not any(c.isalpha() for w in words for c in w.text):
                continue
            if on_line:
                distance = x0 - words[-1].x1
            elif above and abs(segment.x0 - x0) < 40:
                words = list(segment.words)
                distance = 1000 + top - line.bottom
            else:
                continue
            if best is None or distance < best[0]:
                best = (distance, words[-4:])
    if best is None:
        return None
    words = best[1]
    return Anchor(text=[w.key for w in words], dx=x0 - words[0].x0, dy=top - words[0].top)


def _find_anchor(doc: Document, page: int, anchor: Anchor) -> Word | None:
    size = len(anchor.text)
    for line in doc.lines:
        if line.page != page:
            continue
        keys = [w.key for w in line.words]
        for start in range(len(keys) - size + 1):
            if keys[start : start + size] == anchor.text:
                return line.words[start]
    return None


def _read(doc: Document, rule: LayoutRule) -> Hit | None:
    from tools.documents.fields import VALIDATORS

    box = list(rule.bbox)
    if rule.anchor is not None:
        found = _find_anchor(doc, rule.page, rule.anchor)
        if found is not None:
            width, height = box[2] - box[0], box[3] - box[1]
            box = [found.x0 + rule.anchor.dx, found.top + rule.anchor.dy]
            box += [box[0] + width, box[1] + height]
    words = _words_in(doc, rule.page, box)
    if not words:
        return None
    hit = VALIDATORS[FIELDS[rule.field]](doc, Hit(" ".join(w.text for w in words), words))
    if hit is None:
        return None
    return Hit(hit.text, hit.words, round(min(1.0, hit.confidence) * 0.98, 3), rule=rule.label)


def apply_rules(
    doc: Document, found: dict[str, Hit], rules: Sequence[LayoutRule], issuer_name: str | None
) -> None:
    if not rules:
        return
    seen = fingerprint(doc, issuer_name)
    for rule in rules:
        if rule.field not in FIELDS or not same_issuer(rule.issuer, seen):
            continue
        hit = _read(doc, rule)
        if hit is not None:
            found[FIELDS[rule.field]] = hit


_provider: Callable[[], Sequence[LayoutRule]] | None = None


def set_provider(provider: Callable[[], Sequence[LayoutRule]] | None) -> None:
    """Where :func:`current_rules` gets rules from (None: no learned rules)."""
    global _provider
    _provider = provider


def current_rules() -> Sequence[LayoutRule]:
    return _provider() if _provider is not None else []
