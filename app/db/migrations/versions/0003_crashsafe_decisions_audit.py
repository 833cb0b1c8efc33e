"""Crash-safe decisions, keyed audit, per-client idempotency keys.

- ``decisions``: ``state`` (``pending`` until the graph's continuation has applied the decision,
  ``applied`` after; ``first_approval`` for the first of two approvals of analyst-asserted content;
  existing rows are ``applied``), ``proposal_version`` (what the decision was made on),
  ``resume_input`` (exactly what the continuation hands the graph), ``reason_code`` and
  ``correct_action`` (rejects), ``applied_at``.
- ``cases``: the idempotency key is unique per submitting user, not across clients.
- ``audit_events.key_id``: the HMAC key an event's hash was made with; ``NULL`` for the unkeyed
  SHA-256 events written before this revision (verified as such; the first keyed event chains to
  their last hash, so rewriting them breaks a link no one without the key can forge).

Revision ID: 0003_crashsafe
Revises: 0002
Create Date: 2026-12-03 16:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_crashsafe"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
# Intended same shape as every migration's header (alembic's template).

# 0001 created the unique constraint without a name: SQLite's batch mode names it by this
# convention when it copies the table; PostgreSQL named it <table>_<column>_key.
_NAMING = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def _old_unique_name() -> str:
    return (
        "cases_idempotency_key_key"
        if op.get_bind().dialect.name == "postgresql"
        else "uq_cases_idempotency_key"
    )


def upgrade() -> None:
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("state", sa.String(length=20), nullable=False, server_default="applied")
        )
        batch_op.add_column(sa.Column("proposal_version", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("resume_input", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("reason_code", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("correct_action", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_decisions_state", ["state"], unique=False)
    with op.batch_alter_table("cases", schema=None, naming_convention=_NAMING) as batch_op:
        batch_op.drop_constraint(_old_unique_name(), type_="unique")
        batch_op.create_unique_constraint(
            "uq_cases_creator_idempotency_key", ["created_by", "idempotency_key"]
        )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("key_id", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_column("key_id")
    with op.batch_alter_table("cases", schema=None, naming_convention=_NAMING) as batch_op:
        batch_op.drop_constraint("uq_cases_creator_idempotency_key", type_="unique")
        batch_op.create_unique_constraint(_old_unique_name(), ["idempotency_key"])
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.drop_index("ix_decisions_state")
        for column in (
            "applied_at",
            "correct_action",
            "reason_code",
            "resume_input",
            "proposal_version",
            "state",
        ):
            batch_op.drop_column(column)
