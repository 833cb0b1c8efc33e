"""Evidence ids on the case page resolved to the reference-data records they name.

The agent cites evidence as ``kind:key`` (``ssi:C-1001:1``, ``account:DE89...``, ``customer:C-1001``,
``invoice:INV-7``, ``payment:REF-1``). ``resolve(connection, refs)`` reads those records from the
refdata tables of the service's database; an id it cannot resolve (another kind, or a record since
removed) comes back with ``record=None`` and is shown as the id alone.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, Table, select
from sqlalchemy.exc import SQLAlchemyError

from tools.refdata import tables

KINDS: dict[str, tuple[Table, str, str]] = {
    "ssi": (tables.ssis, "ssi_id", "Standing settlement instruction"),
    "account": (tables.accounts, "iban", "Account"),
    "customer": (tables.customers, "customer_id", "Customer"),
    "invoice": (tables.open_invoices, "invoice_number", "Open invoice"),
    "payment": (tables.payments, "reference", "Payment"),
}


def _display(value: Any) -> str:
    if isinstance(value, list):
        return " / ".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def resolve(connection: Connection, refs: list[str]) -> dict[str, dict[str, Any]]:
    """``{ref: {"ref", "label", "record": [(column, value), ...] | None}}`` for each distinct ref."""
    out: dict[str, dict[str, Any]] = {}
    readable = True
    for ref in dict.fromkeys(r for part in refs for r in str(part).split("+") if r):
        kind, _, key = ref.partition(":")
        entry: dict[str, Any] = {"ref": ref, "label": kind, "record": None}
        if kind in KINDS and key:
            table, column, label = KINDS[kind]
            entry["label"] = label
            row = None
            try:
                if readable:
                    row = connection.execute(select(table).where(table.c[column] == key)).mappings().first()
            except SQLAlchemyError:  # no refdata tables in this database: show the ids alone
                readable = False
            if row is not None:
                entry["record"] = [
                    (name, _display(value)) for name, value in row.items() if value not in (None, [], "")
                ]
        out[ref] = entry
    return out
