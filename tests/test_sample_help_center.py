"""The shipped sample help center: valid, complete, and searchable with the real model."""

from __future__ import annotations

import pytest
import yaml

from kb.config import Settings
from kb.content.compiler import compile_help_center
from kb.help_center import HelpCenter
from kb.index.embedder import SentenceTransformerEmbedder
from kb.index.format import load_published_index
from kb.search.service import Audience, SearchService
from tests.conftest import DATA, SAMPLE_ARTICLES

GOLDEN_QUERIES = yaml.safe_load((DATA / "golden_queries.yaml").read_text(encoding="utf-8"))
PLAIN_QUERIES = [case for case in GOLDEN_QUERIES if case.get("kind") is None]
TYPO_QUERIES = [case for case in GOLDEN_QUERIES if case.get("kind") == "typo"]
LONG_QUERIES = [case for case in GOLDEN_QUERIES if case.get("kind") == "long"]


def test_sample_articles_have_no_problems() -> None:
    compiled = compile_help_center(SAMPLE_ARTICLES, Settings(articles=SAMPLE_ARTICLES))
    assert [str(problem) for problem in compiled.problems] == []
    articles = [item.article for item in compiled.articles]
    assert len(articles) >= 40
    assert len({article.category for article in articles if article.is_public}) >= 6
    assert len([article for article in articles if article.visibility == "internal"]) >= 3
    assert len([article for article in articles if article.aliases]) >= 2
    assert len([article for article in articles if article.questions]) >= 20


def test_golden_queries_name_public_articles() -> None:
    compiled = compile_help_center(SAMPLE_ARTICLES, Settings(articles=SAMPLE_ARTICLES))
    public = {item.article.slug for item in compiled.articles if item.article.is_public}
    assert len(PLAIN_QUERIES) >= 10
    assert {case["expect"] for case in GOLDEN_QUERIES} <= public


@pytest.fixture(scope="module")
def sample_search(sample_settings: Settings, real_embedder: SentenceTransformerEmbedder) -> SearchService:
    return SearchService(load_published_index(sample_settings.index), real_embedder)


@pytest.mark.slow
def test_i_forgot_my_password_finds_the_reset_article_first(sample_search: SearchService) -> None:
    assert sample_search.search("I forgot my password", k=5).results[0].slug == "reset-your-password"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("query", "url", "snippet_start"),
    [
        ("I forgot my password", "/articles/reset-your-password#request-a-reset-link", "Go to the sign-in page"),
        ("how do I get a refund", "/articles/refund-policy#how-to-request-a-refund", "Go to Settings → Billing"),
        (
            "invoice never arrived",
            "/articles/invoice-emails-not-delivered#check-the-delivery-status",
            "Open the invoice and click the Activity tab.",
        ),
    ],
)
def test_plain_questions_open_the_section_that_answers_them(
    sample_search: SearchService, query: str, url: str, snippet_start: str
) -> None:
    top = sample_search.search(query, k=5).results[0]
    assert top.url == url
    assert top.snippet.startswith(snippet_start)  # the section's text, not the article's summary


# Phrasings the default ranking is known to miss, with why: each is a strict xfail, so fixing one fails
# the test until it is taken off this list.
KNOWN_MISSES = {
    "add a row to a Google Sheet every time an invoice is paid": (
        "meaning does not connect Google Sheets with the Zapier article, and the per-query fusion "
        "gives a 7-word question's words 0.4 of their weight (kb/search/fusion.py), too little to lift it"
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize(
    "case",
    [
        pytest.param(case, marks=pytest.mark.xfail(strict=True, reason=KNOWN_MISSES[case["query"]]))
        if case["query"] in KNOWN_MISSES
        else case
        for case in PLAIN_QUERIES
    ],
    ids=[case["query"][:40] for case in PLAIN_QUERIES],
)
def test_customer_phrasings_find_the_right_article_near_the_top(sample_search: SearchService, case: dict) -> None:
    slugs = [result.slug for result in sample_search.search(case["query"], k=5).results]
    assert case["expect"] in slugs, slugs


@pytest.mark.slow
def test_customer_phrasings_mostly_find_the_right_article_first(sample_search: SearchService) -> None:
    misses = [
        case["query"]
        for case in PLAIN_QUERIES
        if sample_search.search(case["query"], k=1).results[0].slug != case["expect"]
    ]
    assert len(misses) <= len(PLAIN_QUERIES) // 10, misses


@pytest.mark.slow
def test_internal_playbooks_are_found_by_agents_only(sample_search: SearchService) -> None:
    index = sample_search.index
    internal = {slug for slug, record in index.articles.items() if record.visibility == "internal"}
    center = HelpCenter(index, sample_search)
    for record in center.articles(Audience.AGENT):
        if record.slug in internal:
            public_slugs = {result.slug for result in sample_search.search(record.title, k=50).results}
            assert record.slug not in public_slugs
            agent_top = sample_search.search(record.title, k=3, audience=Audience.AGENT).results
            assert record.slug in {result.slug for result in agent_top}


@pytest.mark.slow
def test_misspelled_queries_find_the_right_article_first(sample_search: SearchService) -> None:
    assert len(TYPO_QUERIES) >= 12
    misses = [
        case["query"]
        for case in TYPO_QUERIES
        if sample_search.search(case["query"], k=1).results[0].slug != case["expect"]
    ]
    assert len(misses) <= len(TYPO_QUERIES) // 10, misses  # at least 90% first


@pytest.mark.slow
@pytest.mark.parametrize("case", LONG_QUERIES, ids=[case["query"][:40] for case in LONG_QUERIES])
def test_whole_customer_emails_find_the_right_article_near_the_top(sample_search: SearchService, case: dict) -> None:
    slugs = [result.slug for result in sample_search.search(case["query"], k=3).results]
    assert case["expect"] in slugs, slugs


@pytest.mark.slow
@pytest.mark.parametrize(("typo", "internal_word"), [("playbok", "playbook"), ("helpdsk", "helpdesk")])
def test_words_of_the_internal_playbooks_are_corrections_for_agents_only(
    sample_search: SearchService, typo: str, internal_word: str
) -> None:
    assert sample_search.search(typo, k=3, audience=Audience.AGENT).corrected_query == internal_word
    public = sample_search.search(typo, k=3).corrected_query
    assert public is None or internal_word not in public
