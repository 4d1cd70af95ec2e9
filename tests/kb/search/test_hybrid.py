"""Hybrid ranking: z-score fusion, typo correction, synonyms, snippets with highlights, re-ranking."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from kb.config import Settings
from kb.errors import ConfigError
from kb.index.format import load_published_index
from kb.search.fusion import fuse, standardisation
from kb.search.service import Audience, SearchService
from kb.search.snippets import best_passage, highlight, split_sentences
from kb.search.spelling import SpellingCorrector
from kb.search.synonyms import Synonyms
from tests.conftest import FakeEmbedder


def service_for(settings: Settings, embedder: FakeEmbedder, **changes: Any) -> SearchService:
    return SearchService(load_published_index(settings.index), embedder, dataclasses.replace(settings, **changes))


def all_scores(service: SearchService, query: str, mode: str) -> dict[str, float]:
    results = service.search(query, k=service.settings.max_results, mode=mode).results
    return {result.slug: result.score for result in results}


def test_hybrid_score_is_standardised_meaning_plus_the_trusted_standout_of_words(
    built_settings: Settings, fake_embedder: FakeEmbedder
) -> None:
    service = service_for(built_settings, fake_embedder, lexical_weight=0.5)
    query = "reset email spam folder"
    dense, lexical, hybrid = (all_scores(service, query, mode) for mode in ("dense", "lexical", "hybrid"))
    public = sorted(dense)
    assert public == ["invoice-basics", "reset-password", "welcome"]
    dense_values = np.array([dense[slug] for slug in public])
    lexical_values = np.array([lexical.get(slug, 0.0) for slug in public])
    everyone = np.ones(len(public), dtype=bool)
    trust = fuse(dense_values, dense_values, lexical_values, lexical_values, everyone, 4, False, 0.5).trust
    assert (trust.query_words, round(trust.dense_gap, 2)) == (4, 1.05)  # meaning is sure: the words get no say
    weight = trust.weight
    expected_dense = (dense_values - dense_values.mean()) / dense_values.std()
    expected_lexical = np.maximum((lexical_values - lexical_values.mean()) / lexical_values.std(), 0)
    for position, slug in enumerate(public):
        assert hybrid[slug] == pytest.approx(expected_dense[position] + weight * expected_lexical[position], abs=2e-3)


def test_lexical_weight_zero_ranks_like_dense(built_settings: Settings, fake_embedder: FakeEmbedder) -> None:
    service = service_for(built_settings, fake_embedder, lexical_weight=0.0)
    query = "team members join settings"
    dense = [result.slug for result in service.search(query, 3, mode="dense").results]
    assert [result.slug for result in service.search(query, 3, mode="hybrid").results] == dense


def test_standardisation_handles_flat_scores() -> None:
    scores = np.array([1.0, 3.0, 100.0], dtype=np.float32)
    mean, spread = standardisation(scores, np.array([True, True, False]))
    assert (mean, spread) == (2.0, 1.0)
    assert standardisation(np.array([4.0, 4.0]), np.array([True, True])) == (4.0, 1.0)


def test_misspelled_query_is_corrected_and_still_finds_the_article(
    built_settings: Settings, fake_embedder: FakeEmbedder
) -> None:
    response = service_for(built_settings, fake_embedder).search("pasword resett", k=2)
    assert response.corrected_query == "password reset"
    assert response.query == "pasword resett"
    assert response.results[0].slug == "reset-password"
    assert (
        service_for(built_settings, fake_embedder, correct_spelling=False).search("pasword resett", k=2).corrected_query
        is None
    )


def test_spelling_corrector_prefers_common_words_and_spares_real_ones() -> None:
    corrector = SpellingCorrector({"invoice": 30, "invoices": 9, "voice": 1, "refund": 4}, ["phone"])
    assert corrector.correct_word("invoce") == "invoice"
    assert corrector.correct_word("refnud") == "refund"  # a swap counts as one edit
    assert corrector.correct_word("phone") is None  # a real word the help center lacks
    assert corrector.correct_word("xyzzyq") is None  # nothing close enough
    assert corrector.correct_word("teh") is None  # too short to correct safely
    assert corrector.correct("Invoce for my refund") == "invoice for my refund"


def test_synonyms_let_customer_words_match_product_words(
    tmp_path: Path, built_settings: Settings, fake_embedder: FakeEmbedder
) -> None:
    synonyms = tmp_path / "synonyms.yml"
    synonyms.write_text("- [receipt, invoice]\n- [sign in, log in, login]\n")
    service = service_for(built_settings, fake_embedder, synonyms=str(synonyms))
    assert service.search("receipt", k=1, mode="lexical").results[0].slug == "invoice-basics"
    plain = service_for(built_settings, fake_embedder)
    assert plain.search("receipt", k=1, mode="lexical").results == []
    assert Synonyms.load(str(synonyms)).expand(["receipt"]) == ["receipt", "invoic"]


def test_a_broken_synonyms_file_is_a_clear_error(tmp_path: Path) -> None:
    broken = tmp_path / "synonyms.yml"
    broken.write_text("bill: invoice\n")
    with pytest.raises(ConfigError, match="expected a list of groups"):
        Synonyms.load(str(broken))
    with pytest.raises(ConfigError, match="cannot be read"):
        Synonyms.load(str(tmp_path / "missing.yml"))
    broken.write_text("- [receipt, invoice]\n- [sign in, log in\n")
    # The line that opened the list, in plain words (kb.content.safe_yaml.describe_error).
    with pytest.raises(ConfigError, match=r"synonyms.yml:2: invalid YAML: the '\[' opened on this line is never"):
        Synonyms.load(str(broken))


def test_synonyms_that_look_like_dates_or_numbers_are_words(tmp_path: Path) -> None:
    synonyms = tmp_path / "synonyms.yml"
    # PyYAML's own loader raised ValueError on the impossible date and made 404 a number.
    synonyms.write_text("- [2026-02-30, launch day]\n- [404, not found]\n- [1.5, one and a half]\n")
    loaded = Synonyms.load(str(synonyms))
    assert loaded.expand(["404"]) == ["404", "found", "not"]
    assert loaded.expand(["launch"]) == ["launch", "02", "2026", "30", "day"]
    assert loaded.expand(["half"])[:1] == ["half"]


def test_snippet_is_the_passage_that_matches_and_links_the_section(
    built_settings: Settings, fake_embedder: FakeEmbedder
) -> None:
    result = service_for(built_settings, fake_embedder).search("spam folder", k=1).results[0]
    assert (result.slug, result.section) == ("reset-password", "The reset email never arrives")
    assert result.url == "/articles/reset-password#the-reset-email-never-arrives"
    assert result.snippet == "Check your spam folder and wait five minutes."
    assert str(result.snippet_html) == "Check your <mark>spam</mark> <mark>folder</mark> and wait five minutes."


def test_best_passage_picks_the_sentences_with_the_query_words() -> None:
    text = (
        "Open Settings. Choose a plan that fits. Annual billing saves two months. "
        "Refunds for annual plans are prorated. Contact us any time."
    )
    passage = best_passage(split_sentences(text), {"refund", "annual"}, limit=80)
    assert passage == "Annual billing saves two months. Refunds for annual plans are prorated."


def test_highlighting_escapes_html_and_marks_stemmed_matches() -> None:
    html = str(highlight('Refunds <script>alert("x")</script> & refunding', {"refund", "script"}))
    assert html == (
        "<mark>Refunds</mark> &lt;<mark>script</mark>&gt;alert(&#34;x&#34;)&lt;/<mark>script</mark>&gt; "
        "&amp; <mark>refunding</mark>"
    )


def test_a_reranker_reorders_the_top_results(built_settings: Settings, fake_embedder: FakeEmbedder) -> None:
    class PrefersWelcome:
        def score(self, query: str, passages: list[str]) -> list[float]:
            return [10.0 if passage.startswith("Welcome") else 0.0 for passage in passages]

    settings = dataclasses.replace(built_settings, rerank_depth=3)
    service = SearchService(
        load_published_index(built_settings.index), fake_embedder, settings, reranker=PrefersWelcome()
    )
    results = service.search("reset password email", k=3).results
    assert results[0].slug == "welcome"
    assert results[0].score == 10.0
    assert "reset-password" in [result.slug for result in results[1:]]


def test_internal_articles_stay_out_of_every_mode(built_settings: Settings, fake_embedder: FakeEmbedder) -> None:
    service = service_for(built_settings, fake_embedder)
    for mode in ("hybrid", "dense", "lexical"):
        slugs = [result.slug for result in service.search("refund escalation Admin Console", 20, mode=mode).results]
        assert "refund-escalation-playbook" not in slugs
    agent = service.search("refund escalation Admin Console", 1, Audience.AGENT, mode="lexical").results
    assert agent[0].slug == "refund-escalation-playbook"
