"""SQLAlchemy tables of the reference-data store, all prefixed ``ref_``.

They are created idempotently with ``metadata.create_all`` (the app's Alembic migrations own the
app's own tables, not these). Amounts are stored as canonical decimal text so that SQLite and
PostgreSQL give back exactly what was loaded; there are no foreign keys because the loader checks
references itself and upserts must be order-independent.
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, Date, Index, MetaData, String, Table

metadata = MetaData()

customers = Table(
    "ref_customers",
    metadata,
    Column("customer_id", String(64), primary_key=True),
    Column("name", String(140), nullable=False),
    Column("country", String(2)),
    Column("address_lines", JSON, nullable=False),
)

accounts = Table(
    "ref_accounts",
    metadata,
    Column("iban", String(34), primary_key=True),
    Column("customer_id", String(64), nullable=False, index=True),
    Column("bic", String(11)),
    Column("currency", String(3), nullable=False),
    Column("status", String(8), nullable=False),
)

# Tables repeat column definitions (customer_id, currency, ...) by design: each is its own row shape.
ssis = Table(
    "ref_ssis",
    metadata,
    Column("ssi_id", String(64), primary_key=True),
    Column("customer_id", String(64), nullable=False, index=True),
    Column("beneficiary_name", String(140), nullable=False),
    Column("iban", String(34), nullable=False),
    Column("bic", String(11)),
    Column("currency", String(3), nullable=False),
    Column("address_lines", JSON, nullable=False),
    Column("country", String(2)),
)

open_invoices = Table(
    "ref_open_invoices",
    metadata,
    Column("invoice_number", String(64), primary_key=True),
    Column("customer_id", String(64), nullable=False, index=True),
    Column("currency", String(3), nullable=False),
    Column("amount", String(40), nullable=False),
    Column("due_date", Date),
    Column("invoice_date", Date),
    Column("debtor_name", String(140)),
    Column("discount_rate", String(12)),
    Column("discount_until", Date),
)

payments = Table(
    "ref_payments",
    metadata,
    Column("reference", String(64), primary_key=True),
    Column("uetr", String(36), index=True),
    Column("currency", String(3), nullable=False),
    Column("amount", String(40), nullable=False),
    Column("value_date", Date, nullable=False),
    Column("debtor_name", String(140)),
    Column("creditor_name", String(140)),
    Column("creditor_iban", String(34)),
    Column("customer_id", String(64)),
    Column("debtor_iban", String(34)),
    Index("ix_ref_payments_currency_date", "currency", "value_date"),
)

# Each table with the record field that identifies a row (the upsert key).
KEYS: dict[str, tuple[Table, str]] = {
    "customers": (customers, "customer_id"),
    "accounts": (accounts, "iban"),
    "ssis": (ssis, "ssi_id"),
    "open_invoices": (open_invoices, "invoice_number"),
    "payments": (payments, "reference"),
}
