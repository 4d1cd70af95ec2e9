"""Insights for writers and support leads: read-only queries over the self-service loop's tables for a period.

Raw rows (searches, clicks, votes, link events) answer what was asked and opened within the retention
period; the daily counters answer the totals and trends, which outlive `kb db purge`.

A search is *unanswered* when it found nothing or no result was confident (`confident` false).
Searches whose confidence is not known (`confident` NULL, logged before kb judged confidence) are
never counted as unanswered: the overview counts them apart, as `unknown_confidence`.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, case, exists, false, func, or_, select
from sqlalchemy.orm import Session

from kb.errors import PeriodError
from kb.store.counters import counts
from kb.store.models import LinkEventRow, SearchClickRow, SearchRow, VoteRow

DEFAULT_DAYS = 30
MAX_DAYS = 3 * 366  # a longer range is a typing mistake more often than a wish
EXAMPLES = 3  # phrasings kept per query
GROUPINGS = ("day", "week")
TREND_METRICS = ("searches", "unanswered", "article_views", "contact_requests", "deflections")
LINK_ACTION_COLUMNS = ("copy_link", "copy_markdown", "copy_snippet", "suggestion_used")


@dataclass(frozen=True)
class Period:
    """The days from `since` to `until`, both included, in UTC."""

    since: datetime.date
    until: datetime.date

    @classmethod
    def parse(cls, since: str | None, until: str | None, today: datetime.date | None = None) -> Period:
        """The period between two YYYY-MM-DD dates; by default the last DEFAULT_DAYS days up to today.

        Raises:
            PeriodError: a date is not YYYY-MM-DD, `until` is before `since`, or the range is too long.
        """
        today = today or datetime.datetime.now(datetime.UTC).date()
        end = parse_day("until", until) if until else today
        start = parse_day("since", since) if since else end - datetime.timedelta(days=DEFAULT_DAYS - 1)
        if end < start:
            raise PeriodError(f"until ({end}) is before since ({start}): the range must run forwards")
        if (end - start).days + 1 > MAX_DAYS:
            raise PeriodError(f"the range {start} to {end} is longer than {MAX_DAYS} days: choose a shorter one")
        return cls(start, end)

    @property
    def start(self) -> datetime.datetime:
        return datetime.datetime.combine(self.since, datetime.time(), datetime.UTC)

    @property
    def end(self) -> datetime.datetime:
        """The first moment after the period."""
        return datetime.datetime.combine(self.until + datetime.timedelta(days=1), datetime.time(), datetime.UTC)


def parse_day(name: str, text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text.strip())
    except ValueError:
        raise PeriodError(f"{name}: {text[:40]!r} is not a date; write it as YYYY-MM-DD, e.g. 2026-11-24") from None


@dataclass(frozen=True)
class QueryCount:
    """Searches that share one normalized query, with the phrasings customers typed (most frequent first)."""

    normalized: str
    searches: int
    examples: list[str]


@dataclass(frozen=True)
class ArticleHelpfulness:
    slug: str
    helpful: int
    unhelpful: int

    @property
    def helpful_share(self) -> float:
        return self.helpful / (self.helpful + self.unhelpful) if self.helpful + self.unhelpful else 0.0


@dataclass(frozen=True)
class VoteComment:
    day: datetime.date
    slug: str
    helpful: bool
    reason: str
    comment: str


@dataclass(frozen=True)
class Trend:
    """The counters of one day or week (`start` is the Monday of a week) and the ratios drawn from them."""

    start: datetime.date
    searches: int
    unanswered: int
    article_views: int
    contact_requests: int
    deflections: int

    @property
    def deflection_rate(self) -> float | None:
        """Of the visits to the contact form that ended, the share that ended in an article, not a request."""
        ended = self.deflections + self.contact_requests
        return self.deflections / ended if ended else None

    @property
    def self_service_score(self) -> float | None:
        """Searches and article views per contact request (None while nobody wrote in)."""
        return (self.searches + self.article_views) / self.contact_requests if self.contact_requests else None


@dataclass(frozen=True)
class LinkedArticle:
    slug: str
    uses: int
    by_action: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Report:
    period: Period
    grouping: str
    totals: Trend
    unknown_confidence: int
    top_queries: list[QueryCount]
    unanswered: list[QueryCount]
    unopened: list[QueryCount]
    helpfulness: list[ArticleHelpfulness]
    comments: list[VoteComment]
    trends: list[Trend]
    links: list[LinkedArticle]


def in_period(column: Any, period: Period) -> Any:
    return and_(column >= period.start, column < period.end)


def unanswered_condition() -> Any:
    return or_(SearchRow.confident == false(), SearchRow.results == 0)


def grouped_queries(session: Session, period: Period, condition: Any, limit: int) -> list[QueryCount]:
    """The `limit` most searched normalized queries among the searches matching `condition`."""
    searches = func.count().label("searches")
    rows = session.execute(
        select(SearchRow.normalized, searches)
        .where(in_period(SearchRow.created_at, period), condition)
        .group_by(SearchRow.normalized)
        .order_by(searches.desc(), SearchRow.normalized)
        .limit(limit)
    ).all()
    examples = phrasings(session, period, condition, [normalized for normalized, _ in rows])
    return [QueryCount(normalized, int(total), examples.get(normalized, [])) for normalized, total in rows]


def phrasings(session: Session, period: Period, condition: Any, normalized: list[str]) -> dict[str, list[str]]:
    """Up to EXAMPLES distinct phrasings of each normalized query, the most frequent first."""
    found: dict[str, list[str]] = defaultdict(list)
    for start in range(0, len(normalized), 500):  # bounded IN lists
        chunk = normalized[start : start + 500]
        uses = func.count().label("uses")
        rows = session.execute(
            select(SearchRow.normalized, SearchRow.query, uses)
            .where(in_period(SearchRow.created_at, period), condition, SearchRow.normalized.in_(chunk))
            .group_by(SearchRow.normalized, SearchRow.query)
            .order_by(SearchRow.normalized, uses.desc(), SearchRow.query)
        )
        for key, query, _ in rows:
            if len(found[key]) < EXAMPLES:
                found[key].append(query)
    return found


def top_queries(session: Session, period: Period, limit: int) -> list[QueryCount]:
    return grouped_queries(session, period, SearchRow.id.is_not(None), limit)


def unanswered_queries(session: Session, period: Period, limit: int) -> list[QueryCount]:
    """Queries that found nothing or nothing confident (unknown confidence excluded: see the module's doc)."""
    return grouped_queries(session, period, unanswered_condition(), limit)


def unopened_queries(session: Session, period: Period, limit: int) -> list[QueryCount]:
    """Queries that found results of which no visitor opened any (no click names their search's token)."""
    opened = exists().where(SearchClickRow.search_token == SearchRow.token)
    return grouped_queries(session, period, and_(SearchRow.results > 0, ~opened), limit)


def unknown_confidence(session: Session, period: Period) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(SearchRow)
            .where(in_period(SearchRow.created_at, period), SearchRow.confident.is_(None), SearchRow.results > 0)
        )
        or 0
    )


