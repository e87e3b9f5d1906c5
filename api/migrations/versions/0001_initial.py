"""Initial schema: handoffs, feedback, search log, conversation state.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "handoffs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("reference", sa.String(32), nullable=False, unique=True),
        sa.Column("sender", sa.String(128), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("transcript", sa.JSON(), nullable=False),
        sa.Column("searches", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
    )
    op.create_index("ix_handoffs_sender", "handoffs", ["sender"])
    op.create_index("ix_handoffs_created_at", "handoffs", ["created_at"])

    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("sender", sa.String(128), nullable=False),
        sa.Column("rating", sa.String(8), nullable=False),
        sa.Column("query", sa.Text(), nullable=True),
        sa.Column("result_ids", sa.JSON(), nullable=False),
        sa.Column("language", sa.String(8), nullable=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
    )
    op.create_index("ix_feedback_sender", "feedback", ["sender"])
    op.create_index("ix_feedback_created_at", "feedback", ["created_at"])

    op.create_table(
        "search_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("sender", sa.String(128), nullable=True),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("lang", sa.String(8), nullable=True),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("result_ids", sa.JSON(), nullable=False),
        sa.Column("top_score", sa.Float(), nullable=True),
        sa.Column("clarify", sa.Boolean(), nullable=False),
        sa.Column("index_version", sa.String(64), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
    )
    op.create_index("ix_search_log_sender", "search_log", ["sender"])
    op.create_index("ix_search_log_created_at", "search_log", ["created_at"])

    op.create_table(
        "conversation_state",
        sa.Column("sender", sa.String(128), primary_key=True),
        sa.Column("script", sa.String(8), nullable=False),
        sa.Column("lang", sa.String(8), nullable=True),
        sa.Column("updated_at", _TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("conversation_state")
    op.drop_table("search_log")
    op.drop_table("feedback")
    op.drop_table("handoffs")
