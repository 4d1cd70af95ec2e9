"""/insights for signed-in agents: what customers searched, missed and rated, as tables, SVG charts and CSV."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from flask import Blueprint, Response, abort, current_app, render_template, request

from kb.authoring.gaps import MAX_QUERIES, Gap, find_gaps, gap_table
from kb.errors import PeriodError
from kb.store.insights import GROUPINGS, Period, build_report, helpfulness, trends, unanswered_queries
from kb.store.report_tables import TABLE_NAMES, csv_text, report_tables
from web import charts
from web.auth import agent_page, storage
from web.state import live_help_center

blueprint = Blueprint("insights", __name__)
ROWS = 20  # per table on the page and in its CSV files
CHARTS = {
    "searches": "Searches and unanswered searches over time",
    "deflection": "Deflection rate over time",
    "self-service": "Self-service score over time",
    "helpfulness": "Helpful and unhelpful votes per article",
}
GAP_CACHE_SIZE = 16


class GapCache:
    """Gaps of recently seen unanswered queries: the page and its CSV export embed each list once."""

    def __init__(self) -> None:
        self.found: OrderedDict[tuple[tuple[str, int], ...], list[Gap]] = OrderedDict()
        self.lock = threading.Lock()

    def gaps(self, unanswered: list[Any], embedder: Any) -> list[Gap]:
        key = tuple((query.normalized, query.searches) for query in unanswered)
        with self.lock:
            if key in self.found:
                self.found.move_to_end(key)
                return self.found[key]
        gaps = find_gaps(unanswered, embedder)
        with self.lock:
            self.found[key] = gaps
            while len(self.found) > GAP_CACHE_SIZE:
                self.found.popitem(last=False)
        return gaps


gap_cache = GapCache()


def requested_period() -> tuple[Period, str]:
    """The period and grouping the query string asks for (PeriodError for a bad date or grouping)."""
    grouping = request.args.get("by", "day")
    if grouping not in GROUPINGS:
        raise PeriodError(f"by: {grouping[:20]!r} is not one of {', '.join(GROUPINGS)}")
    return Period.parse(request.args.get("since") or None, request.args.get("until") or None), grouping


def content_gaps(period: Period) -> tuple[list[Gap], str | None]:
    """The period's gaps, or none and why: gaps need the search model, and the page works without it."""
    with storage().session() as session:
        unanswered = unanswered_queries(session, period, MAX_QUERIES)
    if not unanswered:
        return [], None
    embedder = getattr(live_help_center(), "embedder", None)
    if embedder is None:
        return [], "Content gaps need the search model, which is not loaded on this server."
    try:
        return gap_cache.gaps(unanswered, embedder), None
    except Exception:  # the model or the clustering failing must not take the other sections down
        current_app.logger.exception("content gaps failed")
        return [], "Content gaps could not be computed just now; the other sections are complete."


def tables_for(period: Period, grouping: str) -> tuple[Any, list[Gap], str | None, dict[str, Any]]:
    with storage().session() as session:
        report = build_report(session, period, grouping, ROWS)
    gaps, gap_problem = content_gaps(period)
    return report, gaps, gap_problem, report_tables(report, gap_table(gaps[:ROWS]))


@blueprint.get("/")
@agent_page
def overview() -> tuple[str, int]:
    since, until = request.args.get("since", ""), request.args.get("until", "")
    try:
        period, grouping = requested_period()
    except PeriodError as error:
        return render_template("insights.html", error=str(error), since=since, until=until, by="day"), 400
    report, gaps, gap_problem, tables = tables_for(period, grouping)
    filters = {"since": period.since.isoformat(), "until": period.until.isoformat(), "by": grouping}
    return render_template(
        "insights.html",
        error=None,
        report=report,
        gaps=gaps[:ROWS],
        gap_problem=gap_problem,
        tables=tables,
        charts=CHARTS,
        filters=filters,
        since=filters["since"],
        until=filters["until"],
        by=grouping,
    ), 200


@blueprint.get("/<name>.csv")
@agent_page
def export(name: str) -> Response:
    """One table as a CSV download, its cells defused for spreadsheets, its name made of known parts only."""
    if name not in TABLE_NAMES:
        abort(404)
    period, grouping = requested_period()
    _, _, _, tables = tables_for(period, grouping)
    filename = f"kb-insights-{name}-{period.since.isoformat()}-{period.until.isoformat()}.csv"
    return Response(
        csv_text(*tables[name]),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


@blueprint.get("/charts/<name>.svg")
@agent_page
def chart(name: str) -> Response:
    if name not in CHARTS:
        abort(404)
    period, grouping = requested_period()
    with storage().session() as session:
        if name == "helpfulness":
            drawn = charts.helpfulness_chart(helpfulness(session, period, 10))
        else:
            rows = trends(session, period, grouping)
            draw = {
                "searches": charts.searches_chart,
                "deflection": charts.deflection_chart,
                "self-service": charts.self_service_chart,
            }[name]
            drawn = draw(rows)
    return Response(
        charts.render(drawn),
        mimetype="image/svg+xml",
        headers={"Content-Security-Policy": charts.SVG_POLICY, "Cache-Control": "private, no-store"},
    )
