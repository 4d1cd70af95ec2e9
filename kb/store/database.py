"""Agent accounts, API tokens and sessions (stored hashed), sign-in failures and link events, via SQLAlchemy."""

from __future__ import annotations

import contextlib
import datetime
import functools
import hashlib
import hmac
import re
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.security import check_password_hash, generate_password_hash

from kb.errors import StorageError
from kb.store.data_folder import prepare_sqlite_file
from kb.store.models import AgentRow, AgentSessionRow, LinkEventRow, SignInFailureRow, now
from kb.store.resilience import DatabaseGuard, make_engine
from kb.store.schema import display_url, ensure_schema

__all__ = ["LINK_ACTIONS", "Agent", "Storage", "StorageError", "hash_token"]

TOKEN_PREFIX = "kb_"
AGENT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
LINK_ACTIONS = ("copy_link", "copy_markdown", "copy_snippet", "suggestion_used")
LAST_SEEN_PRECISION = datetime.timedelta(minutes=1)


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


class Storage:
    """The database of one help center.

    Nothing connects until the first call, so a server starts (and serves the public site) whatever
    state the database is in. The first call creates a new, empty database at the newest schema
    revision and refuses an outdated one (SchemaOutdatedError). Every call goes through a
    DatabaseGuard: when the database is down, hung or busy it raises DatabaseUnavailableError at once.
    """

    def __init__(self, url: str, guard: DatabaseGuard | None = None) -> None:
        self.url = url
        self.guard = guard or DatabaseGuard(display_url(url))
        self.sessions = sessionmaker(expire_on_commit=False)
        self._engine: Engine | None = None
        self._schema_ready = False
        self._lock = threading.Lock()

    @property
    def engine(self) -> Engine:
        """The engine, made on first use (ImportError when the URL's driver is not installed)."""
        with self._lock:
            if self._engine is None:
                prepare_sqlite_file(self.url)
                self._engine = make_engine(self.url, pool_size=self.guard.concurrent_calls)
                self.sessions.configure(bind=self._engine)
            return self._engine

    @contextlib.contextmanager
    def session(self, write: bool = False) -> Iterator[Session]:
        """A session (a committed transaction when `write`), guarded against an unavailable database."""
        with self.guard.call():
            self.engine  # noqa: B018  # made here, inside the guard, so a missing driver is an outage too
            if not self._schema_ready:
                ensure_schema(self.url)
                self._schema_ready = True
            with self.sessions.begin() if write else self.sessions() as session:
                yield session

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
        with self.session(write=True) as session:
            session.add(row)
            try:
                session.flush()
            except IntegrityError:
                raise StorageError(f"an agent named {name!r} already exists") from None
            agent = to_agent(row)
        return agent, token

    def agents(self) -> list[Agent]:
        with self.session() as session:
            return [to_agent(row) for row in session.scalars(select(AgentRow).order_by(AgentRow.name))]

    def remove_agent(self, name: str) -> None:
        with self.session(write=True) as session:
            row = session.scalar(select(AgentRow).where(AgentRow.name == name))
            if row is None:
                raise StorageError(f"no agent named {name!r}")
            # The foreign key's cascade does this too; saying it here keeps removal complete on any database.
            session.execute(delete(AgentSessionRow).where(AgentSessionRow.agent_id == row.id))
            session.delete(row)

    def agent_by_id(self, agent_id: int) -> Agent | None:
        with self.session() as session:
            row = session.get(AgentRow, agent_id)
            return to_agent(row) if row is not None else None

    def agent_for_token(self, token: str) -> Agent | None:
        """The agent whose API token this is, or None."""
        if not token.startswith(TOKEN_PREFIX):
            return None
        wanted = hash_token(token)
        with self.session(write=True) as session:
            row = session.scalar(select(AgentRow).where(AgentRow.token_hash == wanted))
            if row is None or not hmac.compare_digest(row.token_hash, wanted):
                return None
            row.last_seen_at = now()
            return to_agent(row)

    def agent_for_password(self, name: str, password: str) -> Agent | None:
        """The agent if the name and password match; the same work is done when the name is unknown."""
        with self.session() as session:
            row = session.scalar(select(AgentRow).where(AgentRow.name == name))
            agent_id, stored = (row.id, row.password_hash) if row is not None else (None, None)
        # The slow hash runs outside the database call, so it holds none of the few connections.
        if not check_password_hash(stored or dummy_password_hash(), password) or agent_id is None or not stored:
            return None
        with self.session(write=True) as session:
            row = session.get(AgentRow, agent_id)
            if row is None or row.password_hash != stored:
                return None  # removed, or the password changed, meanwhile
            row.last_seen_at = now()
            return to_agent(row)

    def start_session(self, agent_id: int, lifetime: datetime.timedelta) -> str:
        """Sign agent `agent_id` in for `lifetime`; returns the session token, which is stored only hashed."""
        token = secrets.token_urlsafe(32)
        moment = now()
        with self.session(write=True) as session:
            if session.get(AgentRow, agent_id) is None:
                raise StorageError(f"no agent with id {agent_id}")
            session.execute(delete(AgentSessionRow).where(AgentSessionRow.expires_at <= moment))
            session.add(
                AgentSessionRow(
                    agent_id=agent_id,
                    token_hash=hash_token(token),
                    created_at=moment,
                    last_seen_at=moment,
                    expires_at=moment + lifetime,
                )
            )
        return token

    def agent_for_session(self, token: str) -> Agent | None:
        """The agent signed in with this session token, or None; an expired session is deleted."""
        wanted = hash_token(token)
        moment = now()
        with self.session(write=True) as session:
            # Times are compared by the database: SQLite hands them back without their time zone.
            found = session.execute(
                select(
                    AgentSessionRow,
                    AgentRow,
                    (AgentSessionRow.expires_at > moment).label("live"),
                    (AgentSessionRow.last_seen_at < moment - LAST_SEEN_PRECISION).label("stale"),
                )
                .join(AgentRow, AgentRow.id == AgentSessionRow.agent_id)
                .where(AgentSessionRow.token_hash == wanted)
            ).one_or_none()
            if found is None or not hmac.compare_digest(found.AgentSessionRow.token_hash, wanted):
                return None
            if not found.live:
                session.delete(found.AgentSessionRow)
                return None
            if found.stale:  # one write a minute at most, not one per page
                found.AgentSessionRow.last_seen_at = found.AgentRow.last_seen_at = moment
            return to_agent(found.AgentRow)

    def end_session(self, token: str) -> None:
        """Sign out: the session token stops working everywhere, whoever holds a copy of the cookie."""
        with self.session(write=True) as session:
            session.execute(delete(AgentSessionRow).where(AgentSessionRow.token_hash == hash_token(token)))

    def sign_in_failures(self, address: str, window: datetime.timedelta) -> int:
        """Failed sign-ins from `address` within the last `window`."""
        with self.session() as session:
            count = session.scalar(
                select(func.count())
                .select_from(SignInFailureRow)
                .where(SignInFailureRow.address == address[:100], SignInFailureRow.failed_at > now() - window)
            )
            return int(count or 0)

    def record_sign_in_failure(self, address: str, window: datetime.timedelta) -> None:
        """Count a failed sign-in from `address`; failures older than `window` are no longer needed."""
        moment = now()
        with self.session(write=True) as session:
            session.execute(delete(SignInFailureRow).where(SignInFailureRow.failed_at <= moment - window))
            session.add(SignInFailureRow(address=address[:100], failed_at=moment))

    def record_link(self, agent_id: int | None, action: str, slug: str, section: str = "", query: str = "") -> None:
        if action not in LINK_ACTIONS:
            raise StorageError(f"action must be one of {', '.join(LINK_ACTIONS)}, got {action!r}")
        with self.session(write=True) as session:
            session.add(
                LinkEventRow(
                    agent_id=agent_id, action=action, slug=slug[:200], section=section[:200], query=query[:2000]
                )
            )

    def most_linked(self, limit: int = 10) -> list[tuple[str, int]]:
        """(slug, number of link events) for the most linked articles."""
        with self.session() as session:
            rows = session.execute(
                select(LinkEventRow.slug, func.count().label("uses"))
                .group_by(LinkEventRow.slug)
                .order_by(func.count().desc(), LinkEventRow.slug)
                .limit(limit)
            )
            return [(slug, int(uses)) for slug, uses in rows]

    def link_events(self) -> list[LinkEventRow]:
        with self.session() as session:
            return list(session.scalars(select(LinkEventRow).order_by(LinkEventRow.id)))


@functools.cache
def dummy_password_hash() -> str:
    return generate_password_hash(secrets.token_hex(16))


def to_agent(row: AgentRow) -> Agent:
    return Agent(row.id, row.name, bool(row.password_hash), row.created_at, row.last_seen_at)
