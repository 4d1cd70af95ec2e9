"""Timeouts, a bounded pool, a bulkhead and a circuit breaker: a failing database fails fast and holds no thread.

Only agent features use the database. A database that is down, hung or slow must turn into an
immediate DatabaseUnavailableError (503) for those features, never into threads stuck waiting while
customers' searches queue behind them.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, NoSuchModuleError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.pool import NullPool

from kb.errors import DatabaseUnavailableError

logger = logging.getLogger("kb.store")

CONNECT_TIMEOUT_SECONDS = 2  # libpq's smallest; a server that accepts and never answers costs this much
STATEMENT_TIMEOUT_MILLISECONDS = 5000  # every agent query takes milliseconds; a locked table must not hang
SQLITE_BUSY_SECONDS = 3.0  # how long SQLite waits for another process's write lock
POOL_TIMEOUT_SECONDS = 1.0
# Half of `kb serve`'s default 4 threads per worker (web/auth.py takes half of KB_THREADS): however stuck
# the database is, the other half are free for public pages.
CONCURRENT_CALLS = 2
PERMIT_WAIT_SECONDS = 0.1  # a healthy call takes milliseconds: a short wait spares a burst of agents a 503
COOLDOWN_SECONDS = 5.0  # after a failure, calls fail fast this long before the database is tried again


def make_engine(url: str, statement_timeout: bool = True, pool_size: int | None = CONCURRENT_CALLS) -> Engine:
    """An engine whose connections and statements time out, with a small pool that is never exceeded.

    `pool_size=None` keeps no connection: each is closed when returned (for one-off work like migrations).

    Raises:
        ImportError, NoSuchModuleError: the URL's database driver is not installed or not known.
    """
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    connect_args: dict[str, Any] = {}
    if backend == "sqlite":
        connect_args["timeout"] = SQLITE_BUSY_SECONDS
    elif backend == "postgresql":
        connect_args["connect_timeout"] = CONNECT_TIMEOUT_SECONDS
        if statement_timeout:
            # connect_args replace the URL's own `options` (a search_path, say), so both are kept here.
            given = parsed.query.get("options", "")
            given = " ".join(given) if isinstance(given, tuple) else given
            connect_args["options"] = f"{given} -c statement_timeout={STATEMENT_TIMEOUT_MILLISECONDS}".strip()
    pool: dict[str, Any] = {}
    if pool_size is None:
        pool = {"poolclass": NullPool}
    elif not (backend == "sqlite" and parsed.database in (None, "", ":memory:")):  # in-memory: one connection
        pool = {"pool_size": pool_size, "max_overflow": 0, "pool_timeout": POOL_TIMEOUT_SECONDS}
    engine = create_engine(parsed, pool_pre_ping=True, connect_args=connect_args, **pool)
    if backend == "sqlite":
        event.listen(engine, "connect", enforce_foreign_keys)
    return engine


def enforce_foreign_keys(dbapi_connection: Any, _record: Any) -> None:
    """SQLite ignores foreign keys unless asked on every connection; removals cascade only with them."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def is_outage(error: BaseException) -> bool:
    """Whether `error` says the database cannot be used now (rather than that a request or the code is wrong)."""
    if isinstance(error, DBAPIError):
        return isinstance(error, OperationalError | InterfaceError) or error.connection_invalidated
    return isinstance(error, PoolTimeoutError | DisconnectionError | NoSuchModuleError | ImportError | OSError)


def describe_outage(error: BaseException) -> str:
    """One line about what went wrong, for the log and the command line (never for the public)."""
    if isinstance(error, ImportError | NoSuchModuleError):
        return f"its driver is not installed ({error}); install it with pip install 'kb-helpcenter[server]'"
    if isinstance(error, DBAPIError):
        error = error.orig if isinstance(error.orig, BaseException) else error
    first_line = (str(error).strip().splitlines() or [""])[0]
    return f"{type(error).__name__}: {first_line}" if first_line else type(error).__name__


class DatabaseGuard:
    """A bulkhead (few calls inside the database at once; the rest wait a moment, then are turned away) and a breaker.

    After a call fails for want of the database, every call fails at once for `cooldown_seconds`;
    then calls are let through again, and the next failure opens the breaker anew.
    """

    def __init__(
        self,
        name: str,
        concurrent_calls: int = CONCURRENT_CALLS,
        cooldown_seconds: float = COOLDOWN_SECONDS,
        permit_wait_seconds: float = PERMIT_WAIT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.concurrent_calls = concurrent_calls
        self.permit_wait_seconds = permit_wait_seconds
        self.cooldown_seconds = cooldown_seconds
        self.clock = clock
        self.permits = threading.BoundedSemaphore(concurrent_calls)
        self.open_until = 0.0
        self.last_warning = float("-inf")

    @contextlib.contextmanager
    def call(self) -> Iterator[None]:
        """Run the body against the database, or raise DatabaseUnavailableError without waiting."""
        if self.clock() < self.open_until:
            raise DatabaseUnavailableError(f"the database {self.name} failed a moment ago; not retried yet")
        if not self.permits.acquire(timeout=self.permit_wait_seconds):
            self.warn(f"the database {self.name} is busy: every permitted connection is waiting on it")
            raise DatabaseUnavailableError(f"the database {self.name} is busy: too many calls are waiting on it")
        try:
            yield
        except DatabaseUnavailableError as error:  # from a step that checks the database itself
            self.trip(str(error))
            raise
        except Exception as error:
            if not is_outage(error):
                raise
            reason = describe_outage(error)
            self.trip(reason)
            raise DatabaseUnavailableError(f"the database {self.name} is unavailable: {reason}") from error
        finally:
            self.permits.release()

    def trip(self, reason: str) -> None:
        """Open the breaker: calls fail at once until the cooldown has passed."""
        self.open_until = self.clock() + self.cooldown_seconds
        self.warn(f"agent features answer 503 for {self.cooldown_seconds:g} s: {reason}")

    def warn(self, message: str) -> None:
        """Log at most once per cooldown, so an outage does not flood the log with one line per request."""
        if self.clock() - self.last_warning >= self.cooldown_seconds:
            self.last_warning = self.clock()
            logger.warning(message)
