"""A PDF e-invoice: the embedded XML's values, checked against what the page prints.

Contract: :func:`merge` ``(printed, xml, attachment)`` returns one Extraction whose header values
are the XML's (XPath provenance, confidence 1.0), with the page's values kept only where the XML
has none, and a finding ``EINVOICE_MISMATCH`` (severity error) for each of amount, IBAN, due date
and invoice number that both carry and that disagree. A page that prints another IBAN than its
own embedded XML is a known fraud pattern (the XML is what accounting systems book; the page is
what a person pays from), so the disagreement is never resolved silently.
"""

from __future__ import annotations

import re
from typing import Any

from tools.messages.model import Extraction, Finding, Remittance

# Fields compared between page and XML, with a name for the finding's message.
CHECKED = {
    "total_amount": "amount",
    "iban": "IBAN",
    "due_date": "due date",
    "invoice_number": "invoice number",
}


def _same(name: str, printed: Any, xml: Any) -> bool:
    if name in {"iban", "invoice_number"}:
        return re.sub(r"[\s\-]", "", str(printed)).casefold() == re.sub(r"[\s\-]", "", str(xml)).casefold()
    return bool(printed == xml)


def mismatches(printed: Remittance, xml: Remittance) -> list[Finding]:
    findings = []
    for name, label in CHECKED.items():
        page_value, xml_value = getattr(printed, name), getattr(xml, name)
        if page_value is None or xml_value is None or _same(name, page_value, xml_value):
            continue
        findings.append(
            Finding(
                code="EINVOICE_MISMATCH",
                severity="error",
                message=(
                    f"the printed {label} ({page_value}) differs from the embedded e-invoice XML"
                    f" ({xml_value}); the page may have been altered"
                ),
                field=f"remittance.{name}",
            )
        )
    return findings


def merge(printed: Extraction, xml: Extraction, attachment: str) -> Extraction:
    page = printed.remittance or Remittance()
    embedded = xml.remittance or Remittance()
    values = page.model_dump()
    for name, value in embedded.model_dump().items():
        if value not in (None, [], {}):
            values[name] = value
    values["lines"] = page.lines
    xml_names = {f.name for f in xml.fields}
    fields = list(xml.fields) + [f for f in printed.fields if f.name not in xml_names]
    findings = [f for f in printed.findings] + mismatches(page, embedded)
    raw = dict(printed.raw or {})
    raw.update(xml.raw or {})
    raw["einvoice_attachment"] = attachment
    return Extraction(
        source=printed.source,
        doc_type="invoice",
        remittance=Remittance.model_validate(values),
        fields=fields,
        findings=findings,
        raw=raw,
    )
