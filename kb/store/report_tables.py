"""The insights report as named tables (columns and rows), for the page, `kb report` and CSV exports."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the report is made elsewhere: `kb index` and the other commands never load the database code
    from kb.store.insights import QueryCount, Report

Table = tuple[list[str], list[list[Any]]]
TABLE_NAMES = (
    "overview",
    "top-queries",
    "unanswered",
    "gaps",
    "unopened",
    "helpfulness",
    "comments",
    "trends",
    "links",
)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet runs a cell starting so as a formula


def ratio(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def query_table(rows: list[QueryCount]) -> Table:
    return ["query", "searches", "examples"], [[row.normalized, row.searches, " | ".join(row.examples)] for row in rows]


def report_tables(report: Report, gaps: Table) -> dict[str, Table]:
    """Every section of `report` as a table, `gaps` (from kb.authoring.gaps.gap_table) among them."""
    from kb.store.insights import LINK_ACTION_COLUMNS

    totals = report.totals
    overview: list[list[Any]] = [
        ["since", report.period.since.isoformat()],
        ["until", report.period.until.isoformat()],
        ["searches", totals.searches],
        ["unanswered", totals.unanswered],
        ["unknown_confidence", report.unknown_confidence],
        ["article_views", totals.article_views],
        ["contact_requests", totals.contact_requests],
        ["deflections", totals.deflections],
        ["deflection_rate", ratio(totals.deflection_rate)],
        ["self_service_score", ratio(totals.self_service_score, 1)],
    ]
    return {
        "overview": (["measure", "value"], overview),
        "top-queries": query_table(report.top_queries),
        "unanswered": query_table(report.unanswered),
        "gaps": gaps,
        "unopened": query_table(report.unopened),
        "helpfulness": (
            ["article", "helpful", "unhelpful", "helpful_share"],
            [[row.slug, row.helpful, row.unhelpful, ratio(row.helpful_share)] for row in report.helpfulness],
        ),
        "comments": (
            ["day", "article", "helpful", "reason", "comment"],
            [
                [row.day.isoformat(), row.slug, "yes" if row.helpful else "no", row.reason, row.comment]
                for row in report.comments
            ],
        ),
        "trends": (
            [
                report.grouping,
                "searches",
                "unanswered",
                "article_views",
                "contact_requests",
                "deflections",
                "deflection_rate",
                "self_service_score",
            ],
            [
                [
                    row.start.isoformat(),
                    row.searches,
                    row.unanswered,
                    row.article_views,
                    row.contact_requests,
                    row.deflections,
                    ratio(row.deflection_rate),
                    ratio(row.self_service_score, 1),
                ]
                for row in report.trends
            ],
        ),
        "links": (
            ["article", "uses", *LINK_ACTION_COLUMNS],
            [[row.slug, row.uses, *(row.by_action[action] for action in LINK_ACTION_COLUMNS)] for row in report.links],
        ),
    }


def safe_cell(value: Any) -> Any:
    """A cell a spreadsheet shows as text: text starting with = + - @ (or a tab or CR) gets a leading quote."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_text(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """The table as CSV (header first), safe to open in a spreadsheet."""
    output = io.StringIO()
    writer = csv.writer(output, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows([safe_cell(cell) for cell in row] for row in rows)
    return output.getvalue()
