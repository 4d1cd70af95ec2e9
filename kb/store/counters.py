"""Daily counters: one row per (day, metric, key), incremented in the caller's transaction.

Counters outlive the raw rows they summarise (`kb db purge` deletes old searches and contact
requests, never counts), so insights over long periods read them. Metric names used by kb:

    searches            key: the source (site, api, instant, suggest, contact)
    unanswered          key: the source; searches with no confident result
    article_views       key: the article's slug
    votes_helpful       key: the slug
    votes_unhelpful     key: the slug
    contact_requests    key: ""
    deflections         key: ""; a contact form left after opening a suggested article
"""

from __future__ import annotations

import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from kb.store.models import DailyCountRow


def bump(session: Session, metric: str, key: str = "", by: int = 1, day: datetime.date | None = None) -> None:
    """Add `by` to the counter; atomic under concurrent writers on SQLite and PostgreSQL alike."""
    day = day or datetime.datetime.now(datetime.UTC).date()
    values = {"day": day, "metric": metric[:32], "key": key[:200], "count": by}
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(DailyCountRow).values(**values)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["day", "metric", "key"], set_={"count": DailyCountRow.count + statement.excluded.count}
        )
    )


def counts(
    session: Session, metric: str, since: datetime.date, until: datetime.date
) -> list[tuple[datetime.date, str, int]]:
    """(day, key, count) of `metric` from `since` to `until`, both included, by day then key."""
    rows = session.execute(
        select(DailyCountRow.day, DailyCountRow.key, DailyCountRow.count)
        .where(DailyCountRow.metric == metric, DailyCountRow.day >= since, DailyCountRow.day <= until)
        .order_by(DailyCountRow.day, DailyCountRow.key)
    )
    return [(day, key, int(count)) for day, key, count in rows]


def top_keys(
    session: Session, metric: str, since: datetime.date, until: datetime.date, limit: int
) -> list[tuple[str, int]]:
    """The `limit` keys of `metric` with the highest totals from `since` to `until`, highest first, ties by key."""
    total = func.sum(DailyCountRow.count).label("total")
    rows = session.execute(
        select(DailyCountRow.key, total)
        .where(DailyCountRow.metric == metric, DailyCountRow.day >= since, DailyCountRow.day <= until)
        .group_by(DailyCountRow.key)
        .order_by(total.desc(), DailyCountRow.key)
        .limit(limit)
    )
    return [(key, int(count)) for key, count in rows]
