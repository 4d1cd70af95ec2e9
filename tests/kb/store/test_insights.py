"""Insights read what the loop's writers stored: rows are inserted here directly, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from kb.errors import PeriodError
from kb.store.counters import bump
from kb.store.database import Storage
from kb.store.insights import Period, Trend, build_report
from kb.store.models import LinkEventRow, SearchClickRow, SearchRow, VoteRow
from kb.store.report_tables import csv_text, report_tables, safe_cell

UTC = datetime.UTC
PERIOD = Period(datetime.date(2026, 11, 20), datetime.date(2026, 11, 26))


def at(day: int, hour: int = 12) -> datetime.datetime:
    return datetime.datetime(2026, 11, day, hour, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def loop_storage(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    url = (
        f"sqlite:///{tmp_path / 'kb.sqlite3'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    )
    return Storage(url)


def search(token: str, normalized: str, query: str, results: int, confident: bool | None, day: int = 24) -> SearchRow:
    return SearchRow(
        token=token,
        created_at=at(day),
        source="site",
        query=query,
        normalized=normalized,
        results=results,
        confident=confident,
        top_results="[]",
    )


def fill(storage: Storage) -> None:
    with storage.session(write=True) as session:
        session.add_all(
            [
                search("s1", "reset password", "Reset password", 5, True),
                search("s2", "reset password", "reset password", 5, True),
                search("s3", "reset password", "reset password", 5, True, day=26),
                search("s4", "export invoices", "Export invoices", 3, False),
                search("s5", "export invoices", "export invoices!", 3, False, day=21),
                search("s6", "zzz", "zzz", 0, None),
                search("s7", "refund", "refund", 4, None),
                search("s8", "reset password", "reset password", 5, True, day=10),  # before the period
                search("s9", "old gap", "old gap", 0, False, day=27),  # after it
                SearchClickRow(
                    search_token="s1", slug="reset-password", section="steps", position=1, created_at=at(24)
                ),
                SearchClickRow(search_token="s9", slug="welcome", position=1, created_at=at(27)),
                VoteRow(slug="reset-password", visitor="a", helpful=True, updated_at=at(21)),
                VoteRow(slug="reset-password", visitor="b", helpful=True, updated_at=at(22)),
                VoteRow(
                    slug="reset-password",
                    visitor="c",
                    helpful=False,
                    reason="outdated",
                    comment='=HYPERLINK("http://evil") the screenshots are old',
                    updated_at=at(23),
                ),
                VoteRow(slug="billing", visitor="a", helpful=False, updated_at=at(24)),
                VoteRow(slug="billing", visitor="z", helpful=True, comment="old", updated_at=at(1)),
                LinkEventRow(action="copy_link", slug="reset-password", created_at=at(22)),
                LinkEventRow(action="copy_link", slug="reset-password", created_at=at(23)),
                LinkEventRow(action="suggestion_used", slug="billing", created_at=at(23)),
                LinkEventRow(action="copy_link", slug="billing", created_at=at(2)),
            ]
        )
        bump(session, "searches", "site", 10, day=datetime.date(2026, 11, 20))
        bump(session, "searches", "site", 4, day=datetime.date(2026, 11, 24))
        bump(session, "searches", "api", 1, day=datetime.date(2026, 11, 24))
        bump(session, "searches", "site", 99, day=datetime.date(2026, 11, 19))  # before the period
        bump(session, "unanswered", "site", 2, day=datetime.date(2026, 11, 24))
        bump(session, "article_views", "reset-password", 20, day=datetime.date(2026, 11, 24))
        bump(session, "contact_requests", "", 1, day=datetime.date(2026, 11, 24))
        bump(session, "deflections", "", 3, day=datetime.date(2026, 11, 24))


def test_the_report_reads_each_section_for_the_period(loop_storage: Storage) -> None:
    fill(loop_storage)
    with loop_storage.session() as session:
        report = build_report(session, PERIOD)
    assert [(row.normalized, row.searches, row.examples) for row in report.top_queries] == [
        ("reset password", 3, ["reset password", "Reset password"]),
        ("export invoices", 2, ["Export invoices", "export invoices!"]),
        ("refund", 1, ["refund"]),
        ("zzz", 1, ["zzz"]),
    ]
    # Nothing found, or nothing confident; "refund" (confidence unknown) is counted apart, not here.
    assert [(row.normalized, row.searches) for row in report.unanswered] == [("export invoices", 2), ("zzz", 1)]
    assert report.unknown_confidence == 1
    assert [(row.normalized, row.searches) for row in report.unopened] == [
        ("export invoices", 2),
        ("reset password", 2),
        ("refund", 1),
    ]
    assert [(row.slug, row.helpful, row.unhelpful) for row in report.helpfulness] == [
        ("reset-password", 2, 1),
        ("billing", 0, 1),
    ]
    assert report.helpfulness[0].helpful_share == pytest.approx(2 / 3)
    assert [(row.day, row.slug, row.helpful, row.reason) for row in report.comments] == [
        (datetime.date(2026, 11, 23), "reset-password", False, "outdated")
    ]
    assert [(row.slug, row.uses, row.by_action["copy_link"]) for row in report.links] == [
        ("reset-password", 2, 2),
        ("billing", 1, 0),
    ]
    assert report.totals == Trend(PERIOD.since, 15, 2, 20, 1, 3)
    assert (report.totals.deflection_rate, report.totals.self_service_score) == (0.75, 35.0)
    assert [row.start.day for row in report.trends] == [20, 21, 22, 23, 24, 25, 26]
    assert report.trends[4] == Trend(datetime.date(2026, 11, 24), 5, 2, 20, 1, 3)
    assert report.trends[0].self_service_score is None and report.trends[0].deflection_rate is None


def test_weeks_start_on_monday_and_every_week_is_listed(loop_storage: Storage) -> None:
    fill(loop_storage)
    with loop_storage.session() as session:
        report = build_report(session, PERIOD, grouping="week", limit=1)
    assert [(row.start, row.searches, row.contact_requests) for row in report.trends] == [
        (datetime.date(2026, 11, 16), 10, 0),
        (datetime.date(2026, 11, 23), 5, 1),
    ]
    assert len(report.top_queries) == len(report.unopened) == len(report.helpfulness) == 1


def test_an_empty_database_gives_an_empty_report(loop_storage: Storage) -> None:
    with loop_storage.session() as session:
        report = build_report(session, PERIOD)
    assert report.top_queries == report.unanswered == report.helpfulness == report.links == []
    assert report.totals == Trend(PERIOD.since, 0, 0, 0, 0, 0)
    assert len(report.trends) == 7


def test_periods_are_validated_with_a_clear_message() -> None:
    today = datetime.date(2026, 11, 24)
    assert Period.parse(None, None, today) == Period(datetime.date(2026, 10, 26), today)
    assert Period.parse("2026-11-01", None, today) == Period(datetime.date(2026, 11, 1), today)
    assert Period.parse(None, "2026-11-10", today).since == datetime.date(2026, 10, 12)
    with pytest.raises(PeriodError, match=r"since: '2026-13-01' is not a date; write it as YYYY-MM-DD"):
        Period.parse("2026-13-01", None, today)
    with pytest.raises(PeriodError, match=r"until: '<script>' is not a date"):
        Period.parse(None, "<script>", today)
    with pytest.raises(PeriodError, match=r"until \(2026-11-01\) is before since \(2026-11-02\)"):
        Period.parse("2026-11-02", "2026-11-01", today)
    with pytest.raises(PeriodError, match="longer than 1098 days"):
        Period.parse("2020-01-01", "2026-01-01", today)


def test_tables_and_csv_cells_cannot_run_as_formulas(loop_storage: Storage) -> None:
    fill(loop_storage)
    with loop_storage.session() as session:
        tables = report_tables(build_report(session, PERIOD), (["gap"], []))
    columns, rows = tables["comments"]
    text = csv_text(columns, rows)
    assert text.splitlines() == [
        "day,article,helpful,reason,comment",
        '2026-11-23,reset-password,no,outdated,"\'=HYPERLINK(""http://evil"") the screenshots are old"',
    ]
    assert [safe_cell(value) for value in ("+1", "-2", "@x", "\tx", "ok", -3, None)] == [
        "'+1",
        "'-2",
        "'@x",
        "'\tx",
        "ok",
        -3,
        "",
    ]
    assert dict(tables["overview"][1])["deflection_rate"] == 0.75
