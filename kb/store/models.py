"""The database tables: agents, their sessions, sign-in failures, link events (changes go through migrations)."""

from __future__ import annotations

import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String
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
