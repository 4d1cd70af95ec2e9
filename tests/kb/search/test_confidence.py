"""Confidence per result, the 'confident' flag and the answer card, on evidence apart from the fused score."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from kb.config import Settings
from kb.index.format import load_published_index
from kb.index.lexical import LexicalIndex, analyse
from kb.search.answer_card import answer_card, section_html
from kb.search.confidence import CONFIDENT, Evidence, is_confident, meaning_evidence, word_weights
from kb.search.service import Audience, SearchService
from kb.search.spelling import SpellingCorrector
from tests.conftest import FakeEmbedder

ARTICLE_HTML = (
    "<p>Intro with <strong>bold</strong>.</p>\n"
    '<h2 id="first">First<a class="headerlink" href="#first">#</a></h2>\n'
    "<ol>\n<li>Step one</li>\n</ol>\n"
    '<h3 id="detail">Detail</h3>\n<p>Deeper.</p>\n'
    '<h2 id="second">Second</h2>\n<p>Last <a href="/articles/other">link</a>.</p>'
)


def evidence(cosines: list[float], coverage: list[float] | None = None, spread: float = 0.1) -> Evidence:
    every = np.arange(len(cosines))
    return Evidence(every, np.array(cosines), np.array(coverage or [0.0] * len(cosines)), spread, not_asked)


def not_asked(position: int) -> tuple[float, float]:
    raise AssertionError(f"article {position} is a candidate: its evidence is at hand")


def test_meaning_evidence_is_even_at_the_midpoint_and_saturates_far_from_it() -> None:
    assert meaning_evidence(0.35) == 0.5
    assert round(meaning_evidence(0.15), 4) == 0.018
    assert round(meaning_evidence(0.6), 4) == 0.9933
    assert meaning_evidence(float("-inf")) == 0.0  # an article the audience may not see


def test_meaning_or_complete_word_coverage_makes_a_result_confident() -> None:
    found = evidence([0.2, 0.2, 0.7, 0.2], [0.0, 1.0, 0.0, 0.5])
    assert [found.confidence(position) for position in range(4)] == [0.0474, 1.0, 0.9991, 0.107]
    assert is_confident([0.0474, CONFIDENT]) and not is_confident([0.0474, 0.107]) and not is_confident([])


def test_the_card_needs_near_certain_meaning_and_a_clear_lead() -> None:
    assert evidence([0.9, 0.7, 0.2]).card(0)  # leads by 2 spreads
    assert not evidence([0.9, 0.85, 0.2]).card(0)  # a near tie: either may be the answer
    assert not evidence([0.5, 0.1, 0.1]).card(0)  # clear, but not close enough in meaning
    assert not evidence([0.9, 0.7, 0.2]).card(1)  # not the best in meaning


def test_word_coverage_weighs_rare_words_and_counts_unknown_ones_as_missing() -> None:
    texts = ["refund policy", "refund an invoice", "invoice template", "invoice email"]
    lexical = LexicalIndex.build(analyse(texts), [0, 1, 2, 3])
    chunk_article = np.array([0, 1, 2, 2])  # the last two chunks are one article's
    everyone, articles = np.ones(3, dtype=bool), np.arange(3)

    def coverage(query: str) -> list[float]:
        return list(word_weights(query, lexical, chunk_article, everyone).coverage(articles))

    both = coverage("refund invoice")
    assert both[1] == 1.0 and both[0] > both[2] > 0  # "refund" (2 chunks) is rarer than "invoice" (3)
    unknown = coverage("refund zzqx")
    assert unknown[0] == unknown[1] < 0.5 and unknown[2] == 0.0
    assert coverage("how do I") == [0.0, 0.0, 0.0]
    hidden = word_weights("refund invoice", lexical, chunk_article, np.array([True, False, True]))
    assert list(hidden.coverage(articles)) == [both[0], 0.0, both[2]]  # what the reader may not see holds nothing


def test_section_html_cuts_one_section_at_the_next_heading_and_sanitizes_it() -> None:
    assert section_html(ARTICLE_HTML, "") == "<p>Intro with <strong>bold</strong>.</p>"
    assert section_html(ARTICLE_HTML, "first") == "<ol>\n<li>Step one</li>\n</ol>"
    assert section_html(ARTICLE_HTML, "detail") == "<p>Deeper.</p>"
    assert (
        section_html(ARTICLE_HTML, "second")
        == '<p>Last <a href="/articles/other" rel="noopener noreferrer">link</a>.</p>'
    )
    assert section_html(ARTICLE_HTML, "missing") == ""
    assert section_html('<h2 id="x">X</h2>\n<p>a<script>alert(1)</script></p>', "x") == "<p>a</p>"


def test_internal_articles_never_make_a_card(built_settings: Settings) -> None:
    index = load_published_index(built_settings.index)
    internal = index.articles["refund-escalation-playbook"]
    assert not internal.is_public and answer_card(internal, "", "") is None
    card = answer_card(index.articles["reset-password"], "request-a-reset-link", "Request a reset link")
    assert card is not None
    assert card.to_json() == {
        "slug": "reset-password",
        "title": "Reset your password",
        "section": "Request a reset link",
        "url": "/articles/reset-password#request-a-reset-link",
        "html": "<p>Click <strong>Forgot password</strong> and enter your email address.</p>",
    }


def test_a_possessive_name_is_not_a_typo_and_an_unchanged_query_is_no_correction() -> None:
    corrector = SpellingCorrector({"varies": 3, "bakery": 2, "footer": 4})
    assert corrector.correct_word("marias") == "varies"  # what used to be searched
    assert corrector.correct("Maria's Bakery") is None
    assert corrector.correct("Bakery of Maria") is None
    assert corrector.correct("xyzzy foobar") == "xyzzy footer"  # the search keeps it only if it finds an answer


@pytest.fixture
def service(built_settings: Settings, fake_embedder: FakeEmbedder) -> SearchService:
    return SearchService(load_published_index(built_settings.index), fake_embedder, built_settings)


def test_a_correction_that_finds_no_confident_answer_is_dropped(
    service: SearchService, built_settings: Settings, fake_embedder: FakeEmbedder
) -> None:
    corrected = service.search("pasword resett", 3)
    assert (corrected.corrected_query, corrected.confident) == ("password reset", True)
    assert service.corrected("qwzx plorf pasword", Audience.PUBLIC) == "qwzx plorf password"
    nonsense = service.search("qwzx plorf pasword", 3)  # "password" alone is not enough of this query
    assert nonsense.corrected_query is None
    assert not nonsense.confident
    as_written = SearchService(
        load_published_index(built_settings.index),
        fake_embedder,
        dataclasses.replace(built_settings, correct_spelling=False),
    ).search("qwzx plorf pasword", 3)
    assert nonsense.results == as_written.results


def test_every_result_carries_its_confidence_and_the_response_its_flag(service: SearchService) -> None:
    response = service.search("reset password", 3)
    assert [(result.slug, result.confidence) for result in response.results][:1] == [("reset-password", 1.0)]
    assert all(0.0 <= result.confidence <= 1.0 for result in response.results)
    assert response.confident
    assert response.to_json()["confident"] is True
    assert [item["confidence"] for item in response.to_json()["results"]] == [
        result.confidence for result in response.results
    ]
    agents = service.suggest("Hi, I forgot my password. Thanks, Bo", 2)
    assert agents.confident and agents.results[0].slug == "reset-password"
    assert agents.results[0].confidence >= CONFIDENT
    assert agents.answer_card is None  # cards are for the public page
    assert not service.search("qwzx plorf", 3).confident
    assert service.search("qwzx plorf", 3, Audience.AGENT).answer_card is None
