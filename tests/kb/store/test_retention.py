"""Retention: old raw rows go, undelivered contact requests and the daily counts stay."""

from __future__ import annotations

import datetime

from sqlalchemy import func, select

from kb.store.counters import bump, counts
from kb.store.database import Storage
from kb.store.models import (
    ContactEventRow,
    ContactRequestRow,
    OutboxRow,
    SearchClickRow,
    SearchRow,
    SignInFailureRow,
    VoteRow,
)
from kb.store.retention import purge

NOW = datetime.datetime(2026, 11, 24, 12, tzinfo=datetime.UTC)
OLD = NOW - datetime.timedelta(days=91)
RECENT = NOW - datetime.timedelta(days=89)


def fill(storage: Storage) -> None:
    with storage.session(write=True) as session:
        for token, at in (("old", OLD), ("recent", RECENT)):
            session.add(SearchRow(token=token, created_at=at, source="site", query="q", normalized="q", results=1))
            session.add(SearchClickRow(search_token=token, created_at=at, slug="billing", position=1))
            session.add(ContactEventRow(form=token, created_at=at, kind="sent"))
        requests = {
            "old-delivered": (OLD, ("delivered", "failed")),
            "old-pending": (OLD, ("delivered", "pending")),
            "old-no-delivery": (OLD, ()),
            "recent-delivered": (RECENT, ("delivered",)),
        }
        for reference, (at, statuses) in requests.items():
            request = ContactRequestRow(
                reference=reference, created_at=at, name="Jane", email="j@example.com", subject="Help", description="."
            )
            session.add(request)
            session.flush()
            for channel, status in zip(("webhook", "email"), statuses, strict=False):
                session.add(OutboxRow(request_id=request.id, channel=channel, status=status))
        session.add(VoteRow(slug="billing", visitor="v", helpful=True, created_at=OLD, updated_at=OLD))
        bump(session, "searches", "site", 2, OLD.date())
        session.add(SignInFailureRow(address="203.0.113.7", failed_at=NOW - datetime.timedelta(days=2)))
        session.add(SignInFailureRow(address="a" * 32, failed_at=NOW - datetime.timedelta(seconds=30)))


def table_counts(storage: Storage) -> dict[str, int]:
    with storage.session() as session:
        return {
            table.__tablename__: int(session.scalar(select(func.count()).select_from(table)) or 0)
            for table in (SearchRow, SearchClickRow, ContactEventRow, ContactRequestRow, OutboxRow, VoteRow)
        }


def test_a_dry_run_counts_and_deletes_nothing(patient_storage: Storage) -> None:
    fill(patient_storage)
    before = table_counts(patient_storage)
    found = purge(patient_storage, 90, dry_run=True, moment=NOW)
    assert found == {
        "searches": 1,
        "search_clicks": 1,
        "contact_events": 1,
        "contact_requests": 1,
        "sign_in_failures": 1,
    }
    assert table_counts(patient_storage) == before


def test_purge_deletes_old_raw_rows_but_never_an_undelivered_request(patient_storage: Storage) -> None:
    fill(patient_storage)
    assert purge(patient_storage, 90, moment=NOW) == {
        "searches": 1,
        "search_clicks": 1,
        "contact_events": 1,
        "contact_requests": 1,
        "sign_in_failures": 1,
    }
    with patient_storage.session() as session:
        assert list(session.scalars(select(SearchRow.token))) == ["recent"]
        assert list(session.scalars(select(ContactEventRow.form))) == ["recent"]
        references = sorted(session.scalars(select(ContactRequestRow.reference)))
        assert references == ["old-no-delivery", "old-pending", "recent-delivered"]
        assert int(session.scalar(select(func.count()).select_from(OutboxRow)) or 0) == 3
        assert counts(session, "searches", OLD.date(), OLD.date()) == [(OLD.date(), "site", 2)]
    assert table_counts(patient_storage)["votes"] == 1
    assert purge(patient_storage, 90, moment=NOW)["searches"] == 0
