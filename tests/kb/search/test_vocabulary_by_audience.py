"""Each audience's spelling vocabulary and BM25 statistics come only from the articles it may see."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from click.testing import CliRunner

import kb_cli.main
from indexer.build import build_index
from kb.config import Settings
from kb.index.format import load_published_index
from kb.search.service import Audience, SearchService
from kb_cli.main import cli
from tests.conftest import AppFactory, FakeEmbedder

INTERNAL_WORD = "zorbulax"  # only in the internal playbook of the test help center
MISSPELT = "zorbulx"


def service_for(settings: Settings, embedder: FakeEmbedder, **changes) -> SearchService:  # type: ignore[no-untyped-def]
    return SearchService(load_published_index(settings.index), embedder, dataclasses.replace(settings, **changes))


def test_the_internal_word_is_really_indexed_and_agents_get_it_as_a_correction(
    built_settings: Settings, fake_embedder: FakeEmbedder
) -> None:
    """Otherwise the public tests below would pass for the wrong reason."""
    service = service_for(built_settings, fake_embedder)
    agent = service.search(MISSPELT, 5, Audience.AGENT)
    assert agent.corrected_query == INTERNAL_WORD
    assert agent.results[0].slug == "refund-escalation-playbook"
    assert service.search(MISSPELT, 5, Audience.PREVIEW).corrected_query == INTERNAL_WORD


def test_public_search_never_suggests_a_word_of_an_internal_article(
    built_settings: Settings, fake_embedder: FakeEmbedder
) -> None:
    service = service_for(built_settings, fake_embedder)
    public = service.search(MISSPELT, 5, Audience.PUBLIC)
    assert public.corrected_query is None
    uncorrected = service_for(built_settings, fake_embedder, correct_spelling=False).search(MISSPELT, 5)
    assert public.results == uncorrected.results


def test_a_draft_word_is_suggested_in_preview_only(settings: Settings, fake_embedder: FakeEmbedder) -> None:
    draft = settings.articles / "billing" / "upcoming-ai-drafts.md"
    draft.write_text(draft.read_text() + "\nThe Quibbleflex engine writes them.\n")
    build_index(settings, fake_embedder, show_progress=False)
    service = service_for(settings, fake_embedder)
    assert service.search("quibbleflx", 5, Audience.PREVIEW).corrected_query == "quibbleflex"
    assert service.search("quibbleflx", 5, Audience.AGENT).corrected_query is None
    assert service.search("quibbleflx", 5, Audience.PUBLIC).corrected_query is None


def test_the_site_and_the_api_never_show_the_internal_correction(make_app: AppFactory) -> None:
    client = make_app().test_client()
    page = client.get(f"/search?q={MISSPELT}")
    assert page.status_code == 200
    assert INTERNAL_WORD not in page.get_data(as_text=True).lower()
    assert "Showing results for" not in page.get_data(as_text=True)
    uncorrected = make_app(correct_spelling=False).test_client()
    answer = client.get(f"/api/search?q={MISSPELT}&k=50")
    assert answer.status_code == 200
    expected = uncorrected.get(f"/api/search?q={MISSPELT}&k=50").get_json()
    assert answer.get_json() == {**expected, "search_token": answer.get_json()["search_token"]}  # each search its own


def test_kb_search_corrects_with_internal_words_for_agents_only(
    built_settings: Settings, fake_embedder: FakeEmbedder, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kb_cli.main, "make_embedder", lambda settings, batch=False: fake_embedder)
    index = ["--index", str(built_settings.index)]
    public = runner.invoke(cli, ["search", MISSPELT, *index])
    assert public.exit_code == 0, public.output
    assert INTERNAL_WORD not in public.stdout.lower()
    agent = runner.invoke(cli, ["search", MISSPELT, "--audience", "agent", *index])
    assert agent.stdout.splitlines()[0] == f"Showing results for: {INTERNAL_WORD}"


def public_lexical_scores(
    settings: Settings, embedder: FakeEmbedder, queries: list[str]
) -> dict[str, dict[str, float]]:
    service = service_for(settings, embedder)
    return {
        query: {result.slug: result.score for result in service.search(query, 50, mode="lexical").results}
        for query in queries
    }


def test_public_bm25_scores_do_not_change_when_an_internal_article_is_added(
    settings: Settings, fake_embedder: FakeEmbedder
) -> None:
    queries = ["invoice", "reset password email", "send an invoice line items", "team settings workspace"]
    build_index(settings, fake_embedder, show_progress=False)
    before = public_lexical_scores(settings, fake_embedder, queries)
    assert all(before.values())
    playbooks: Path = settings.articles / "playbooks"
    (playbooks / "invoice-disputes.md").write_text(
        "---\ntitle: Invoice disputes\nvisibility: internal\ntags: [invoice, password]\n---\n"
        "When an invoice is disputed, send the invoice again, reset the password and check the email.\n\n"
        "## Line items\n\nInvoice invoice invoice: the team settings list every line item of the workspace.\n",
        encoding="utf-8",
    )
    build_index(settings, fake_embedder, show_progress=False)
    index = load_published_index(settings.index)
    assert index.articles["invoice-disputes"].visibility == "internal"
    agent = service_for(settings, fake_embedder).search("invoice disputed", 1, Audience.AGENT, mode="lexical")
    assert agent.results[0].slug == "invoice-disputes"
    assert public_lexical_scores(settings, fake_embedder, queries) == before
