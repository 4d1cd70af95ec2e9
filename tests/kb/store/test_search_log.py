"""The search log: redacted before it is stored, written in batches off the caller's thread, clicks matched."""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from kb.errors import DatabaseUnavailableError
from kb.store.counters import counts
from kb.store.database import Storage
from kb.store.models import SearchClickRow, SearchRow
from kb.store.privacy import today
from kb.store.search_log import ArticleView, Click, LoggedSearch, SearchLog, new_token


def logged(token: str, query: str = "reset password", results: int = 2, **fields: object) -> LoggedSearch:
    values: dict[str, object] = {
        "token": token,
        "source": "site",
        "query": query,
        "results": results,
        "confident": None,
        "top_results": ("reset-password#steps", "sign-in-problems")[:results],
        **fields,
    }
    return LoggedSearch(**values)  # type: ignore[arg-type]


def counters(storage: Storage, metric: str) -> list[tuple[str, int]]:
    with storage.session() as session:
        return [(key, count) for _, key, count in counts(session, metric, today(), today())]


def test_searches_are_stored_redacted_with_their_results_and_counted(patient_storage: Storage) -> None:
    log = SearchLog(patient_storage)
    log.record(logged("t1", "my email jane.doe@example.com bounced", visitor="cookie-visitor"))
    log.record(logged("t2", "Nothing Matches 4111 1111 1111 1111", results=0, source="api", address="203.0.113.7"))
    log.record(logged("t3", "order status", confident=False, source="instant"))
    assert log.flush(10)
    with patient_storage.session() as session:
        rows = {row.token: row for row in session.scalars(select(SearchRow))}
    assert rows["t1"].query == "my email [email] bounced"
    assert rows["t1"].normalized == "my email [email] bounced"
    assert json.loads(rows["t1"].top_results) == ["reset-password#steps", "sign-in-problems"]
    assert (rows["t1"].source, rows["t1"].results, rows["t1"].confident, rows["t1"].visitor) == (
        "site",
        2,
        None,
        "cookie-visitor",
    )
    assert (rows["t2"].query, rows["t2"].normalized, rows["t2"].results) == (
        "Nothing Matches [card]",
        "nothing matches [card]",
        0,
    )
    # The address is stored only as the day's hash: 32 hex characters, never the address itself.
    assert rows["t2"].visitor is not None and len(rows["t2"].visitor) == 32 and "203.0.113.7" not in rows["t2"].visitor
    assert rows["t3"].confident is False
    assert counters(patient_storage, "searches") == [("api", 1), ("instant", 1), ("site", 1)]
    assert counters(patient_storage, "unanswered") == [("api", 1), ("instant", 1)]
    log.close()


def test_a_click_is_recorded_against_the_result_shown_at_its_position(patient_storage: Storage) -> None:
    log = SearchLog(patient_storage)
    token = new_token()
    log.record(logged(token))
    log.flush(10)
    log.record(Click(token, "sign-in-problems", 2))
    log.record(Click(token, "sign-in-problems", 2))  # the page reloaded: still one click
    log.record(Click(token, "reset-password", 1))
    log.record(Click(token, "billing", 1))  # not what the search showed there
    log.record(Click(token, "reset-password", 7))  # no such position
    log.record(Click("unknown-token", "reset-password", 1))
    log.record(ArticleView("reset-password"))
    log.record(ArticleView("reset-password"))
    assert log.flush(10)
    with patient_storage.session() as session:
        clicks = [
            (row.search_token, row.slug, row.section, row.position)
            for row in session.scalars(select(SearchClickRow).order_by(SearchClickRow.position))
        ]
    assert clicks == [(token, "reset-password", "steps", 1), (token, "sign-in-problems", "", 2)]
    assert counters(patient_storage, "article_views") == [("reset-password", 2)]
    log.close()


def test_recording_never_blocks_and_a_full_queue_drops_and_counts(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    class StuckStorage(Storage):
        def __init__(self) -> None:
            super().__init__(f"sqlite:///{tmp_path / 'kb.sqlite3'}")
            self.release = threading.Event()

        def session(self, write: bool = False):  # type: ignore[no-untyped-def,override]
            self.release.wait(10)
            return super().session(write)

    storage = StuckStorage()
    log = SearchLog(storage, capacity=5, batch_size=1)
    started = time.perf_counter()
    with caplog.at_level(logging.WARNING, logger="kb.store.search_log"):
        accepted = [log.record(logged(f"t{number}")) for number in range(20)]
    assert time.perf_counter() - started < 0.5
    assert accepted.count(False) >= 14 and log.dropped == accepted.count(False)
    assert sum("dropped" in record.getMessage() for record in caplog.records) == 1  # one warning, not one per entry
    storage.release.set()
    assert log.flush(10)
    log.close()
    with storage.session() as session:
        assert len(list(session.scalars(select(SearchRow)))) == accepted.count(True)


def test_an_outage_is_retried_and_nothing_is_lost_while_the_queue_holds(tmp_path: Path) -> None:
    class FlakyStorage(Storage):
        failures = 2

        def session(self, write: bool = False):  # type: ignore[no-untyped-def,override]
            if write and self.failures:
                self.failures -= 1
                raise DatabaseUnavailableError("the database is down for the test")
            return super().session(write)

    storage = FlakyStorage(f"sqlite:///{tmp_path / 'kb.sqlite3'}")
    log = SearchLog(storage)
    log.record(logged("t1"))
    log.record(logged("t2"))
    assert log.flush(10)
    assert log.dropped == 0
    with storage.session() as session:
        assert sorted(session.scalars(select(SearchRow.token))) == ["t1", "t2"]
    log.close()


def test_close_writes_what_is_queued(tmp_path: Path) -> None:
    storage = Storage(f"sqlite:///{tmp_path / 'kb.sqlite3'}")
    log = SearchLog(storage)
    for number in range(50):
        log.record(logged(f"t{number}"))
    log.close(10)
    with storage.session() as session:
        assert len(list(session.scalars(select(SearchRow.token)))) == 50


def test_close_gives_up_on_a_database_that_stays_down(tmp_path: Path) -> None:
    class DownStorage(Storage):
        def session(self, write: bool = False):  # type: ignore[no-untyped-def,override]
            raise DatabaseUnavailableError("down for the test")

    log = SearchLog(DownStorage(f"sqlite:///{tmp_path / 'kb.sqlite3'}"))
    log.record(logged("t1"))
    started = time.perf_counter()
    log.close(10)
    assert time.perf_counter() - started < 8
    assert log.dropped == 1 and log.queue.unfinished_tasks == 0


def test_a_click_that_reaches_the_database_before_its_search_waits_for_it(patient_storage: Storage) -> None:
    """Two servers: the visitor's click lands on one before the other has written the search."""
    searching, clicking = SearchLog(patient_storage), SearchLog(patient_storage)
    token = new_token()
    clicking.record(Click(token, "reset-password", 1))
    assert clicking.flush(10)
    searching.record(logged(token))
    assert searching.flush(10)
    deadline = time.monotonic() + 15
    opened: list[str] = []
    while not opened and time.monotonic() < deadline:
        time.sleep(0.1)
        with patient_storage.session() as session:
            opened = list(session.scalars(select(SearchClickRow.slug)))
    assert opened == ["reset-password"]
    searching.close()
    clicking.close()
