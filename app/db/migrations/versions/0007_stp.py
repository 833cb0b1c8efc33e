"""straight-through processing: policies, the kill switch, applications, and the queue's STP columns

``stp_policies`` keeps every fitted policy (versioned, never updated: the newest is in force);
``stp_control`` is one row (id 1) with the kill switch, read by every worker before it auto-applies;
``stp_applications`` records what each auto-applied case was applied under (policy version,
threshold, bound) and whether it was sampled for human QA. ``cases.straight_through`` and
``cases.qa_status`` let the queue show and filter STP cases on indexes.

Revision ID: 0007_stp
Revises: 0006_desk
Create Date: 2026-12-03 19:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_stp"
down_revision: str | None = "0006_desk"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stp_policies",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False, unique=True),
        sa.Column("policy", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    control = op.create_table(
        "stp_control",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kill_switch", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("changed_by", sa.String(80), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
    )
    op.bulk_insert(control, [{"id": 1, "kill_switch": False}])
    op.create_table(
        "stp_applications",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "case_id",
            sa.String(80),
            sa.ForeignKey("cases.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        ),
        sa.Column(
            "decision_id", sa.Integer(), sa.ForeignKey("decisions.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("policy_version", sa.Integer(), nullable=False),
        sa.Column("exception_code", sa.String(40), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("confidence", sa.Double(), nullable=False),
        sa.Column("threshold", sa.Double(), nullable=False),
        sa.Column("upper_bound", sa.Double(), nullable=False),
        sa.Column("qa_sampled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("straight_through", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("qa_status", sa.String(20), nullable=True))
        batch_op.create_index("ix_cases_qa_status", ["qa_status"])


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_qa_status")
        batch_op.drop_column("qa_status")
        batch_op.drop_column("straight_through")
    op.drop_table("stp_applications")
    op.drop_table("stp_control")
    op.drop_table("stp_policies")
