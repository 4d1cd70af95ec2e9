"""Hybrid fusion on small constructed score arrays: when the words may change what meaning ranked."""

from __future__ import annotations

import numpy as np
import pytest

from kb.search.fusion import Fused, fuse, standardisation

ARTICLES = ["billing", "export", "login", "refunds", "sync", "webhooks"]
EVERYONE = np.ones(len(ARTICLES), dtype=bool)
# Meaning finds "sync" and "export" nearly tied (0.06 standard deviations apart), then the rest.
DENSE = [0.30, 0.61, 0.35, 0.20, 0.62, 0.50]
DENSE_ORDER = ["sync", "export", "webhooks", "login", "billing", "refunds"]
# Only "export" contains the rare word (an error code, a product name); "sync" has a common one once.
STANDOUT = [0.0, 9.5, 0.0, 0.0, 1.1, 0.0]


def fused(
    dense: list[float], lexical: list[float], words: int, code: bool = False, visible: np.ndarray = EVERYONE
) -> Fused:
    dense_scores, lexical_scores = np.array(dense), np.array(lexical)
    return fuse(dense_scores, dense_scores, lexical_scores, lexical_scores, visible, words, code, 0.3)


def order(dense: list[float], lexical: list[float], words: int, code: bool = False) -> list[str]:
    """Article names by fused score, each article a single chunk."""
    scores = fused(dense, lexical, words, code).article_scores
    return [ARTICLES[position] for position in np.argsort(-scores, kind="stable")]


def test_without_a_word_match_the_order_is_meanings() -> None:
    assert order(DENSE, [0.0] * 6, words=8) == DENSE_ORDER
    assert fused(DENSE, [0.0] * 6, words=8).trust.weight == 0.0


def test_a_rare_error_code_only_one_article_contains_wins_a_near_tie() -> None:
    # "E4012 export": two words, but one has a digit, which the model cannot read.
    assert order(DENSE, STANDOUT, words=2, code=True) == ["export", "sync", "webhooks", "login", "billing", "refunds"]
    assert fused(DENSE, STANDOUT, words=2, code=True).trust.weight == pytest.approx(0.281, abs=1e-3)


def test_word_matches_of_a_short_question_do_not_change_meanings_order() -> None:
    # "cross out text": the words match by accident; the model was trained on questions like this.
    assert order(DENSE, STANDOUT, words=2) == DENSE_ORDER
    # "change account settings": common words every article has, none standing out.
    assert order(DENSE, [2.1, 2.0, 2.3, 2.2, 1.9, 2.0], words=3) == DENSE_ORDER


def test_the_words_count_more_as_the_query_grows() -> None:
    lexical = [0.0, 6.0, 0.0, 0.0, 2.0, 0.0]
    assert order(DENSE, lexical, words=3) == DENSE_ORDER
    assert order(DENSE, lexical, words=15) == ["export", "sync", "webhooks", "login", "billing", "refunds"]
    weights = [fused(DENSE, lexical, words).trust.weight for words in (3, 4, 9, 15, 40)]
    assert weights == pytest.approx([0.0281, 0.0492, 0.1546, 0.2810, 0.2810], abs=1e-4)


def test_the_words_of_a_short_question_break_a_tie_of_meaning() -> None:
    # "invoice never arrived": meaning finds two articles equally close; "invoice" is in one of them.
    tied = [0.30, 0.62, 0.35, 0.20, 0.62, 0.50]
    assert order(tied, [0.0, 1.8, 4.0, 0.0, 0.9, 0.0], words=3)[:2] == ["export", "sync"]
    assert order(tied, [0.0, 0.9, 4.0, 0.0, 1.8, 0.0], words=3)[:2] == ["sync", "export"]


def test_words_do_not_overturn_a_leader_meaning_is_sure_of() -> None:
    sure = [0.30, 0.45, 0.35, 0.20, 0.70, 0.50]  # "sync" 1.25 standard deviations ahead
    assert order(sure, STANDOUT, words=20, code=True) == ["sync", "webhooks", "export", "login", "billing", "refunds"]
    assert fused(sure, STANDOUT, words=20).trust.dense_gap == pytest.approx(1.251, abs=1e-3)


def test_weak_word_matches_never_push_an_article_below_where_meaning_put_it() -> None:
    scores = fused(DENSE, [0.5, 9.5, 0.2, 0.0, 1.1, 0.3], words=20).article_scores
    mean, spread = standardisation(np.array(DENSE), EVERYONE)
    assert np.all(scores >= (np.array(DENSE) - mean) / spread - 1e-9)


def test_a_zero_weight_setting_ranks_by_meaning_alone() -> None:
    dense, lexical = np.array(DENSE), np.array(STANDOUT)
    scores = fuse(dense, dense, lexical, lexical, EVERYONE, 20, True, 0.0).article_scores
    assert [ARTICLES[position] for position in np.argsort(-scores, kind="stable")] == DENSE_ORDER


def test_the_words_choose_the_section_of_an_article_even_for_a_short_question() -> None:
    # "export" has two chunks: position 1 (the intro) and 6 (the section with the query's rare word).
    article_dense, article_lexical = np.array(DENSE), np.array(STANDOUT)
    chunk_dense = np.array([*DENSE, 0.60])
    chunk_lexical = np.array([0.0, 0.0, 0.0, 0.0, 1.1, 0.0, 9.5])
    result = fuse(chunk_dense, article_dense, chunk_lexical, article_lexical, EVERYONE, 2, False, 0.3)
    assert result.trust.weight == pytest.approx(0.0281, abs=1e-4)
    assert result.chunk_scores[6] > result.chunk_scores[1]


def test_articles_the_reader_may_not_see_do_not_shape_the_weight() -> None:
    visible = np.array([True, True, True, True, True, False])
    only_hidden = [0.0, 0.0, 0.0, 0.0, 0.0, 50.0]
    assert fused(DENSE, only_hidden, words=20, visible=visible).trust.weight == 0.0


def test_a_fixed_weight_ignores_the_querys_length_and_meanings_certainty() -> None:
    # A message's sentences are scored on one scale, so that kb.search.problems' thresholds mean one thing.
    dense, lexical = np.array(DENSE), np.array(STANDOUT)
    adaptive = fuse(dense, dense, lexical, lexical, EVERYONE, 2, False, 0.3)
    fixed = fuse(dense, dense, lexical, lexical, EVERYONE, 2, False, 0.3, fixed=True)
    assert adaptive.trust.weight < 0.3
    assert fixed.trust.weight == 0.3
    lexical_z = (lexical - lexical.mean()) / lexical.std()
    dense_z = (dense - dense.mean()) / dense.std()
    assert np.allclose(fixed.article_scores, dense_z + 0.3 * np.maximum(lexical_z, 0.0))
