"""Daily counters add up under concurrent writers; addresses are hashed with a salt that changes daily."""

from __future__ import annotations

import datetime
import threading
from pathlib import Path

import pytest

from kb.store.counters import bump, counts
from kb.store.database import Storage
from kb.store.models import DailySaltRow
from kb.store.privacy import address_hash, daily_salt
from kb.store.resilience import DatabaseGuard

DAY = datetime.date(2026, 11, 24)


@pytest.fixture(params=["sqlite", "postgresql"])
def loop_storage(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    url = (
        f"sqlite:///{tmp_path / 'kb.sqlite3'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    )
    # Writers queue for the database here rather than being turned away, as the loop's queued writes do.
    return Storage(url, DatabaseGuard(url, permit_wait_seconds=10.0))


def test_concurrent_bumps_add_up_exactly(loop_storage: Storage) -> None:
    def bump_ten() -> None:
        for _ in range(10):
            with loop_storage.session(write=True) as session:
                bump(session, "searches", "site", day=DAY)

    threads = [threading.Thread(target=bump_ten) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with loop_storage.session(write=True) as session:
        bump(session, "searches", "api", by=3, day=DAY)
        bump(session, "searches", "site", day=DAY + datetime.timedelta(days=1))
    with loop_storage.session() as session:
        assert counts(session, "searches", DAY, DAY) == [(DAY, "api", 3), (DAY, "site", 40)]
        assert counts(session, "unanswered", DAY, DAY) == []


def test_the_salt_is_made_once_a_day_and_earlier_ones_are_deleted(loop_storage: Storage) -> None:
    with loop_storage.session(write=True) as session:
        first = daily_salt(session, DAY)
    with loop_storage.session(write=True) as session:
        assert daily_salt(session, DAY) == first
        second = daily_salt(session, DAY + datetime.timedelta(days=1))
    assert second != first
    with loop_storage.session() as session:
        assert [row.day for row in session.query(DailySaltRow)] == [DAY + datetime.timedelta(days=1)]


def test_an_address_hash_depends_on_the_salt_and_hides_the_address() -> None:
    one = address_hash("a" * 64, "203.0.113.7")
    assert len(one) == 32 and set(one) <= set("0123456789abcdef")
    assert one == address_hash("a" * 64, "203.0.113.7")
    assert one != address_hash("b" * 64, "203.0.113.7")
    assert one != address_hash("a" * 64, "203.0.113.8")
