"""The guard around the database: a bulkhead, a circuit breaker and timeouts turn trouble into a fast 503."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError

from kb.errors import DatabaseUnavailableError, StorageError
from kb.store.database import Storage
from kb.store.resilience import CONNECT_TIMEOUT_SECONDS, DatabaseGuard, make_engine
from tests.database_faults import HungDatabase, refusing_url


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def outage() -> OperationalError:
    return OperationalError("connect", {}, ConnectionRefusedError("connection refused"))


def test_after_a_failure_calls_fail_fast_until_the_cooldown_has_passed() -> None:
    clock = Clock()
    guard = DatabaseGuard("test", cooldown_seconds=5, clock=clock)
    refused = "unavailable: ConnectionRefusedError: connection refused"
    with pytest.raises(DatabaseUnavailableError, match=refused), guard.call():
        raise outage()
    ran: list[str] = []
    clock.now += 4.9
    with pytest.raises(DatabaseUnavailableError, match="failed a moment ago"), guard.call():
        ran.append("too soon")
    clock.now += 0.2
    with guard.call():
        ran.append("tried again")
    assert ran == ["tried again"]


def test_mistakes_in_a_request_pass_through_and_leave_the_breaker_closed() -> None:
    guard = DatabaseGuard("test")
    for error in (StorageError("an agent named 'maria' already exists"), IntegrityError("insert", {}, ValueError())):
        with pytest.raises(type(error)), guard.call():
            raise error
    with guard.call():
        pass  # still closed


def test_calls_beyond_the_bulkhead_are_turned_away_without_waiting_on_the_database() -> None:
    guard = DatabaseGuard("test", concurrent_calls=2, permit_wait_seconds=0.1)
    inside, release = threading.Barrier(3), threading.Event()

    def stuck_call() -> None:
        with guard.call():
            inside.wait()
            release.wait(10)

    stuck = [threading.Thread(target=stuck_call) for _ in range(2)]
    for thread in stuck:
        thread.start()
    inside.wait()  # both permits are held by calls the database never answers
    started = time.perf_counter()
    with pytest.raises(DatabaseUnavailableError, match="busy"), guard.call():
        pytest.fail("a third call must not reach the database")
    waited = time.perf_counter() - started
    release.set()
    for thread in stuck:
        thread.join()
    assert 0.1 <= waited < 0.3
    with guard.call():
        pass  # the permits are back


def test_a_hung_server_costs_the_connect_timeout_once_then_nothing(tmp_path: Path) -> None:
    with HungDatabase() as database:
        storage = Storage(database.url)
        started = time.perf_counter()
        with pytest.raises(DatabaseUnavailableError, match="ConnectionTimeout"):
            storage.agents()
        first = time.perf_counter() - started
        started = time.perf_counter()
        with pytest.raises(DatabaseUnavailableError, match="failed a moment ago"):
            storage.agent_for_token("kb_" + "x" * 43)
        second = time.perf_counter() - started
    assert CONNECT_TIMEOUT_SECONDS <= first < CONNECT_TIMEOUT_SECONDS + 1
    assert second < 0.05


def test_a_missing_driver_is_an_outage_with_an_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(
        DatabaseUnavailableError, match=r"driver is not installed .*pip install 'kb-helpcenter\[server\]'"
    ):
        Storage("postgresql+psycopg://kb@127.0.0.1/kb").agents()


def test_a_refused_connection_is_an_outage() -> None:
    with pytest.raises(DatabaseUnavailableError, match="Connection refused"):
        Storage(refusing_url()).add_agent("maria")


def test_postgresql_connections_keep_the_url_options_and_get_a_statement_timeout(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    with engine.connect() as connection:
        timeout = connection.execute(text("show statement_timeout")).scalar_one()
        search_path = connection.execute(text("show search_path")).scalar_one()
    engine.dispose()
    assert timeout == "5s"
    assert search_path == postgres_url.rsplit("%3D", 1)[1]
