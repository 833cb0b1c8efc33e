"""Read typed values from nodes while recording provenance (fields) and format problems (findings).

Contract: every ``Recorder`` read method returns a typed value or None and never raises on bad input;
a value that is present but malformed becomes a ``FIELD_FORMAT`` error finding instead. Each value
returned is also appended to :attr:`Recorder.fields` with its XPath and a confidence (as a dict in
:class:`~tools.messages.model.ExtractedField` shape, validated when the Extraction is built).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from tools.messages.iso20022.tree import Node
from tools.messages.model import Finding, Severity

EXACT = 0.99  # a value read verbatim from a tagged element
DERIVED = 0.95  # a value composed from several elements (address lines)

_AMOUNT = re.compile(r"^\d{1,18}(\.\d{1,17})?$")
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")


class Recorder:
    """Collects extracted fields and :class:`~tools.messages.model.Finding` objects for one extraction.

    ``fields`` holds plain dicts in :class:`ExtractedField` shape (name, value, confidence, source):
    the caller validates them all at once when it builds the :class:`Extraction`, which costs a
    fraction of building two models (field and source) for every value read.
    """

    def __init__(self) -> None:
        self.fields: list[dict[str, Any]] = []
        self.findings: list[Finding] = []

    def field(self, name: str, value: str, xpath: str, confidence: float = EXACT) -> None:
        self.fields.append(
            {"name": name, "value": value, "confidence": confidence, "source": {"xpath": xpath}}
        )

    def finding(self, code: str, severity: Severity, message: str, field: str | None = None) -> None:
        self.findings.append(Finding(code=code, severity=severity, message=message, field=field))

    def text(self, name: str, node: Node | None, path: str | None = None) -> str | None:
        """Text of ``node`` (or of ``node/path``), recorded as field ``name``."""
        target = node.find(path) if node is not None and path else node
        if target is None:
            return None
        value = target.text
        if value is not None:
            self.field(name, value, target.path)
        return value

    def texts(self, name: str, node: Node | None, path: str) -> list[str]:
        """Every non-empty text along ``path`` (all repetitions), each recorded as ``name[i]``."""
        if node is None:
            return []
        values: list[str] = []
        for target in node.findall(path):
            if target.text is not None:
                self.field(f"{name}[{len(values)}]", target.text, target.path)
                values.append(target.text)
        return values

    def amount(
        self, name: str, currency_name: str, node: Node | None, path: str | None = None
    ) -> tuple[Decimal | None, str | None]:
        """An ISO 20022 amount element (``<X Ccy="EUR">12.34</X>``) as (Decimal, currency)."""
        target = node.find(path) if node is not None and path else node
        if target is None:
            return None, None
        currency = target.attr("Ccy")
        if currency is not None:
            currency = currency.upper()
            self.field(currency_name, currency, f"{target.path}/@Ccy")
        raw = target.text
        if raw is None:
            self.finding("FIELD_FORMAT", "error", f"amount element {target.path} is empty", name)
            return None, currency
        value = self.decimal_of(raw)
        if value is None:
            self.finding("FIELD_FORMAT", "error", f"{raw!r} at {target.path} is not a decimal amount", name)
            return None, currency
        self.field(name, raw, target.path)
        return value, currency

    @staticmethod
    def decimal_of(raw: str) -> Decimal | None:
        if not _AMOUNT.match(raw):
            return None
        try:
            return Decimal(raw)
        except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
            return None

    def rate(self, name: str, node: Node | None, path: str) -> Decimal | None:
        target = node.find(path) if node is not None else None
        if target is None or target.text is None:
            return None
        value = self.decimal_of(target.text)
        if value is None:
            self.finding("FIELD_FORMAT", "error", f"{target.text!r} at {target.path} is not a rate", name)
            return None
        self.field(name, target.text, target.path)
        return value

    def date(self, name: str, node: Node | None, path: str | None = None) -> date | None:
        """An ISODate, or the date part of an ISODateTime (the date as written, not converted to UTC)."""
        target = node.find(path) if node is not None and path else node
        if target is None:
            return None
        if target.text is None:
            # a choice wrapper such as <BookgDt><Dt>..</Dt></BookgDt> or <DtTm>
            inner = target.child("Dt") or target.child("DtTm")
            return self.date(name, inner) if inner is not None else None
        value = parse_date(target.text)
        if value is None:
            self.finding("FIELD_FORMAT", "error", f"{target.text!r} at {target.path} is not a date", name)
            return None
        self.field(name, value.isoformat(), target.path)
        return value

    def datetime(self, name: str, node: Node | None, path: str) -> datetime | None:
        target = node.find(path) if node is not None else None
        if target is None or target.text is None:
            return None
        try:
            value = datetime.fromisoformat(target.text.replace("Z", "+00:00"))
        except ValueError:
            self.finding(
                "FIELD_FORMAT", "error", f"{target.text!r} at {target.path} is not a date-time", name
            )
            return None
        self.field(name, target.text, target.path)
        return value


def parse_date(raw: str) -> date | None:
    match = _DATE.match(raw)
    if match is None:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None
