"""Retention: raw logs older than the retention period are deleted; the daily counts that summarise them stay.

Deleted: searches and their clicks, contact events, and contact requests whose every delivery has
ended (delivered, or failed for good) with their outbox rows. A request still waiting to be
delivered is never deleted, however old. Sign-in failures older than a day go too (the limit needs a
minute of them; earlier versions of kb stored raw addresses there).
"""

from __future__ import annotations

import datetime

from sqlalchemy import ColumnElement, delete, exists, func, select

from kb.store.database import Storage
from kb.store.models import (
    ContactEventRow,
    ContactRequestRow,
    OutboxRow,
    SearchClickRow,
    SearchRow,
    SignInFailureRow,
)

FINISHED_DELIVERIES = ("delivered", "failed")
CHUNK = 500
SIGN_IN_FAILURES_KEPT = datetime.timedelta(days=1)


def moment_of(moment: datetime.datetime | None) -> datetime.datetime:
    return moment or datetime.datetime.now(datetime.UTC)


def cutoff(retention_days: int, moment: datetime.datetime | None = None) -> datetime.datetime:
    return moment_of(moment) - datetime.timedelta(days=retention_days)


def finished_requests_before(before: datetime.datetime) -> ColumnElement[bool]:
    """Contact requests older than `before` with at least one delivery, none of them still pending."""
    has_delivery = exists().where(OutboxRow.request_id == ContactRequestRow.id)
    unfinished = exists().where(
        OutboxRow.request_id == ContactRequestRow.id, OutboxRow.status.not_in(FINISHED_DELIVERIES)
    )
    return (ContactRequestRow.created_at < before) & has_delivery & ~unfinished


def purge(
    storage: Storage, retention_days: int, dry_run: bool = False, moment: datetime.datetime | None = None
) -> dict[str, int]:
    """Delete (or with `dry_run` only count) raw rows older than `retention_days`; the count per table."""
    before = cutoff(retention_days, moment)
    found: dict[str, int] = {}
    with storage.session(write=not dry_run) as session:
        for name, table, condition in (
            ("searches", SearchRow, SearchRow.created_at < before),
            ("search_clicks", SearchClickRow, SearchClickRow.created_at < before),
            ("contact_events", ContactEventRow, ContactEventRow.created_at < before),
            # Needed for a minute; older kb versions stored raw addresses here.
            (
                "sign_in_failures",
                SignInFailureRow,
                SignInFailureRow.failed_at < moment_of(moment) - SIGN_IN_FAILURES_KEPT,
            ),
        ):
            found[name] = int(session.scalar(select(func.count()).select_from(table).where(condition)) or 0)
            if found[name] and not dry_run:
                session.execute(delete(table).where(condition).execution_options(synchronize_session=False))
        # Chosen once, then deleted by id: deleting the outbox rows first would change which requests qualify.
        requests = list(session.scalars(select(ContactRequestRow.id).where(finished_requests_before(before))))
        found["contact_requests"] = len(requests)
        if not dry_run:
            for start in range(0, len(requests), CHUNK):
                chunk = requests[start : start + CHUNK]
                session.execute(delete(OutboxRow).where(OutboxRow.request_id.in_(chunk)))
                session.execute(delete(ContactRequestRow).where(ContactRequestRow.id.in_(chunk)))
    return found
