"""Agent sessions and sign-in failures; agent ids that SQLite never hands out twice.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"  # PostgreSQL's sequences never go back: nothing to keep there
    if sqlite:
        # The highest agent id a row still shows, removed agents' included (read before the NULLs below).
        highest = op.get_bind().scalar(
            sa.text(
                "SELECT max(coalesce((SELECT max(id) FROM agents), 0), coalesce(max(agent_id), 0)) FROM link_events"
            )
        )
    # Link events of agents removed while SQLite ignored foreign keys still name their ids, which a
    # new agent could be given: they lose the name, as the foreign key's ON DELETE SET NULL says.
    op.execute(
        "UPDATE link_events SET agent_id = NULL WHERE agent_id IS NOT NULL AND agent_id NOT IN (SELECT id FROM agents)"
    )
    if sqlite:
        rebuild_agents_with_autoincrement(int(highest or 0))
    op.create_table(
        "agent_sessions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("agent_id", sa.Integer(), sa.ForeignKey("agents.id", ondelete="CASCADE"), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_agent_sessions_agent_id", "agent_sessions", ["agent_id"])
    op.create_index("ix_agent_sessions_expires_at", "agent_sessions", ["expires_at"])
    op.create_table(
        "sign_in_failures",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("address", sa.String(100), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_sign_in_failures_failed_at", "sign_in_failures", ["failed_at"])
    op.create_index("ix_sign_in_failures_address_failed_at", "sign_in_failures", ["address", "failed_at"])


def rebuild_agents_with_autoincrement(highest: int) -> None:
    """SQLite reuses the highest free rowid unless a table says AUTOINCREMENT, which only a new table can.

    Copying the table drops the old one; with foreign keys enforced that sets every link event's
    agent to NULL, so the link events' agents are kept aside and put back (the ids do not change).
    New agents then get ids above `highest`.
    """
    op.execute(
        "CREATE TEMPORARY TABLE kb_link_event_agents AS SELECT id, agent_id FROM link_events WHERE agent_id IS NOT NULL"
    )
    with op.batch_alter_table("agents", recreate="always", table_kwargs={"sqlite_autoincrement": True}):
        pass
    op.execute(
        "UPDATE link_events SET agent_id = "
        "(SELECT kept.agent_id FROM kb_link_event_agents AS kept WHERE kept.id = link_events.id) "
        "WHERE id IN (SELECT id FROM kb_link_event_agents)"
    )
    op.execute("DROP TABLE kb_link_event_agents")
    # sqlite_sequence holds the last id AUTOINCREMENT gave out; the copy left it at the highest id kept.
    op.execute(
        "INSERT INTO sqlite_sequence (name, seq) SELECT 'agents', 0 "
        "WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'agents')"
    )
    op.execute(
        sa.text("UPDATE sqlite_sequence SET seq = max(seq, :highest) WHERE name = 'agents'").bindparams(highest=highest)
    )


def downgrade() -> None:
    op.drop_index("ix_sign_in_failures_address_failed_at", table_name="sign_in_failures")
    op.drop_index("ix_sign_in_failures_failed_at", table_name="sign_in_failures")
    op.drop_table("sign_in_failures")
    op.drop_index("ix_agent_sessions_expires_at", table_name="agent_sessions")
    op.drop_index("ix_agent_sessions_agent_id", table_name="agent_sessions")
    op.drop_table("agent_sessions")