def helpfulness(session: Session, period: Period, limit: int) -> list[ArticleHelpfulness]:
    """Votes per article as they stand (a changed vote counts once, as it is now), least helpful first."""
    helpful = func.sum(case((VoteRow.helpful.is_(True), 1), else_=0)).label("helpful")
    unhelpful = func.sum(case((VoteRow.helpful.is_(True), 0), else_=1)).label("unhelpful")
    rows = session.execute(
        select(VoteRow.slug, helpful, unhelpful)
        .where(in_period(VoteRow.updated_at, period))
        .group_by(VoteRow.slug)
        .order_by(unhelpful.desc(), helpful.desc(), VoteRow.slug)
        .limit(limit)
    )
    return [ArticleHelpfulness(slug, int(yes or 0), int(no or 0)) for slug, yes, no in rows]


def vote_comments(session: Session, period: Period, limit: int) -> list[VoteComment]:
    """The latest votes that came with a reason or a comment."""
    rows = session.scalars(
        select(VoteRow)
        .where(in_period(VoteRow.updated_at, period), or_(VoteRow.reason != "", VoteRow.comment != ""))
        .order_by(VoteRow.updated_at.desc(), VoteRow.id.desc())
        .limit(limit)
    )
    return [VoteComment(utc_day(row.updated_at), row.slug, row.helpful, row.reason, row.comment) for row in rows]


def utc_day(moment: datetime.datetime) -> datetime.date:
    """The UTC day of a stored time (SQLite hands times back without their zone; they are UTC)."""
    return moment.astimezone(datetime.UTC).date() if moment.tzinfo else moment.date()


def trends(session: Session, period: Period, grouping: str = "day") -> list[Trend]:
    """The daily counters summed per day or per week (weeks start on Monday), every day or week listed."""
    if grouping not in GROUPINGS:
        raise PeriodError(f"grouping: {grouping!r} is not one of {', '.join(GROUPINGS)}")
    buckets: dict[datetime.date, dict[str, int]] = {}
    day = period.since
    while day <= period.until:
        buckets.setdefault(bucket_of(day, grouping), dict.fromkeys(TREND_METRICS, 0))
        day += datetime.timedelta(days=1)
    for metric in TREND_METRICS:
        for day, _, count in counts(session, metric, period.since, period.until):
            buckets[bucket_of(day, grouping)][metric] += count
    return [Trend(start, **values) for start, values in sorted(buckets.items())]


def bucket_of(day: datetime.date, grouping: str) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday()) if grouping == "week" else day


def totals(rows: list[Trend], since: datetime.date) -> Trend:
    return Trend(
        since,
        *(sum(getattr(row, metric) for row in rows) for metric in TREND_METRICS),
    )


def linked_articles(session: Session, period: Period, limit: int) -> list[LinkedArticle]:
    """The articles agents linked or used most often in the period."""
    uses = func.count().label("uses")
    per_action = [
        func.sum(case((LinkEventRow.action == action, 1), else_=0)).label(action) for action in LINK_ACTION_COLUMNS
    ]
    rows = session.execute(
        select(LinkEventRow.slug, uses, *per_action)
        .where(in_period(LinkEventRow.created_at, period))
        .group_by(LinkEventRow.slug)
        .order_by(uses.desc(), LinkEventRow.slug)
        .limit(limit)
    )
    return [
        LinkedArticle(
            row.slug, int(row.uses), {action: int(row._mapping[action] or 0) for action in LINK_ACTION_COLUMNS}
        )
        for row in rows
    ]


def build_report(session: Session, period: Period, grouping: str = "day", limit: int = 20) -> Report:
    """Every section of the insights for `period`; tables hold at most `limit` rows."""
    rows = trends(session, period, grouping)
    return Report(
        period=period,
        grouping=grouping,
        totals=totals(rows, period.since),
        unknown_confidence=unknown_confidence(session, period),
        top_queries=top_queries(session, period, limit),
        unanswered=unanswered_queries(session, period, limit),
        unopened=unopened_queries(session, period, limit),
        helpfulness=helpfulness(session, period, limit),
        comments=vote_comments(session, period, limit),
        trends=rows,
        links=linked_articles(session, period, limit),
    )
