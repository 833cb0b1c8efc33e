"""The reference-data store: customers, accounts, SSIs, open invoices and recent payments.

``RefDataStore(engine)`` creates its ``ref_`` tables if missing and answers the look-ups the evidence
tools need. Writes go through :meth:`RefDataStore.upsert`, one transaction per call, so a load either
lands whole or not at all. Works on SQLite and PostgreSQL alike (portable SQL only).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import Connection, Engine, Table, delete, func, insert, select
from sqlalchemy.exc import IntegrityError, ProgrammingError

from tools.refdata import tables
from tools.refdata.schema import Account, Customer, OpenInvoice, PaymentRecord, RefDataFile, Ssi

M = TypeVar("M", bound=BaseModel)
_CHUNK = 500  # ids per IN (...) clause: far below SQLite's and PostgreSQL's parameter limits


class RefDataStore:
    """Queries over the ``ref_`` tables of one database (SQLAlchemy engine)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        try:
            tables.metadata.create_all(engine, checkfirst=True)
        except (IntegrityError, ProgrammingError):
            # Another process created the tables between our check and our CREATE (PostgreSQL
            # reports the race as a duplicate type or relation); a second pass finds them.
            tables.metadata.create_all(engine, checkfirst=True)

    # ---- writes -------------------------------------------------------------------------------
    def upsert(self, data: RefDataFile) -> dict[str, int]:
        """Insert every record, replacing rows with the same id; all in one transaction.

        Returns the number of records written per kind. Any database error rolls everything back.
        """
        counts: dict[str, int] = {}
        with self.engine.begin() as conn:
            for kind, (table, key) in tables.KEYS.items():
                records: Sequence[BaseModel] = getattr(data, kind)
                if records:
                    _replace(conn, table, key, [_to_row(record) for record in records])
                counts[kind] = len(records)
        return counts

    # ---- reads --------------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            return {
                kind: int(conn.execute(select(func.count()).select_from(table)).scalar_one())
                for kind, (table, _key) in tables.KEYS.items()
            }

    def existing_customer_ids(self, ids: Iterable[str]) -> set[str]:
        """Those of ``ids`` that are already stored (the loader's reference check)."""
        wanted = sorted(set(ids))
        found: set[str] = set()
        col = tables.customers.c.customer_id
        with self.engine.connect() as conn:
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start : start + _CHUNK]
                found.update(conn.execute(select(col).where(col.in_(chunk))).scalars())
        return found

    def get_customer(self, customer_id: str) -> Customer | None:
        t = tables.customers
        return self._one(Customer, select(t).where(t.c.customer_id == customer_id))

    def customers(self, country: str | None = None) -> list[Customer]:
        t = tables.customers
        query = select(t).order_by(t.c.customer_id)
        if country:
            query = query.where(t.c.country == country.upper())
        return self._all(Customer, query)

    def get_account(self, iban: str) -> Account | None:
        t = tables.accounts
        return self._one(Account, select(t).where(t.c.iban == iban))

    def accounts_of(self, customer_id: str, currency: str | None = None) -> list[Account]:
        t = tables.accounts
        query = select(t).where(t.c.customer_id == customer_id).order_by(t.c.iban)
        if currency:
            query = query.where(t.c.currency == currency)
        return self._all(Account, query)

    # Intended same shape as accounts_of: each table's own query and order.
    def ssis_of(self, customer_id: str, currency: str | None = None) -> list[Ssi]:
        """The customer's SSIs in id order (``C-1042:1`` before ``C-1042:2``)."""
        t = tables.ssis
        query = select(t).where(t.c.customer_id == customer_id).order_by(t.c.ssi_id)
        if currency:
            query = query.where(t.c.currency == currency)
        return self._all(Ssi, query)

    def ssis_with_iban(self, iban: str) -> list[Ssi]:
        t = tables.ssis
        return self._all(Ssi, select(t).where(t.c.iban == iban).order_by(t.c.ssi_id))

    def open_invoices_of(self, customer_id: str, currency: str | None = None) -> list[OpenInvoice]:
        """Open invoices, oldest due date first (payers usually settle the oldest first)."""
        t = tables.open_invoices
        query = select(t).where(t.c.customer_id == customer_id)
        if currency:
            query = query.where(t.c.currency == currency)
        query = query.order_by(t.c.due_date, t.c.invoice_number)
        return self._all(OpenInvoice, query)

    def payments_by_uetr(self, uetr: str) -> list[PaymentRecord]:
        t = tables.payments
        return self._all(PaymentRecord, select(t).where(t.c.uetr == uetr.lower()).order_by(t.c.reference))

    def payments_between(self, currency: str, start: date, end: date) -> list[PaymentRecord]:
        """Payments in ``currency`` with a value date in ``[start, end]``."""
        t = tables.payments
        query = (
            select(t)
            .where(t.c.currency == currency, t.c.value_date >= start, t.c.value_date <= end)
            .order_by(t.c.value_date, t.c.reference)
        )
        return self._all(PaymentRecord, query)

    def reference_bics(self) -> set[str]:
        """Every BIC named by an account or SSI, as loaded."""
        found: set[str] = set()
        with self.engine.connect() as conn:
            for table in (tables.ssis, tables.accounts):
                query = select(table.c.bic).where(table.c.bic.is_not(None)).distinct()
                found.update(conn.execute(query).scalars())
        return found

    # ---- helpers ------------------------------------------------------------------------------
    def _one(self, model: type[M], query: Any) -> M | None:
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return None if row is None else _from_row(model, row)

    def _all(self, model: type[M], query: Any) -> list[M]:
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [_from_row(model, row) for row in rows]


def _replace(conn: Connection, table: Table, key: str, rows: list[dict[str, Any]]) -> None:
    """Delete the rows with these ids, then insert: a portable upsert for SQLite and PostgreSQL."""
    col = table.c[key]
    ids = [row[key] for row in rows]
    for start in range(0, len(ids), _CHUNK):
        conn.execute(delete(table).where(col.in_(ids[start : start + _CHUNK])))
    for start in range(0, len(rows), _CHUNK):
        conn.execute(insert(table), rows[start : start + _CHUNK])


def _to_row(record: BaseModel) -> dict[str, Any]:
    row = record.model_dump()
    for name in ("amount", "discount_rate"):
        if row.get(name) is not None:
            row[name] = f"{row[name]:f}"
    return row


def _from_row(model: type[M], row: Any) -> M:
    values = {k: v for k, v in dict(row).items() if v is not None}
    return model.model_validate(values)
