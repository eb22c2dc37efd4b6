"""Initial store: opt-ins, list entries, policy versions, audit log, decision log, batch runs.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_big_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_ts = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "optins",
        sa.Column("id", _big_id, primary_key=True, autoincrement=True),
        sa.Column("msisdn", sa.String(32), nullable=False),
        sa.Column("scope", sa.String(8), nullable=False),
        sa.Column("opted_in", sa.Boolean(), nullable=False),
        sa.Column("at", _ts, nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.UniqueConstraint("msisdn", "scope", name="uq_optins_msisdn_scope"),
    )
    op.create_index("ix_optins_msisdn", "optins", ["msisdn"])

    op.create_table(
        "list_entries",
        sa.Column("id", _big_id, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("pattern", sa.String(32), nullable=False),
        sa.Column("match", sa.String(8), nullable=False),
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("reason", sa.String(256), nullable=False),
        sa.Column("added_at", _ts, nullable=False),
        sa.UniqueConstraint("kind", "pattern", name="uq_list_entries_kind_pattern"),
    )

    op.create_table(
        "policy_versions",
        sa.Column("version", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("created_at", _ts, nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
    )

    op.create_table(
        "audit_log",
        sa.Column("id", _big_id, primary_key=True, autoincrement=True),
        sa.Column("at", _ts, nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("entity", sa.String(32), nullable=False),
        sa.Column("entity_key", sa.String(128), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_entity_key", "audit_log", ["entity", "entity_key"])

    op.create_table(
        "decision_log",
        sa.Column("id", _big_id, primary_key=True, autoincrement=True),
        sa.Column("at", _ts, nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("ingress", sa.String(16), nullable=False),
        sa.Column("caller", sa.String(64), nullable=False),
        sa.Column("callee", sa.String(64), nullable=False),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(64), nullable=False),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("sip_status", sa.Integer(), nullable=False),
        sa.Column("origin", sa.String(64), nullable=False),
        sa.Column("decision", sa.JSON(), nullable=False),
    )
    op.create_index("ix_decision_log_at", "decision_log", ["at"])
    op.create_index("ix_decision_log_callee", "decision_log", ["callee"])

    op.create_table(
        "batch_runs",
        sa.Column("id", _big_id, primary_key=True, autoincrement=True),
        sa.Column("started_at", _ts, nullable=False),
        sa.Column("finished_at", _ts, nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("output", sa.Text(), nullable=False),
        sa.Column("rows_read", sa.BigInteger(), nullable=False),
        sa.Column("screened", sa.BigInteger(), nullable=False),
        sa.Column("quarantined", sa.BigInteger(), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
    )
    op.create_index("ix_batch_runs_started_at", "batch_runs", ["started_at"])


def downgrade() -> None:
    for table in (
        "batch_runs",
        "decision_log",
        "audit_log",
        "policy_versions",
        "list_entries",
        "optins",
    ):
        op.drop_table(table)
