"""A line item and how one table cell becomes a field value: shared by the two table readers.

Its own module so that :mod:`~.grids` (pdfplumber's grids) and :mod:`~.lines` (word positions, and
the choice between readings) both build on it without importing each other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tools.documents.document import Document, Hit
from tools.documents.fields import valid_amount, valid_date

ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9/\-_.#]*\d[A-Za-z0-9/\-_.]*$")
AMOUNT_COLUMNS = ("amount", "discount", "net_amount")


@dataclass
class ItemHit:
    values: dict[str, Hit] = field(default_factory=dict)


def cell_value(doc: Document, name: str, hit: Hit) -> Hit | None:
    if name == "invoice_number":
        token = hit.text.split()[0] if hit.text.split() else ""
        return Hit(token, hit.words[:1], 1.0) if ID_RE.match(token) else None
    if name == "invoice_date":
        return valid_date(doc, hit)
    if name in AMOUNT_COLUMNS:
        return valid_amount(doc, hit)
    return Hit(hit.text, hit.words, 1.0)


def is_item(item: ItemHit) -> bool:
    """A table row is an item when it names an invoice, or describes something with an amount."""
    has_amount = any(k in item.values for k in AMOUNT_COLUMNS)
    return "invoice_number" in item.values or (has_amount and "description" in item.values)
