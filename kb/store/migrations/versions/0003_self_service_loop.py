"""The self-service loop: votes, the search log and its clicks, contact requests, their outbox and events,
daily counts and the daily salts that visitors' addresses are hashed with.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def moment(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "votes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("slug", sa.String(200), nullable=False),
        sa.Column("visitor", sa.String(64), nullable=False),
        sa.Column("helpful", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        moment("created_at"),
        moment("updated_at"),
        sa.UniqueConstraint("slug", "visitor", name="uq_votes_slug_visitor"),
    )
    op.create_index("ix_votes_slug", "votes", ["slug"])
    op.create_index("ix_votes_updated_at", "votes", ["updated_at"])
    op.create_table(
        "searches",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token", sa.String(32), nullable=False),
        moment("created_at"),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("query", sa.String(500), nullable=False),
        sa.Column("normalized", sa.String(500), nullable=False),
        sa.Column("results", sa.Integer(), nullable=False),
        sa.Column("confident", sa.Boolean(), nullable=True),
        sa.Column("top_results", sa.Text(), nullable=False),
        sa.Column("visitor", sa.String(64), nullable=True),
        sa.UniqueConstraint("token"),
    )
    op.create_index("ix_searches_created_at", "searches", ["created_at"])
    op.create_index("ix_searches_normalized", "searches", ["normalized"])
    op.create_table(
        "search_clicks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("search_token", sa.String(32), nullable=False),
        moment("created_at"),
        sa.Column("slug", sa.String(200), nullable=False),
        sa.Column("section", sa.String(200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
    )
    op.create_index("ix_search_clicks_search_token", "search_clicks", ["search_token"])
    op.create_index("ix_search_clicks_created_at", "search_clicks", ["created_at"])
    op.create_table(
        "contact_requests",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("reference", sa.String(32), nullable=False),
        moment("created_at"),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("product", sa.String(200), nullable=False),
        sa.Column("order_number", sa.String(100), nullable=False),
        sa.Column("purchase_date", sa.Date(), nullable=True),
        sa.Column("warranty", sa.String(200), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("suggestions", sa.Text(), nullable=False),
        sa.Column("form", sa.String(32), nullable=False),
        sa.Column("visitor", sa.String(64), nullable=True),
        sa.UniqueConstraint("reference"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_contact_requests_created_at", "contact_requests", ["created_at"])
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("request_id", sa.Integer(), sa.ForeignKey("contact_requests.id", ondelete="CASCADE"), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        moment("next_attempt_at"),
        moment("claimed_until", nullable=True),
        sa.Column("last_error", sa.String(1000), nullable=False),
        moment("created_at"),
        moment("delivered_at", nullable=True),
        sa.UniqueConstraint("request_id", "channel", name="uq_outbox_request_channel"),
    )
    op.create_index("ix_outbox_request_id", "outbox", ["request_id"])
    op.create_index("ix_outbox_status", "outbox", ["status"])
    op.create_index("ix_outbox_next_attempt_at", "outbox", ["next_attempt_at"])
    op.create_table(
        "contact_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("form", sa.String(32), nullable=False),
        moment("created_at"),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("slug", sa.String(200), nullable=False),
        sa.Column("visitor", sa.String(64), nullable=True),
    )
    op.create_index("ix_contact_events_form", "contact_events", ["form"])
    op.create_index("ix_contact_events_created_at", "contact_events", ["created_at"])
    op.create_table(
        "daily_counts",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("metric", sa.String(32), primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("count", sa.Integer(), nullable=False),
    )
    op.create_table(
        "daily_salts",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("salt", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("daily_salts")
    op.drop_table("daily_counts")
    for index, table in (
        ("ix_contact_events_created_at", "contact_events"),
        ("ix_contact_events_form", "contact_events"),
    ):
        op.drop_index(index, table_name=table)
    op.drop_table("contact_events")
    for index in ("ix_outbox_next_attempt_at", "ix_outbox_status", "ix_outbox_request_id"):
        op.drop_index(index, table_name="outbox")
    op.drop_table("outbox")
    op.drop_index("ix_contact_requests_created_at", table_name="contact_requests")
    op.drop_table("contact_requests")
    op.drop_index("ix_search_clicks_created_at", table_name="search_clicks")
    op.drop_index("ix_search_clicks_search_token", table_name="search_clicks")
    op.drop_table("search_clicks")
    op.drop_index("ix_searches_normalized", table_name="searches")
    op.drop_index("ix_searches_created_at", table_name="searches")
    op.drop_table("searches")
    op.drop_index("ix_votes_updated_at", table_name="votes")
    op.drop_index("ix_votes_slug", table_name="votes")
    op.drop_table("votes")
