"""Early warning: warnings sent to exposed subscribers and their outcomes.

Revision ID: 0003_warnings
Revises: 0002
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_warnings"
# TODO(#14): the disposal work adds 0002 in parallel; the merge re-chains this after it.
down_revision = "0002"
branch_labels = None
depends_on = None

_big_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_ts = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "warnings",
        sa.Column("id", _big_id, primary_key=True, autoincrement=True),
        sa.Column("warning_id", sa.String(40), nullable=False),
        sa.Column("msisdn", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(256), nullable=False),
        sa.Column("subject_kind", sa.String(16), nullable=False),
        sa.Column("fraud_type", sa.String(32), nullable=False),
        sa.Column("campaign_key", sa.String(128), nullable=False),
        sa.Column("band", sa.String(16), nullable=False),
        sa.Column("risk", sa.Float(), nullable=False),
        sa.Column("created_at", _ts, nullable=False),
        sa.Column("send_at", _ts, nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.UniqueConstraint("warning_id", name="uq_warnings_warning_id"),
    )
    op.create_index("ix_warnings_msisdn", "warnings", ["msisdn"])
    op.create_index("ix_warnings_created_at", "warnings", ["created_at"])
    op.create_table(
        "warning_outcomes",
        sa.Column("id", _big_id, primary_key=True, autoincrement=True),
        sa.Column("warning_id", sa.String(40), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("at", _ts, nullable=False),
    )
    op.create_index("ix_warning_outcomes_warning_id", "warning_outcomes", ["warning_id"])


def downgrade() -> None:
    op.drop_index("ix_warning_outcomes_warning_id", table_name="warning_outcomes")
    op.drop_table("warning_outcomes")
    op.drop_index("ix_warnings_created_at", table_name="warnings")
    op.drop_index("ix_warnings_msisdn", table_name="warnings")
    op.drop_table("warnings")
