"""`kb report`: the insights of /insights in the terminal (text, JSON or CSV); the gap behind `kb new --from-gap`."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from kb.index.embedder import make_embedder
from kb.store.report_tables import TABLE_NAMES, Table, csv_text
from kb_cli.database_commands import agent_storage, database_option, database_settings

if TYPE_CHECKING:
    from kb.authoring.gaps import Gap
    from kb.store.database import Storage
    from kb.store.insights import Period, Report

F = TypeVar("F", bound=Callable[..., Any])
CELL_WIDTH = 60  # text output cuts longer cells


def period_options(function: F) -> F:
    function = click.option(
        "--until", metavar="YYYY-MM-DD", default=None, help="Last day included (UTC) [default: today]."
    )(function)
    return click.option(
        "--since", metavar="YYYY-MM-DD", default=None, help="First day included (UTC) [default: 30 days up to --until]."
    )(function)


def gather(
    storage: Storage, period: Period, grouping: str, limit: int, with_gaps: bool
) -> tuple[Report, list[Gap], dict[str, Table]]:
    """The report, its content gaps (the model is loaded only when there are unanswered queries) and its tables."""
    from kb.authoring.gaps import MAX_QUERIES, find_gaps, gap_table
    from kb.store.insights import build_report, unanswered_queries
    from kb.store.report_tables import report_tables

    with storage.session() as session:
        report = build_report(session, period, grouping, limit)
        unanswered = unanswered_queries(session, period, MAX_QUERIES) if with_gaps else []
    gaps = find_gaps(unanswered, make_embedder(database_settings(None))) if unanswered else []  # KB_MODEL
    return report, gaps, report_tables(report, gap_table(gaps[:limit]))


def text_table(name: str, table: Table) -> list[str]:
    columns, rows = table
    lines = [name.replace("-", " ").capitalize(), "-" * len(name)]
    if not rows:
        return [*lines, "(none)", ""]
    cells = [[shown(cell) for cell in row] for row in [columns, *rows]]
    widths = [max(len(row[index]) for row in cells) for index in range(len(columns))]
    lines += ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in cells]
    return [*lines, ""]


def shown(cell: Any) -> str:
    text = "" if cell is None else " ".join(str(cell).split())
    return text if len(text) <= CELL_WIDTH else text[: CELL_WIDTH - 1] + "…"


def json_tables(tables: dict[str, Table], period: Period, grouping: str) -> dict[str, Any]:
    document: dict[str, Any] = {"since": period.since.isoformat(), "until": period.until.isoformat(), "by": grouping}
    for name, (columns, rows) in tables.items():
        if name == "overview":
            document[name] = {measure: value for measure, value in rows}
        else:
            document[name] = [dict(zip(columns, row, strict=True)) for row in rows]
    return document


@click.command()
@period_options
@click.option(
    "--by",
    "grouping",
    type=click.Choice(["day", "week"]),
    default="day",
    show_default=True,
    help="Trends per day or per week.",
)
@click.option(
    "--format",
    "output",
    type=click.Choice(["text", "json", "csv"]),
    default="text",
    show_default=True,
    help="csv writes the one table named by --table.",
)
@click.option("--table", type=click.Choice(TABLE_NAMES), default=None, help="With --format csv: the table to write.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=20, show_default=True, help="Rows per table at most.")
@click.option("--gaps/--no-gaps", default=True, show_default=True, help="Cluster unanswered queries (loads the model).")
@database_option
def report(
    since: str | None,
    until: str | None,
    grouping: str,
    output: str,
    table: str | None,
    limit: int,
    gaps: bool,
    database: str | None,
) -> None:
    """Insights for writers and support leads: what customers searched, missed, rated and wrote in about.

    Sections: overview, top queries, unanswered queries (nothing found or nothing confident), content
    gaps (unanswered queries grouped by meaning; `kb new --from-gap ID` turns one into an article),
    queries whose results nobody opened, helpfulness per article, vote comments, trends (deflection
    rate and self-service score over time) and the articles agents link most.
    """
    from kb.store.insights import Period

    if output == "csv" and table is None:
        raise click.UsageError(f"--format csv writes one table: add --table, one of {', '.join(TABLE_NAMES)}")
    period = Period.parse(since, until)
    _, _, tables = gather(agent_storage(database), period, grouping, limit, gaps and table in (None, "gaps"))
    if output == "csv":
        click.echo(csv_text(*tables[str(table)]), nl=False)
    elif output == "json":
        click.echo(json.dumps(json_tables(tables, period, grouping), indent=2, ensure_ascii=False))
    else:
        click.echo(f"Insights from {period.since} to {period.until} (UTC), trends by {grouping}\n")
        shown_tables = {table: tables[table]} if table else tables
        for name, found in shown_tables.items():
            if name == "gaps" and not gaps:
                continue
            click.echo("\n".join(text_table(name, found)))


def from_gap_options(function: F) -> F:
    """`kb new --from-gap ID` and where to find the gap: the database and period `kb report` listed it from."""
    function = database_option(function)
    function = period_options(function)
    return click.option(
        "--from-gap",
        "gap",
        metavar="ID",
        default=None,
        help="Content gap (from `kb report`) to start from: its title and phrasings fill the new article.",
    )(function)


def gap_for_new_article(gap: str, since: str | None, until: str | None, database: str | None) -> Gap:
    """The content gap `gap` of the period, as `kb report` listed it.

    Raises:
        NewArticleError: no gap of the period has that id.
    """
    from kb.authoring.gaps import find_gap
    from kb.errors import NewArticleError
    from kb.store.insights import Period

    period = Period.parse(since, until)
    _, gaps, _ = gather(agent_storage(database), period, "day", 1, True)
    found = find_gap(gaps, gap)
    if found is None:
        raise NewArticleError(
            f"no content gap {gap!r} from {period.since} to {period.until}: "
            "'kb report --table gaps' lists them (give the same --since and --until)"
        )
    return found
