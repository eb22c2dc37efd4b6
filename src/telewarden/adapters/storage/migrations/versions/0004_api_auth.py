"""Service accounts: users, API keys, sessions; an index on the decision log's caller.

Revision ID: 0004
Revises: 0003_warnings
Create Date: 2026-12-03

0002 and 0003 are written in parallel branches; whoever merges re-chains ``down_revision``.
The caller index serves the console's page of a number (decisions where it called or was
called; the callee already has one).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003_warnings"
branch_labels = None
depends_on = None

_ts = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "api_users",
        sa.Column("username", sa.String(64), primary_key=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(256), nullable=False),
        sa.Column("created_at", _ts, nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
    )
    op.create_table(
        "api_keys",
        sa.Column("key_id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", _ts, nullable=False),
        sa.Column("revoked_at", _ts, nullable=True),
    )
    op.create_table(
        "api_sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("created_at", _ts, nullable=False),
        sa.Column("expires_at", _ts, nullable=False),
    )
    op.create_index("ix_api_sessions_username", "api_sessions", ["username"])
    op.create_index("ix_decision_log_caller", "decision_log", ["caller"])


def downgrade() -> None:
    op.drop_index("ix_decision_log_caller", table_name="decision_log")
    for table in ("api_sessions", "api_keys", "api_users"):
        op.drop_table(table)
