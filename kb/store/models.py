"""The database tables (changes go through migrations): agents, their sessions, sign-in failures, link events;
votes, searches, clicks, contact requests and their outbox, contact events, daily counts and salts."""

from __future__ import annotations

import datetime

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class Base(DeclarativeBase):
    pass


class AgentRow(Base):
    __tablename__ = "agents"
    # AUTOINCREMENT: SQLite would otherwise hand a removed agent's id to the next agent added.
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(256), nullable=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), default=now)
    last_seen_at: Mapped[datetime.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class LinkEventRow(Base):
    __tablename__ = "link_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), default=now, index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"), nullable=True)
    action: Mapped[str] = mapped_column(String(32))
    slug: Mapped[str] = mapped_column(String(200), index=True)
    section: Mapped[str] = mapped_column(String(200), default="")
    query: Mapped[str] = mapped_column(String(2000), default="")


class AgentSessionRow(Base):
    """A signed-in browser: the cookie holds the token, the database only its hash."""

    __tablename__ = "agent_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), default=now)
    last_seen_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), default=now)
    expires_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), index=True)


class SignInFailureRow(Base):
    """One failed sign-in, kept for the limit's window so that every server worker counts the same."""

    __tablename__ = "sign_in_failures"
    __table_args__ = (Index("ix_sign_in_failures_address_failed_at", "address", "failed_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    address: Mapped[str] = mapped_column(String(100))
    failed_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), default=now, index=True)


# The self-service loop (revision 0003). Customers are never named by IP address: `visitor` is a
# random id from a cookie or a daily-salted hash of the address (kb.store.privacy), and queries are
# redacted before they are stored.


class VoteRow(Base):
    """A visitor's "Was this helpful?" answer for one article; changing it updates this row in place."""

    __tablename__ = "votes"
    __table_args__ = (UniqueConstraint("slug", "visitor", name="uq_votes_slug_visitor"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(200), index=True)
    visitor: Mapped[str] = mapped_column(String(64))
    helpful: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(String(32), default="")
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), default=now)
    updated_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), default=now, index=True)


class SearchRow(Base):
    """One search as it was logged: the query redacted, what it found, and where it came from."""

    __tablename__ = "searches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(32), unique=True)  # public id that click-throughs name
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), default=now, index=True)
    source: Mapped[str] = mapped_column(String(16))  # site, api, instant, suggest, contact
    query: Mapped[str] = mapped_column(String(500))  # redacted
    normalized: Mapped[str] = mapped_column(String(500), index=True)  # redacted, folded: what groups repeats
    results: Mapped[int] = mapped_column(Integer)
    confident: Mapped[bool | None] = mapped_column(Boolean, nullable=True)  # None: not known
    top_results: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of "slug#anchor", best first
    visitor: Mapped[str | None] = mapped_column(String(64), nullable=True)


class SearchClickRow(Base):
    """A result a visitor opened from a logged search."""

    __tablename__ = "search_clicks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    search_token: Mapped[str] = mapped_column(String(32), index=True)
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), default=now, index=True)
    slug: Mapped[str] = mapped_column(String(200))
    section: Mapped[str] = mapped_column(String(200), default="")
    position: Mapped[int] = mapped_column(Integer)  # 1 = the first result


class ContactRequestRow(Base):
    """What a customer sent through the contact form; stored before any delivery is tried."""

    __tablename__ = "contact_requests"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)  # shown to the customer
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), default=now, index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    product: Mapped[str] = mapped_column(String(200), default="")
    order_number: Mapped[str] = mapped_column(String(100), default="")
    purchase_date: Mapped[datetime.date | None] = mapped_column(Date, nullable=True)
    warranty: Mapped[str] = mapped_column(String(200), default="")
    subject: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    suggestions: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of the slugs shown while writing
    form: Mapped[str] = mapped_column(String(32), default="")  # the form session (contact_events.form)
    visitor: Mapped[str | None] = mapped_column(String(64), nullable=True)


class OutboxRow(Base):
    """One delivery of a contact request over one channel; retried with backoff until delivered."""

    __tablename__ = "outbox"
    __table_args__ = (UniqueConstraint("request_id", "channel", name="uq_outbox_request_channel"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("contact_requests.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))  # webhook, email
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)  # pending, delivered, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), default=now, index=True)
    claimed_until: Mapped[datetime.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_error: Mapped[str] = mapped_column(String(1000), default="")
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), default=now)
    delivered_at: Mapped[datetime.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ContactEventRow(Base):
    """A step of one visit to the contact form: suggestions shown, a suggestion opened, the request sent."""

    __tablename__ = "contact_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    form: Mapped[str] = mapped_column(String(32), index=True)
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), default=now, index=True)
    kind: Mapped[str] = mapped_column(String(24))  # suggestions_shown, suggestion_opened, sent
    slug: Mapped[str] = mapped_column(String(200), default="")
    visitor: Mapped[str | None] = mapped_column(String(64), nullable=True)


class DailyCountRow(Base):
    """A counter per day (searches per source, article views per slug, ...), kept after raw rows are purged."""

    __tablename__ = "daily_counts"

    day: Mapped[datetime.date] = mapped_column(Date, primary_key=True)
    metric: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True, default="")
    count: Mapped[int] = mapped_column(Integer, default=0)


class DailySaltRow(Base):
    """The secret of one day that visitors' addresses are hashed with; shared by every server, then deleted."""

    __tablename__ = "daily_salts"

    day: Mapped[datetime.date] = mapped_column(Date, primary_key=True)
    salt: Mapped[str] = mapped_column(String(64))
