"""layout_rules: document layouts learned from one analyst correction

Revision ID: 0005_realdocs
Revises: 0002
Create Date: 2026-12-03 16:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_realdocs"
down_revision: str | None = "0004_hostile"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Intended same-shape blocks (here, in other migrations and in app.db.models): a migration spells out
# its tables' columns itself and never imports the models, which change after it is written.
def upgrade() -> None:
    op.create_table(
        "layout_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.String(length=64), nullable=False),
        sa.Column("field", sa.String(length=80), nullable=False),
        sa.Column("issuer", sa.String(length=255), nullable=True),
        sa.Column("rule", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_by", sa.String(length=80), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_layout_rules_document_id"), "layout_rules", ["document_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_layout_rules_document_id"), table_name="layout_rules")
    op.drop_table("layout_rules")
