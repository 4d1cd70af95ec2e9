"""Agent accounts, API tokens (stored hashed) and link events, in SQLite or PostgreSQL via SQLAlchemy."""

from __future__ import annotations

import datetime
import functools
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import DateTime, ForeignKey, Integer, String, create_engine, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker
from werkzeug.security import check_password_hash, generate_password_hash

from kb.errors import StorageError

TOKEN_PREFIX = "kb_"
AGENT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
LINK_ACTIONS = ("copy_link", "copy_markdown", "copy_snippet", "suggestion_used")


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class Base(DeclarativeBase):
    pass


class AgentRow(Base):
    __tablename__ = "agents"

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


@dataclass(frozen=True)
class Agent:
    id: int
    name: str
    has_password: bool
    created_at: datetime.datetime
    last_seen_at: datetime.datetime | None


def hash_token(token: str) -> str:
    """Tokens are 256 random bits, so one SHA-256 is enough to store them safely (no salt needed)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def default_database_url(index_dir: Path) -> str:
    return f"sqlite:///{(index_dir / 'kb.sqlite3').resolve()}"


class Storage:
    """The database of one help center; tables are created on first use."""

    def __init__(self, url: str) -> None:
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self.engine: Engine = create_engine(url, pool_pre_ping=True)
        Base.metadata.create_all(self.engine)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    def add_agent(self, name: str, password: str | None = None) -> tuple[Agent, str]:
        """Create an agent; returns it with its API token, which is shown once and stored only hashed."""
        if not AGENT_NAME.match(name):
            raise StorageError(f"agent name {name!r} must be 1-64 letters, digits, '.', '_', '@' or '-'")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        row = AgentRow(
            name=name,
            token_hash=hash_token(token),
            password_hash=generate_password_hash(password) if password else None,
        )
        with self.sessions.begin() as session:
            session.add(row)
            try:
                session.flush()
            except IntegrityError:
                raise StorageError(f"an agent named {name!r} already exists") from None
            agent = to_agent(row)
        return agent, token

    def agents(self) -> list[Agent]:
        with self.sessions() as session:
            return [to_agent(row) for row in session.scalars(select(AgentRow).order_by(AgentRow.name))]

    def remove_agent(self, name: str) -> None:
        with self.sessions.begin() as session:
            row = session.scalar(select(AgentRow).where(AgentRow.name == name))
            if row is None:
                raise StorageError(f"no agent named {name!r}")
            session.delete(row)

    def agent_by_id(self, agent_id: int) -> Agent | None:
        with self.sessions() as session:
            row = session.get(AgentRow, agent_id)
            return to_agent(row) if row is not None else None

    def agent_for_token(self, token: str) -> Agent | None:
        """The agent whose API token this is, or None."""
        if not token.startswith(TOKEN_PREFIX):
            return None
        wanted = hash_token(token)
        with self.sessions.begin() as session:
            row = session.scalar(select(AgentRow).where(AgentRow.token_hash == wanted))
            if row is None or not hmac.compare_digest(row.token_hash, wanted):
                return None
            row.last_seen_at = now()
            return to_agent(row)

    def agent_for_password(self, name: str, password: str) -> Agent | None:
        """The agent if the name and password match; the same work is done when the name is unknown."""
        with self.sessions.begin() as session:
            row = session.scalar(select(AgentRow).where(AgentRow.name == name))
            stored = row.password_hash if row is not None and row.password_hash else dummy_password_hash()
            if not check_password_hash(stored, password) or row is None or not row.password_hash:
                return None
            row.last_seen_at = now()
            return to_agent(row)

    def record_link(self, agent_id: int | None, action: str, slug: str, section: str = "", query: str = "") -> None:
        if action not in LINK_ACTIONS:
            raise StorageError(f"action must be one of {', '.join(LINK_ACTIONS)}, got {action!r}")
        with self.sessions.begin() as session:
            session.add(
                LinkEventRow(
                    agent_id=agent_id, action=action, slug=slug[:200], section=section[:200], query=query[:2000]
                )
            )

    def most_linked(self, limit: int = 10) -> list[tuple[str, int]]:
        """(slug, number of link events) for the most linked articles."""
        with self.sessions() as session:
            rows = session.execute(
                select(LinkEventRow.slug, func.count().label("uses"))
                .group_by(LinkEventRow.slug)
                .order_by(func.count().desc(), LinkEventRow.slug)
                .limit(limit)
            )
            return [(slug, int(uses)) for slug, uses in rows]

    def link_events(self) -> list[LinkEventRow]:
        with self.sessions() as session:
            return list(session.scalars(select(LinkEventRow).order_by(LinkEventRow.id)))


@functools.cache
def dummy_password_hash() -> str:
    return generate_password_hash(secrets.token_hex(16))


def to_agent(row: AgentRow) -> Agent:
    return Agent(row.id, row.name, bool(row.password_hash), row.created_at, row.last_seen_at)
