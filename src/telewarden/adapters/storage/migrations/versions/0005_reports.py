"""Subscriber reports and their labels (issue #17, the learning loop).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_ts = sa.DateTime(timezone=True)
_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "reports",
        sa.Column("id", _id, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("msisdn", sa.String(32), nullable=True),
        sa.Column("reporter", sa.String(64), nullable=False),
        sa.Column("reported_at", _ts, nullable=False),
        sa.Column("claimed_type", sa.String(64), nullable=False),
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("imported_at", _ts, nullable=False),
    )
    op.create_index("ix_reports_msisdn", "reports", ["msisdn"])
    op.create_index("ix_reports_reported_at", "reports", ["reported_at"])
    op.create_table(
        "report_labels",
        sa.Column("id", _id, primary_key=True, autoincrement=True),
        sa.Column("report_id", _id, sa.ForeignKey("reports.id"), nullable=False),
        sa.Column("label", sa.String(8), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("labelled_at", _ts, nullable=False),
        sa.Column("note", sa.String(256), nullable=False),
    )
    op.create_index("ix_report_labels_report_id", "report_labels", ["report_id"])


def downgrade() -> None:
    op.drop_index("ix_report_labels_report_id", table_name="report_labels")
    op.drop_table("report_labels")
    op.drop_index("ix_reports_reported_at", table_name="reports")
    op.drop_index("ix_reports_msisdn", table_name="reports")
    op.drop_table("reports")
