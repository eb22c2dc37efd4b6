"""The model registry: versions, serving history, shadow runs, score summaries (issue #17).

Revision ID: 0006_model_registry
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_model_registry"
down_revision = "0005"
branch_labels = None
depends_on = None

_ts = sa.DateTime(timezone=True)
_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "model_versions",
        sa.Column("id", _id, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("registered_by", sa.String(64), nullable=False),
        sa.Column("registered_at", _ts, nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("metrics", sa.Text(), nullable=False),
        sa.Column("card", sa.Text(), nullable=False),
        sa.Column("note", sa.String(256), nullable=False),
        sa.UniqueConstraint("kind", "version", name="uq_model_versions_kind_version"),
    )
    op.create_table(
        "model_serving",
        sa.Column("id", _id, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("previous", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("at", _ts, nullable=False),
        sa.Column("reason", sa.String(512), nullable=False),
    )
    op.create_index("ix_model_serving_kind", "model_serving", ["kind"])
    op.create_table(
        "model_shadow_runs",
        sa.Column("id", _id, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("candidate", sa.Integer(), nullable=False),
        sa.Column("current", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(256), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("at", _ts, nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("agree", sa.Integer(), nullable=False),
        sa.Column("current_verdicts", sa.Text(), nullable=False),
        sa.Column("candidate_verdicts", sa.Text(), nullable=False),
        sa.Column("disagreements", sa.Text(), nullable=False),
    )
    op.create_index("ix_model_shadow_runs_kind", "model_shadow_runs", ["kind"])
    op.create_table(
        "model_score_summaries",
        sa.Column("id", _id, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("verdicts", sa.Text(), nullable=False),
        sa.Column("histogram", sa.Text(), nullable=False),
    )
    op.create_index("ix_model_score_summaries_kind", "model_score_summaries", ["kind"])


def downgrade() -> None:
    op.drop_index("ix_model_score_summaries_kind", table_name="model_score_summaries")
    op.drop_table("model_score_summaries")
    op.drop_index("ix_model_shadow_runs_kind", table_name="model_shadow_runs")
    op.drop_table("model_shadow_runs")
    op.drop_index("ix_model_serving_kind", table_name="model_serving")
    op.drop_table("model_serving")
    op.drop_table("model_versions")
