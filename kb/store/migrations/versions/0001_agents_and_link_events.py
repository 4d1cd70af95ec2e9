"""Agents (name, password and token hashes) and link events: the tables kb made before migrations.

Revision ID: 0001
Revises: (none)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Unnamed unique constraints and these index names are what create_all made, so a database from
    # before migrations (stamped 0001 by `kb db upgrade`) and a new one are the same to later revisions.
    op.create_table(
        "agents",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.String(256), nullable=True),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("name"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_table(
        "link_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("agent_id", sa.Integer(), sa.ForeignKey("agents.id", ondelete="SET NULL"), nullable=True),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("slug", sa.String(200), nullable=False),
        sa.Column("section", sa.String(200), nullable=False),
        sa.Column("query", sa.String(2000), nullable=False),
    )
    op.create_index("ix_link_events_created_at", "link_events", ["created_at"])
    op.create_index("ix_link_events_slug", "link_events", ["slug"])


def downgrade() -> None:
    op.drop_index("ix_link_events_slug", table_name="link_events")
    op.drop_index("ix_link_events_created_at", table_name="link_events")
    op.drop_table("link_events")
    op.drop_table("agents")
