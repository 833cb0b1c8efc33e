"""cases: the desk's queue columns (amount, currency, beneficiary, value date, assignee)

The queue sorts and filters on these for 10,000 cases and more, so they are columns with indexes,
copied from the case's payment when it is known (at submission, or once the message is parsed), not
read out of the JSON payload per row. The cut-off time is not stored: it is configured per
currency (Settings.cutoffs) and applied when the queue is read, so a changed setting applies at once.

Revision ID: 0006_desk
Revises: 0002
Create Date: 2026-12-03 16:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_desk"
down_revision: str | None = "0005_realdocs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
# Intended same shape as every migration's header (alembic's template).

COLUMNS = ("assignee", "amount", "currency", "beneficiary", "value_date")


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("assignee", sa.String(80), nullable=True))
        batch_op.add_column(sa.Column("amount", sa.Numeric(20, 5, asdecimal=False), nullable=True))
        batch_op.add_column(sa.Column("currency", sa.String(3), nullable=True))
        batch_op.add_column(sa.Column("beneficiary", sa.String(140), nullable=True))
        batch_op.add_column(sa.Column("value_date", sa.Date(), nullable=True))
        # A re-triage runs on a fresh agent thread, optionally with another model (app.services.case_actions).
        batch_op.add_column(sa.Column("triage_thread", sa.String(120), nullable=True))
        batch_op.add_column(sa.Column("triage_model", sa.String(200), nullable=True))
        for column in COLUMNS:
            batch_op.create_index(f"ix_cases_{column}", [column])
        # The default queue view: one status, oldest first.
        batch_op.create_index("ix_cases_status_seq", ["status", "seq"])


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_status_seq")
        batch_op.drop_column("triage_model")
        batch_op.drop_column("triage_thread")
        for column in reversed(COLUMNS):
            batch_op.drop_index(f"ix_cases_{column}")
            batch_op.drop_column(column)
