"""Real invoices side by side: RepairDesk and invoice2data 1.0.1 (its own 215 templates) on the same PDFs.

Sets: ``../shared/data/invoices/real`` (15 PDFs, hand-checked JSON) and
``../shared/data/invoices/invoice2data`` (4 PDFs, invoice2data's own expected JSON). Fields: amount,
currency, invoice number, issue and due date, IBAN, issuer (by the expected name's containment).
Speed: each document is read by both tools in turn (same machine state), median pages per second.
invoice2data reads through ``pdftotext`` (poppler-utils), its default and the input its templates
are written for; without the binary its pdfplumber input is used and the report says so.

Called by ``benchmarks/documents.py`` (``--real``, on by default).
"""

from __future__ import annotations

import json
import logging
import shutil
import statistics
import time
from collections import Counter
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

FIELDS = ["amount", "currency", "invoice_number", "date", "date_due", "iban", "issuer"]


def _ours(data: bytes, name: str) -> dict[str, Any]:
    from tools.extract import extract_bytes

    [extraction] = extract_bytes(data, name)
    rem = extraction.remittance
    if rem is None:
        return {}
    return {
        "amount": rem.total_amount,
        "currency": rem.currency,
        "invoice_number": rem.invoice_number,
        "date": rem.invoice_date,
        "date_due": rem.due_date,
        "iban": rem.iban,
        "issuer": rem.payee.name if rem.payee else None,
    }


def _theirs(path: Path, templates: list[Any], module: Any) -> dict[str, Any]:
    from invoice2data import extract_data

    try:
        result = extract_data(str(path), templates=templates, input_module=module) or {}
    except Exception:
        result = {}
    return {key: result.get(key) for key in FIELDS}


def _norm_name(text: Any) -> str:
    from tools.documents.normalize import fold

    return " ".join("".join(c if c.isalnum() or c == "&" else " " for c in fold(str(text))).split())


def right(field: str, want: Any, got: Any) -> bool:
    if got is None or got == "":
        return False
    if field == "amount":
        try:
            return Decimal(str(want)) == Decimal(str(got))
        except InvalidOperation:
            return False
    if field in {"date", "date_due"}:
        value = got.date() if isinstance(got, datetime) else got
        return isinstance(value, date) and value.isoformat() == str(want)
    if field == "issuer":
        return _norm_name(want) in _norm_name(got)
    if field == "iban":
        return str(want).replace(" ", "") == str(got).replace(" ", "")
    return str(want).strip() == str(got).strip()


def _truth(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text())
    truth = data[0] if isinstance(data, list) else data
    return {k: truth[k] for k in FIELDS if k in truth}


def _pages(data: bytes) -> int:
    from tools.documents.pdfium import close_document, open_document, page_count

    document = open_document(data)
    try:
        return page_count(document)
    finally:
        close_document(document)


def run(shared: Path) -> None:
    logging.getLogger("invoice2data").setLevel(logging.CRITICAL)
    from invoice2data.extract.loader import read_templates

    if shutil.which("pdftotext"):
        from invoice2data.input import pdftotext as module

        reader = "pdftotext"
    else:
        from invoice2data.input import pdfplumber as module  # type: ignore[no-redef]

        reader = "pdfplumber (pdftotext not installed)"
    templates = read_templates()
    print(f"real invoices: RepairDesk vs invoice2data 1.0.1 ({len(templates)} templates, input {reader})")
    for folder in ("real", "invoice2data"):
        counts: dict[str, Counter[str]] = {"repairdesk": Counter(), "invoice2data": Counter()}
        rates: dict[str, list[float]] = {"repairdesk": [], "invoice2data": []}
        paths = sorted((shared / "invoices" / folder).glob("*.pdf"))
        for path in paths:
            truth = _truth(path.with_suffix(".json"))
            data = path.read_bytes()
            pages = _pages(data)
            for tool in ("repairdesk", "invoice2data"):
                start = time.perf_counter()
                got = _ours(data, path.name) if tool == "repairdesk" else _theirs(path, templates, module)
                rates[tool].append(pages / (time.perf_counter() - start))
                for field, want in truth.items():
                    counts[tool][f"{field}:total"] += 1
                    counts[tool][field] += right(field, want, got.get(field))
        print(f"  {folder}: {len(paths)} PDFs")
        header = f"    {'field':<16}" + "".join(f"{tool:>14}" for tool in counts)
        print(header)
        for field in FIELDS:
            total = counts["repairdesk"][f"{field}:total"]
            if total:
                row = "".join(f"{counts[t][field] / total:>13.0%} " for t in counts)
                print(f"    {field:<16}{row}  (n={total})")
        overall = []
        for counter in counts.values():
            total = sum(v for k, v in counter.items() if k.endswith(":total"))
            correct = sum(v for k, v in counter.items() if not k.endswith(":total"))
            overall.append(f"{correct / total:>13.1%} ")
        print(f"    {'all fields':<16}{''.join(overall)}")
        speed = "".join(f"{statistics.median(rates[t]):>13.1f} " for t in counts)
        print(f"    {'pages/s (med)':<16}{speed}")
