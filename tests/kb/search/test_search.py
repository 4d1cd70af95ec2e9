"""The search service over a small index built with the fake embedder."""

from __future__ import annotations

import dataclasses

import pytest

from kb.config import Settings
from kb.errors import QueryError
from kb.index.format import load_published_index
from kb.index.lexical import LexicalIndex
from kb.search import candidates
from kb.search.service import Audience, SearchService, normalize_query
from tests.conftest import FakeEmbedder


@pytest.fixture
def service(built_settings: Settings, fake_embedder: FakeEmbedder) -> SearchService:
    settings = dataclasses.replace(built_settings, max_query_length=100, max_results=20)
    return SearchService(load_published_index(built_settings.index), fake_embedder, settings)


def test_results_are_grouped_per_article_best_section_first(service: SearchService) -> None:
    response = service.search("reset email never arrives spam folder", k=5)
    slugs = [result.slug for result in response.results]
    assert slugs[0] == "reset-password"
    assert len(slugs) == len(set(slugs))
    top = response.results[0]
    assert top.url in ("/articles/reset-password#the-reset-email-never-arrives", "/articles/reset-password")
    assert top.title == "Reset your password"


def test_section_level_result_links_to_the_anchor(service: SearchService) -> None:
    top = service.search("paid invoices turn green", k=1).results[0]
    assert (top.slug, top.section, top.url) == (
        "invoice-basics",
        "Track payment",
        "/articles/invoice-basics#track-payment",
    )
    assert top.snippet == "Paid invoices turn green."


def test_public_search_never_returns_internal_or_draft_articles(service: SearchService) -> None:
    for query in ("refund escalation Admin Console approve", "assistant drafts invoices secret upcoming feature"):
        slugs = [result.slug for result in service.search(query, k=20).results]
        assert "refund-escalation-playbook" not in slugs
        assert "upcoming-ai-drafts" not in slugs
        assert slugs, "public articles still answer"


def test_agents_see_internal_and_writers_see_drafts(service: SearchService) -> None:
    agent = service.search("refund escalation Admin Console approve", k=1, audience=Audience.AGENT)
    assert [(result.slug, result.visibility) for result in agent.results] == [
        ("refund-escalation-playbook", "internal")
    ]
    agent_slugs = [result.slug for result in service.search("secret upcoming feature", 20, Audience.AGENT).results]
    assert "upcoming-ai-drafts" not in agent_slugs
    preview = service.search("secret upcoming feature assistant drafts", k=1, audience=Audience.PREVIEW)
    assert preview.results[0].slug == "upcoming-ai-drafts"


def test_k_limits_the_results(service: SearchService) -> None:
    assert len(service.search("invoice", k=2).results) == 2
    assert len(service.search("invoice", k=20).results) == 3  # only three public articles exist


def test_empty_long_and_out_of_range_requests_are_refused(service: SearchService) -> None:
    with pytest.raises(QueryError, match="empty"):
        service.search("   \n ", k=3)
    with pytest.raises(QueryError, match="101 characters long; the limit is 100"):
        service.search("x" * 101, k=3)
    with pytest.raises(QueryError, match="between 1 and 20"):
        service.search("invoice", k=21)
    with pytest.raises(QueryError, match="between 1 and 20"):
        service.search("invoice", k=0)


def test_repeated_queries_are_embedded_once(service: SearchService, fake_embedder: FakeEmbedder) -> None:
    calls = fake_embedder.calls
    service.search("Reset   my password", k=3)
    service.search("reset my password", k=3)
    assert fake_embedder.calls == calls + 1


def test_normalize_query() -> None:
    assert normalize_query("  where \n is\tmy invoice ", 50) == "where is my invoice"


def test_warm_up_computes_what_the_first_query_would_wait_for(service: SearchService) -> None:
    assert service.common_stems is None and not service.finder.samples
    service.warm_up()
    assert service.common_stems is not None
    assert set(service.finder.samples) == set(Audience)


def test_a_search_reads_its_candidates_never_every_chunk(
    service: SearchService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At scale a query must not score every chunk: the nearest ones and its words' postings only."""
    expected = service.search("reset email never arrives spam folder", k=5)

    def every_chunk(*args: object, **kwargs: object) -> None:
        raise AssertionError("a search scored every chunk")

    monkeypatch.setattr(type(service.index.vectors), "score_all", every_chunk)
    monkeypatch.setattr(LexicalIndex, "scores", every_chunk)
    assert service.search("reset email never arrives spam folder", k=5) == expected


def test_the_nearest_chunks_are_fetched_until_enough_articles_are_found(
    service: SearchService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(candidates, "DENSE_CANDIDATES", 1)
    monkeypatch.setattr(candidates, "CHUNKS_PER_RESULT", 1)
    monkeypatch.setattr(candidates, "LEXICAL_CANDIDATES", 0)
    visible = int(service.visible[Audience.PUBLIC].sum())
    assert len(service.search("zzqx invoices", k=min(visible, 6)).results) == min(visible, 6)
