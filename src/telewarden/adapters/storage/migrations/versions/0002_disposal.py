"""Disposal: cases, measures, appeals, notices, cards by ID, credit list, cascade; audit chain.

Adds ``prev_hash`` and ``row_hash`` to ``audit_log`` and chains the rows already there, so the
log is tamper-evident from this revision on (``telewarden audit verify``).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from telewarden.core.disposal.audit_chain import GENESIS, entry_hash

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_big_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_ts = sa.DateTime(timezone=True)


def _chain_existing_audit_rows() -> None:
    audit = sa.table(
        "audit_log",
        sa.column("id", _big_id),
        sa.column("at", _ts),
        sa.column("actor", sa.String),
        sa.column("entity", sa.String),
        sa.column("entity_key", sa.String),
        sa.column("action", sa.String),
        sa.column("before", sa.JSON),
        sa.column("after", sa.JSON),
        sa.column("prev_hash", sa.String),
        sa.column("row_hash", sa.String),
    )
    conn = op.get_bind()
    prev = GENESIS
    rows = conn.execute(sa.select(audit).order_by(audit.c.id)).all()
    for r in rows:
        digest = entry_hash(
            prev, r.id, r.at, r.actor, r.entity, r.entity_key, r.action, r.before, r.after
        )
        conn.execute(
            sa.update(audit).where(audit.c.id == r.id).values(prev_hash=prev, row_hash=digest)
        )
        prev = digest


def upgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("prev_hash", sa.String(64), nullable=True))
        batch.add_column(sa.Column("row_hash", sa.String(64), nullable=True))
    _chain_existing_audit_rows()

    op.create_table(
        "dispo_cases",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("msisdn", sa.String(32), nullable=False),
        sa.Column("id_hash", sa.String(64), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("opened_at", _ts, nullable=False),
        sa.Column("updated_at", _ts, nullable=False),
        sa.Column("due_at", _ts, nullable=True),
        sa.Column("state_before_appeal", sa.String(16), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_index("ix_dispo_cases_msisdn", "dispo_cases", ["msisdn"])
    # One live case per card: two processes taking flags on the same card at once cannot both
    # open one; the loser's commit fails and it joins the winner's case on retry.
    live = sa.text("state != 'cleared'")
    op.create_index(
        "uq_dispo_cases_live_msisdn",
        "dispo_cases",
        ["msisdn"],
        unique=True,
        sqlite_where=live,
        postgresql_where=live,
    )
    op.create_index("ix_dispo_cases_state", "dispo_cases", ["state"])
    op.create_index("ix_dispo_cases_due_at", "dispo_cases", ["due_at"])

    op.create_table(
        "dispo_flags",
        sa.Column("id", _big_id, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(160), nullable=False, unique=True),
        sa.Column("case_id", sa.String(40), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("at", _ts, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("evidence", sa.JSON(), nullable=False),
    )
    op.create_index("ix_dispo_flags_case_id", "dispo_flags", ["case_id"])

    op.create_table(
        "dispo_measures",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("case_id", sa.String(40), nullable=False),
        sa.Column("msisdn", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("approval", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(128), nullable=False),
        sa.Column("remedy_channel", sa.Text(), nullable=False),
        sa.Column("documents", sa.JSON(), nullable=False),
        sa.Column("proposed_at", _ts, nullable=False),
        sa.Column("proposed_by", sa.String(64), nullable=False),
        sa.Column("in_force_at", _ts, nullable=True),
        sa.Column("approved_by", sa.String(64), nullable=True),
        sa.Column("deadline", _ts, nullable=True),
        sa.Column("escalate_to", sa.String(16), nullable=True),
        sa.Column("term_s", sa.Float(), nullable=True),
        sa.Column("blocks_while_pending", sa.Boolean(), nullable=False),
        sa.Column("ended_at", _ts, nullable=True),
        sa.Column("ended_by", sa.String(64), nullable=True),
        sa.Column("lift_reason", sa.String(20), nullable=True),
        sa.Column("escalated_from", sa.String(40), nullable=True),
    )
    op.create_index("ix_dispo_measures_case_id", "dispo_measures", ["case_id"])
    op.create_index("ix_dispo_measures_state_msisdn", "dispo_measures", ["state", "msisdn"])

    op.create_table(
        "dispo_appeals",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("case_id", sa.String(40), nullable=False),
        sa.Column("lodged_at", _ts, nullable=False),
        sa.Column("review_due", _ts, nullable=False),
        sa.Column("grounds", sa.Text(), nullable=False),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("decided_at", _ts, nullable=True),
        sa.Column("decided_by", sa.String(64), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("overdue_reported", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_dispo_appeals_case_id", "dispo_appeals", ["case_id"])

    op.create_table(
        "dispo_notices",
        sa.Column("id", _big_id, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.String(40), nullable=False),
        sa.Column("measure_id", sa.String(40), nullable=True),
        sa.Column("msisdn", sa.String(64), nullable=False),
        sa.Column("lang", sa.String(4), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", _ts, nullable=False),
    )
    op.create_index("ix_dispo_notices_case_id", "dispo_notices", ["case_id"])

    op.create_table(
        "dispo_cards",
        sa.Column("msisdn", sa.String(32), primary_key=True),
        sa.Column("id_hash", sa.String(64), nullable=False),
        sa.Column("activated_at", _ts, nullable=True),
    )
    op.create_index("ix_dispo_cards_id_hash", "dispo_cards", ["id_hash"])

    op.create_table(
        "credit_listings",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("id_hash", sa.String(64), nullable=False),
        sa.Column("basis", sa.String(16), nullable=False),
        sa.Column("starts_at", _ts, nullable=False),
        sa.Column("ends_at", _ts, nullable=False),
        sa.Column("term_years", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("lifted_at", _ts, nullable=True),
        sa.Column("lift_reason", sa.Text(), nullable=False),
    )
    op.create_index("ix_credit_listings_id_hash", "credit_listings", ["id_hash"])

    op.create_table(
        "linked_accounts",
        sa.Column("platform", sa.String(32), primary_key=True),
        sa.Column("account", sa.String(128), primary_key=True),
        sa.Column("msisdn", sa.String(32), nullable=False),
    )
    op.create_index("ix_linked_accounts_msisdn", "linked_accounts", ["msisdn"])

    op.create_table(
        "cascade_endpoints",
        sa.Column("platform", sa.String(32), primary_key=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
    )

    op.create_table(
        "cascade_outbox",
        sa.Column("id", _big_id, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(64), nullable=False, unique=True),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("account", sa.String(128), nullable=False),
        sa.Column("msisdn", sa.String(32), nullable=False),
        sa.Column("case_id", sa.String(40), nullable=False),
        sa.Column("measure_id", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", _ts, nullable=False),
        sa.Column("lease_until", _ts, nullable=True),
        sa.Column("created_at", _ts, nullable=False),
        sa.Column("delivered_at", _ts, nullable=True),
        sa.Column("ack", sa.String(64), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
    )
    op.create_index("ix_cascade_outbox_due", "cascade_outbox", ["state", "next_attempt_at"])

    op.create_table(
        "cascade_dead_letters",
        sa.Column("id", _big_id, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(64), nullable=False, unique=True),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("dead_at", _ts, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "cascade_dead_letters",
        "cascade_outbox",
        "cascade_endpoints",
        "linked_accounts",
        "credit_listings",
        "dispo_cards",
        "dispo_notices",
        "dispo_appeals",
        "dispo_measures",
        "dispo_flags",
        "dispo_cases",
    ):
        op.drop_table(table)
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("row_hash")
        batch.drop_column("prev_hash")
