"""Build ``evals/datasets/extraction.jsonl`` from the shared fixtures' own expected values.

Expectations come from the upstream projects (invoice2data's JSON, genkgo/camt's JSON) or from an
independent read of the raw text (the MT :32A: line, the pacs.008 XML), never from our parsers.
Inputs are referenced as ``shared:<path below ../shared/data>`` so the dataset holds no copies.

Run: ``python -m evals.builders.extraction`` (then ``repairdesk eval manifest --update``).
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from evals.datasets import DATASETS_DIR
from tools.config import shared_data_dir
from tools.messages.currencies import minor_units

_MT_32A = re.compile(r":32A:(\d{6})([A-Z]{3})([\d,]+)")


def _invoices(root: Path) -> list[dict[str, Any]]:
    rows = []
    for path in sorted((root / "invoices/invoice2data").glob("*.json")):
        expected_doc = json.loads(path.read_text())[0]
        expected = {
            "remittance.total_amount": str(expected_doc["amount"]),
            "remittance.invoice_number": str(expected_doc["invoice_number"]),
            "remittance.invoice_date": expected_doc["date"],
            "remittance.currency": expected_doc["currency"],
            "remittance.payee.name": expected_doc["issuer"],
        }
        rows.append(
            {
                "id": f"invoice2data/{path.stem}",
                "input": f"shared:invoices/invoice2data/{path.stem}.pdf",
                "doc_type": "invoice",
                "expected": expected,
            }
        )
    return rows


# Keys of the real set's JSON (see ../shared/data/invoices/real/README.md) -> extraction paths.
REAL_KEYS = {
    "amount": "remittance.total_amount",
    "currency": "remittance.currency",
    "invoice_number": "remittance.invoice_number",
    "date": "remittance.invoice_date",
    "date_due": "remittance.due_date",
    "iban": "remittance.iban",
    "issuer": "remittance.payee.name",
    "bic": "remittance.bic",
    "buyer": "remittance.payer.name",
}
# The fields the real set's accuracy floor is measured on (bic and buyer are reported, not floored).
REAL_FLOOR_KEYS = ["amount", "currency", "invoice_number", "date", "date_due", "iban", "issuer"]
# Names are compared by containment after normalising: the page may add a legal form.
CONTAINS = ["remittance.payee.name", "remittance.payer.name"]


def real_invoices(root: Path) -> list[dict[str, Any]]:
    """The real invoices (``invoices/real``): expectations are the hand-checked JSON beside each PDF."""
    rows = []
    for path in sorted((root / "invoices/real").glob("*.json")):
        truth = json.loads(path.read_text())
        expected = {REAL_KEYS[key]: str(value) for key, value in truth.items() if key in REAL_KEYS}
        rows.append(
            {
                "id": f"real/{path.stem}",
                "input": f"shared:invoices/real/{path.stem}.pdf",
                "doc_type": "invoice",
                "expected": expected,
                "contains": [name for name in CONTAINS if name in expected],
            }
        )
    return rows


def _camt(root: Path) -> list[dict[str, Any]]:
    rows = []
    for path in sorted((root / "iso20022/camt_genkgo").glob("camt05*.json")):
        xml = path.with_suffix(".xml")
        if not xml.exists() or "wrong" in path.name:
            continue
        text = xml.read_text(errors="replace")
        if max(text.count("<Stmt>"), text.count("<Rpt>"), text.count("<Ntfctn>")) > 1:
            # genkgo's top-level entry list for multi-statement files mixes statements; the
            # per-statement expectations are checked by tests/tools/messages/iso20022 instead.
            continue
        entries = json.loads(path.read_text()).get("getEntries") or []
        expected: dict[str, str] = {}
        for index, entry in enumerate(entries[:3]):
            money = entry.get("getAmount") or {}
            currency = (money.get("getCurrency") or {}).get("getCode")
            if not currency or money.get("getAmount") is None:
                continue
            units = minor_units(currency) or 0
            amount = Decimal(money["getAmount"]).scaleb(-units)
            expected[f"statement.entries[{index}].amount"] = str(abs(amount))
            expected[f"statement.entries[{index}].currency"] = currency
            indicator = entry.get("getCreditDebitIndicator")
            if indicator:
                expected[f"statement.entries[{index}].credit_debit"] = indicator
        if expected:
            name = xml.name
            rows.append(
                {
                    "id": f"camt_genkgo/{xml.stem}",
                    "input": f"shared:iso20022/camt_genkgo/{name}",
                    "doc_type": "iso20022."
                    + re.sub(r"^camt0?(\d+).*", r"camt.0\1", name).replace("camt.0053", "camt.053"),
                    "expected": expected,
                }
            )
    return rows


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _find(element: ElementTree.Element, *names: str) -> ElementTree.Element | None:
    current: ElementTree.Element | None = element
    for name in names:
        if current is None:
            return None
        current = next((child for child in current if _local(child.tag) == name), None)
    return current


def _pacs008(root: Path) -> list[dict[str, Any]]:
    rows = []
    for path in sorted((root / "iso20022/fedwire_moov").glob("*pacs.008*.xml")):
        tree = ElementTree.parse(path)
        tx = next((e for e in tree.iter() if _local(e.tag) == "CdtTrfTxInf"), None)
        if tx is None:
            continue
        expected: dict[str, str] = {}
        amount = _find(tx, "IntrBkSttlmAmt")
        if amount is not None and amount.text:
            expected["payment.amount"] = amount.text.strip()
            expected["payment.currency"] = amount.get("Ccy", "")
        for party, key in (("Dbtr", "debtor"), ("Cdtr", "creditor")):
            name = _find(tx, party, "Nm")
            if name is not None and name.text:
                expected[f"payment.{key}.name"] = name.text.strip()
        for agent, key in (("DbtrAgt", "debtor_agent"), ("CdtrAgt", "creditor_agent")):
            member = _find(tx, agent, "FinInstnId", "ClrSysMmbId", "MmbId")
            bic = _find(tx, agent, "FinInstnId", "BICFI")
            if bic is not None and bic.text:
                expected[f"payment.{key}.bic"] = bic.text.strip()
            elif member is not None and member.text:
                expected[f"payment.{key}.clearing_id"] = member.text.strip()
        if expected:
            rows.append(
                {
                    "id": f"fedwire_moov/{path.stem}",
                    "input": f"shared:iso20022/fedwire_moov/{path.name}",
                    "doc_type": "iso20022.pacs.008",
                    "expected": expected,
                }
            )
    return rows


def _mt103(root: Path) -> list[dict[str, Any]]:
    rows = []
    for path in sorted((root / "swift_mt/prowide").glob("prowide_103_*.fin")):
        match = _MT_32A.search(path.read_text(errors="replace"))
        if not match:
            continue
        date, currency, amount = match.groups()
        expected = {
            "payment.currency": currency,
            "payment.amount": amount.replace(",", ".").rstrip("."),
            "payment.value_date": f"20{date[:2]}-{date[2:4]}-{date[4:]}",
        }
        rows.append(
            {
                "id": f"prowide/{path.stem}",
                "input": f"shared:swift_mt/prowide/{path.name}",
                "doc_type": "swift.mt103",
                "expected": expected,
            }
        )
    return rows


def build(root: Path | None = None) -> list[dict[str, Any]]:
    from evals.generators.remittance import dataset_rows

    base = root or shared_data_dir()
    # Generated remittance advices (60 text PDFs, 12 scans): truth from the generator, inputs
    # rendered on the fly from their "generated:<spec>" reference.
    return (
        real_invoices(base) + _invoices(base) + _camt(base) + _pacs008(base) + _mt103(base) + dataset_rows()
    )


def main() -> None:
    rows = build()
    path = DATASETS_DIR / "extraction.jsonl"
    path.write_text("".join(json.dumps(row, sort_keys=True) + "\n" for row in rows))


if __name__ == "__main__":
    from app.settings import Settings, configure_process

    configure_process(Settings())  # a script's start-up: the environment, read once
    main()
