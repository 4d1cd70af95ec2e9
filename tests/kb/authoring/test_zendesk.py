"""`kb import zendesk`: a Zendesk Guide export (tests/data/zendesk_export, the Help Center API's JSON)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from click.testing import CliRunner

from indexer.build import build_index
from kb.authoring.zendesk import import_export
from kb.config import Settings
from kb.errors import ExportError
from kb_cli.main import cli
from tests.conftest import DATA, AppFactory, FakeEmbedder

EXPORT = DATA / "zendesk_export"
REFUND = "billing-payments/refunds/how-do-i-get-a-refund.md"


def test_an_export_becomes_articles_that_check_passes(tmp_path: Path) -> None:
    articles = tmp_path / "articles"
    result = CliRunner().invoke(cli, ["import", "zendesk", str(EXPORT), "--articles", str(articles)])
    assert result.exit_code == 0, result.output
    assert sorted(path.relative_to(articles).as_posix() for path in articles.rglob("*") if path.is_file()) == [
        "billing-payments/_category.yml",
        "billing-payments/refunds/_category.yml",
        "billing-payments/refunds/chargeback-handling-agents.md",
        REFUND,
        "billing-payments/refunds/partial-refunds.md",
        "billing-payments/refunds/refund-policy.md",
    ]
    assert result.stderr.endswith(
        "1 attachment(s) to fetch and put beside the articles:\n"
        "  https://acme.zendesk.com/hc/article_attachments/360099999991/refund-button.png"
        " -> attachments/refund-button.png\n"
        f"4 article(s) written to {articles}; run `kb check` and `kb index`\n"
    )
    assert (articles / "billing-payments" / "_category.yml").read_text() == (
        "title: Billing & payments\ndescription: Invoices, cards and refunds.\n"
    )
    assert (articles / REFUND).read_text() == (
        "---\ntitle: How do I get a refund?\ntags:\n- refund\n- money back\naliases:\n"
        "- 360012345671-how-do-i-get-a-refund\n- '360012345671'\nupdated: 2024-02-19\norder: 1\n---\n"
        "## Before you ask\n\nRefunds go back to the card you paid with. Check the "
        "[refund policy](refund-policy#annual-plans) first.\n\n"
        "![The refund button](https://acme.zendesk.com/hc/article_attachments/360099999991/refund-button.png)\n\n"
        "## Ask for a refund\n\n1. Open **Billing**.\n2. Click **Request refund**.\n"
    )
    internal = (articles / "billing-payments/refunds/chargeback-handling-agents.md").read_text()
    assert "\nvisibility: internal\n" in internal
    assert "\ndraft: true\n" in (articles / "billing-payments/refunds/partial-refunds.md").read_text()
    check = CliRunner().invoke(cli, ["check", "--no-similarity", "--articles", str(articles)])
    assert check.exit_code == 0, check.output
    assert check.stderr == "4 articles checked: 0 error(s), 5 warning(s)\n"
    again = CliRunner().invoke(cli, ["import", "zendesk", str(EXPORT), "--articles", str(articles)])
    assert "4 article(s)" not in again.stderr and f"Warning: {articles / REFUND} exists" in again.stderr


def test_the_imported_help_center_serves_and_old_urls_redirect(
    tmp_path: Path, settings: Settings, fake_embedder: FakeEmbedder, make_app: AppFactory
) -> None:
    articles = tmp_path / "imported"
    import_export(EXPORT, articles)
    imported = dataclasses.replace(settings, articles=articles, index=tmp_path / "imported-index")
    build_index(imported, fake_embedder, show_progress=False)
    client = make_app(imported).test_client()
    page = client.get("/articles/how-do-i-get-a-refund")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert '<a href="/articles/refund-policy#annual-plans" rel="noopener noreferrer">refund policy</a>' in text
    assert "alert(1)" not in text
    for old in ("/hc/en-us/articles/360012345671-How-do-I-get-a-refund-", "/hc/en-us/articles/360012345671"):
        response = client.get(old)
        assert (response.status_code, response.headers["Location"]) == (301, "/articles/how-do-i-get-a-refund")
    assert client.get("/articles/360012345672").headers["Location"] == "/articles/refund-policy"
    # Restricted and draft articles stay away from customers, by their old URL too.
    assert client.get("/articles/chargeback-handling-agents").status_code == 404
    assert client.get("/hc/en-us/articles/360012345673-Chargeback-handling-agents-").status_code == 404
    assert client.get("/articles/partial-refunds").status_code == 404
    assert client.get("/hc/en-us/articles/999-Nothing").status_code == 404


def test_an_export_without_articles_is_refused(tmp_path: Path) -> None:
    (tmp_path / "categories.json").write_text('{"categories": []}')
    with pytest.raises(ExportError, match="no 'articles' list found"):
        import_export(tmp_path, tmp_path / "out")
    (tmp_path / "categories.json").write_text("not json")
    with pytest.raises(ExportError, match="not a JSON export"):
        import_export(tmp_path, tmp_path / "out")
