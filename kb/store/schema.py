"""The database's schema revision: reading it, creating a new database at head, and `kb db upgrade`.

Revisions live in kb/store/migrations/versions (Alembic). A database made before migrations has
the tables of revision 0001 but no `alembic_version`; an upgrade stamps it 0001 first.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, event, inspect, text
from sqlalchemy.engine import make_url

from kb.errors import DatabaseUnavailableError, SchemaOutdatedError
from kb.store.data_folder import prepare_sqlite_file, sqlite_path
from kb.store.resilience import describe_outage, is_outage, make_engine

MIGRATIONS = Path(__file__).parent / "migrations"
FIRST_REVISION = "0001"
KB_TABLES = ("agents", "link_events")  # the tables of revision 0001, which every later revision keeps
SCHEMA_LOCK = 4_242_001  # PostgreSQL advisory lock key: one schema change at a time across servers
SQLITE_LOCK_SECONDS = 30.0  # another process's migration finishes well within this
MIGRATION_LOCK = threading.Lock()


@dataclass(frozen=True)
class SchemaState:
    """Where a database stands against this code's migrations."""

    url: str
    current: str | None  # the database's revision; None without `alembic_version`
    head: str  # the newest revision this code knows
    has_tables: bool  # kb's tables exist, with or without a revision
    known: bool  # `current` is one of this code's revisions (or None)

    @property
    def empty(self) -> bool:
        return self.current is None and not self.has_tables

    @property
    def before_migrations(self) -> bool:
        return self.current is None and self.has_tables

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head

    def describe(self) -> str:
        """One line for `kb db status` and for the error that stops an outdated server."""
        where = f"the agents database {self.url}"
        if self.up_to_date:
            return f"{where} is at revision {self.current}, this kb's newest: up to date"
        if self.empty:
            return f"{where} has no tables yet; `kb db upgrade` creates them at revision {self.head}"
        if self.before_migrations:
            return f"{where} was made before schema migrations; run `kb db upgrade` to bring it to revision {self.head}"
        if not self.known:
            return (
                f"{where} is at revision {self.current}, which this kb does not know (its newest is {self.head}): "
                "it was upgraded by a newer kb; run that version"
            )
        return f"{where} is at revision {self.current}, older than this kb's {self.head}: run `kb db upgrade`"


def display_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "kb/store/migrations/versions holds no revision"
    return head


def read_state(connection: Connection, url: str) -> SchemaState:
    heads = MigrationContext.configure(connection).get_current_heads()
    current = heads[0] if heads else None
    tables = set(inspect(connection).get_table_names())
    script = ScriptDirectory.from_config(alembic_config())
    known = True
    if current is not None:
        try:
            script.get_revision(current)
        except CommandError:
            known = False
    head = script.get_current_head() or FIRST_REVISION
    return SchemaState(display_url(url), current, head, bool(tables & set(KB_TABLES)), known)


@contextlib.contextmanager
def schema_transaction(url: str) -> Iterator[Connection]:
    """A schema transaction (below), one at a time in this process.

    Alembic's `op` and `context` are module-wide proxies: two threads migrating at once (the agents'
    storage and the search log's writer, each making a new database on first use) would run one
    migration against the other's connection.
    """
    with MIGRATION_LOCK, locked_schema_transaction(url) as connection:
        yield connection


@contextlib.contextmanager
def locked_schema_transaction(url: str) -> Iterator[Connection]:
    """A connection in a transaction that holds the schema lock: no other process changes the schema meanwhile.

    Raises:
        DatabaseUnavailableError: the database cannot be reached (or its driver is missing).
    """
    try:
        prepare_sqlite_file(url)
        engine = make_engine(url, statement_timeout=False, pool_size=None)
    except Exception as error:
        if is_outage(error):
            raise unavailable(url, error) from error
        raise
    sqlite = engine.dialect.name == "sqlite"
    if sqlite:
        # pysqlite would run DDL outside any transaction; take the write lock up front instead, so a second
        # process waits here and then finds the schema made (SQLAlchemy's recipe for SQLite transactions).
        @event.listens_for(engine, "connect")
        def own_transactions(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            dbapi_connection.isolation_level = None
            dbapi_connection.execute(f"PRAGMA busy_timeout = {int(SQLITE_LOCK_SECONDS * 1000)}")

        @event.listens_for(engine, "begin")
        def begin_immediate(connection) -> None:  # type: ignore[no-untyped-def]
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    try:
        with engine.begin() as connection:
            if engine.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK})
            yield connection
    except Exception as error:
        if is_outage(error):
            raise unavailable(url, error) from error
        raise
    finally:
        engine.dispose()


def unavailable(url: str, error: BaseException) -> DatabaseUnavailableError:
    return DatabaseUnavailableError(f"the agents database {display_url(url)} is unavailable: {describe_outage(error)}")


def schema_state(url: str) -> SchemaState:
    """Where the database stands, changing nothing (`kb db status`)."""
    path = sqlite_path(url)
    if path is not None and not path.exists():
        return SchemaState(display_url(url), None, head_revision(), has_tables=False, known=True)
    with schema_transaction(url) as connection:
        return read_state(connection, url)


def ensure_schema(url: str) -> SchemaState:
    """Create a new, empty database at head; accept one at head; refuse any other.

    Raises:
        SchemaOutdatedError: the database is older (or newer) than this code: `kb db upgrade` is due.
        DatabaseUnavailableError: the database cannot be reached.
    """
    with schema_transaction(url) as connection:
        state = read_state(connection, url)
        if state.empty:
            command.upgrade(alembic_config(connection), "head")
            return read_state(connection, url)
        if not state.up_to_date:
            raise SchemaOutdatedError(state.describe())
        return state


def upgrade_schema(url: str) -> tuple[SchemaState, SchemaState]:
    """Bring the database to head, stamping one made before migrations as 0001 first; (before, after).

    Raises:
        SchemaOutdatedError: the database is at a revision this code does not know (a newer kb's).
        DatabaseUnavailableError: the database cannot be reached.
    """
    with schema_transaction(url) as connection:
        before = read_state(connection, url)
        if not before.known:
            raise SchemaOutdatedError(before.describe())
        config = alembic_config(connection)
        if before.before_migrations:
            command.stamp(config, FIRST_REVISION)
        command.upgrade(config, "head")
        return before, read_state(connection, url)
