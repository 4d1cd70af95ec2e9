"""`kb report` (text, JSON, CSV) and `kb new --from-gap`, over a database filled as the loop's writers would."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import kb_cli.report_command
from kb.content.articles import read_article
from kb.store.database import Storage
from kb.store.models import SearchRow
from kb.store.report_tables import TABLE_NAMES
from kb_cli.main import cli
from tests.conftest import FakeEmbedder
from tests.kb.store.test_insights import fill

PERIOD = ["--since", "2026-11-20", "--until", "2026-11-26"]


@pytest.fixture
def embedder(monkeypatch: pytest.MonkeyPatch) -> FakeEmbedder:
    fake = FakeEmbedder()
    monkeypatch.setattr(kb_cli.report_command, "make_embedder", lambda settings, batch=False: fake)
    return fake


@pytest.fixture
def database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'kb.sqlite3'}"
    storage = Storage(url)
    fill(storage)
    moment = datetime.datetime(2026, 11, 25, 9, tzinfo=datetime.UTC)
    with storage.session(write=True) as session:
        for number, (normalized, query) in enumerate(
            [
                ("export my invoices", "Export my invoices"),
                ("export invoices to excel", "export invoices to Excel"),
                ("export invoices to excel", "export invoices to excel"),
            ]
        ):
            session.add(
                SearchRow(
                    token=f"e{number}",
                    created_at=moment,
                    source="site",
                    query=query,
                    normalized=normalized,
                    results=0,
                    confident=False,
                )
            )
    return url


def run(runner: CliRunner, *arguments: str) -> tuple[int, str, str]:
    result = runner.invoke(cli, list(arguments))
    return result.exit_code, result.stdout, result.stderr


def test_the_text_report_shows_every_section(runner: CliRunner, database: str, embedder: FakeEmbedder) -> None:
    status, out, err = run(runner, "report", *PERIOD, "--database", database)
    assert (status, err) == (0, ""), err
    assert out.startswith("Insights from 2026-11-20 to 2026-11-26 (UTC), trends by day\n")
    for heading in ("Overview", "Top queries", "Unanswered", "Gaps", "Unopened", "Helpfulness", "Comments", "Links"):
        assert f"\n{heading}\n" in "\n" + out, heading
    assert "deflection_rate     0.75" in out
    assert "export invoices to excel  2" in out
    assert "2026-11-24  5         2           20             1                 3            0.75" in out
    assert embedder.calls == 1


def test_json_has_one_key_per_section(runner: CliRunner, database: str, embedder: FakeEmbedder) -> None:
    status, out, _ = run(runner, "report", *PERIOD, "--by", "week", "--format", "json", "--database", database)
    assert status == 0
    document = json.loads(out)
    assert list(document) == ["since", "until", "by", *TABLE_NAMES]
    assert document["overview"]["self_service_score"] == 35.0
    assert document["trends"][1] == {
        "week": "2026-11-23",
        "searches": 5,
        "unanswered": 2,
        "article_views": 20,
        "contact_requests": 1,
        "deflections": 3,
        "deflection_rate": 0.75,
        "self_service_score": 25.0,
    }
    (first, *_) = document["gaps"]
    assert (first["title"], first["searches"], first["queries"]) == ("Export invoices", 5, 3)
    assert first["phrasings"] == "export invoices to Excel | Export my invoices"


def test_csv_writes_one_table_with_formulas_defused(runner: CliRunner, database: str, embedder: FakeEmbedder) -> None:
    status, out, _ = run(runner, "report", *PERIOD, "--format", "csv", "--table", "comments", "--database", database)
    assert status == 0
    assert out.splitlines()[1].startswith("2026-11-23,reset-password,no,outdated,\"'=HYPERLINK(")
    assert embedder.calls == 0  # no gaps asked for: no model
    status, _, err = run(runner, "report", "--format", "csv", "--database", database)
    assert status == 2 and "--format csv writes one table: add --table, one of overview, top-queries" in err


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--since", "2026-02-30"], "Error: since: '2026-02-30' is not a date; write it as YYYY-MM-DD"),
        (["--since", "2026-11-02", "--until", "2026-11-01"], "Error: until (2026-11-01) is before since (2026-11-02)"),
    ],
)
def test_bad_dates_are_one_line_errors(runner: CliRunner, database: str, arguments: list[str], message: str) -> None:
    status, out, err = run(runner, "report", *arguments, "--database", database)
    assert (status, out, err.strip()) == (
        2,
        "",
        message + (": the range must run forwards" if "before" in message else ", e.g. 2026-11-24"),
    )


def test_new_from_gap_prefills_title_and_questions(
    runner: CliRunner, database: str, embedder: FakeEmbedder, tmp_path: Path
) -> None:
    _, out, _ = run(runner, "report", *PERIOD, "--format", "json", "--database", database)
    gap = json.loads(out)["gaps"][0]["gap"]
    articles = tmp_path / "articles"
    articles.mkdir()
    arguments = ["new", "--from-gap", gap[:6], *PERIOD, "--database", database, "--articles", str(articles)]
    status, out, err = run(runner, *arguments)
    assert (status, err) == (0, "")
    created = Path(out.strip())
    assert created == articles / "export-invoices.md"
    article, problems = read_article(created.read_text(encoding="utf-8"), str(created))
    assert problems == [] and article is not None
    assert (article.title, article.questions) == ("Export invoices", ["export invoices to Excel", "Export my invoices"])
    status, out, err = run(runner, *arguments, "Invoices in a spreadsheet")
    assert (status, Path(out.strip()).name) == (0, "invoices-in-a-spreadsheet.md")


def test_new_from_an_unknown_gap_says_where_gaps_are_listed(
    runner: CliRunner, database: str, embedder: FakeEmbedder
) -> None:
    status, out, err = run(runner, "new", "--from-gap", "0123456789", *PERIOD, "--database", database)
    assert (status, out) == (2, "")
    assert err.strip() == (
        "Error: no content gap '0123456789' from 2026-11-20 to 2026-11-26: "
        "'kb report --table gaps' lists them (give the same --since and --until)"
    )
    status, _, err = run(runner, "new")
    assert status == 2 and "give the article's TITLE, or --from-gap ID" in err
