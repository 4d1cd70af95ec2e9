"""Hybrid fusion: meaning ranks, and words count only as far as this query's scores say they can be trusted.

Both rankers' article scores are standardised over the articles the reader may see (z-scores), so each
is measured by how far an article stands out from the rest for this query. Meaning (dense) is the
base; the lexical z-score is added with a weight decided per query, from two signals:

- how long the query is: a short question is what the model was trained on, and meaning ranks it
  best, its words only breaking near-ties (word matches on a few words are mostly accidents:
  "cross out text" matches the wrong product's article); a long message (a whole customer email)
  dilutes its embedding, while every word it shares with an article is more evidence for it. A
  word with a digit in it (an error code, a version, an order number) counts as a long query on
  its own: the model cannot read it.
- how sure meaning is: when the dense leader stands clearly ahead of the runner-up, words do not
  overturn it; when meaning finds several articles about equally close, words decide between them.

Only articles that stand out lexically (a positive z-score) gain, so the crowd of weak matches never
pushes an article below where meaning put it. Measured on the development sets and on variants of
them (short FAQ entries, titles only, no titles), this never ranked below dense alone, where a
fixed weight lost on short FAQs (see docs/FUSION.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SHORT_QUERY = 3  # content words up to which a query is left (nearly) to meaning alone ...
LONG_QUERY = 15  # ... and from which its words get their full weight (linear between)
SHORT_QUERY_SHARE = 0.1  # the share of the weight a short question keeps: enough to break a tie of meaning
SURE_GAP = 1.0  # dense standard deviations between the dense leader and the runner-up that leave words no say


@dataclass(frozen=True)
class Scale:
    """The mean and standard deviation of one ranker's article scores over the articles a reader may see."""

    mean: float
    spread: float  # 1.0 when every score is equal, so that standardising never divides by zero

    @classmethod
    def of(cls, values: np.ndarray) -> Scale:
        if not len(values):
            return cls(0.0, 1.0)
        spread = float(values.std())
        return cls(float(values.mean()), spread if spread > 1e-9 else 1.0)


def standardisation(scores: np.ndarray, mask: np.ndarray) -> tuple[float, float]:
    """Mean and standard deviation of the masked scores (a spread of 1 when they are all equal)."""
    scale = Scale.of(scores[mask])
    return scale.mean, scale.spread


@dataclass(frozen=True)
class LexicalTrust:
    """What the weight of the lexical evidence was decided from, for one query."""

    query_words: int  # distinct content words of the query
    has_code: bool  # a query word has a digit in it
    dense_gap: float  # the dense leader's lead over the runner-up, in dense standard deviations
    weight: float  # what the positive lexical z-scores are multiplied by


def lexical_trust(
    dense_z: np.ndarray, lexical: np.ndarray, query_words: int, has_code: bool, max_weight: float
) -> LexicalTrust:
    """The weight of lexical evidence for one query, from the standardised dense scores of the visible
    articles and their raw BM25 scores (0 where no query word matched).

    `max_weight` is the weight of a long query when meaning cannot tell its leaders apart.
    """
    if not np.any(lexical > 0) or len(dense_z) < 2:
        return LexicalTrust(query_words, has_code, 0.0, 0.0)
    first, second = np.partition(dense_z, len(dense_z) - 2)[-1:-3:-1]
    dense_gap = float(first - second)
    growth = float(np.clip((query_words - SHORT_QUERY) / (LONG_QUERY - SHORT_QUERY), 0.0, 1.0))
    length = 1.0 if has_code else SHORT_QUERY_SHARE + (1.0 - SHORT_QUERY_SHARE) * growth
    unsure = float(np.clip(1.0 - dense_gap / SURE_GAP, 0.0, 1.0))
    weight = max_weight * length * unsure
    return LexicalTrust(query_words, has_code, dense_gap, weight)


@dataclass(frozen=True)
class Fused:
    chunk_scores: np.ndarray
    article_scores: np.ndarray
    trust: LexicalTrust


def fuse(
    chunk_dense: np.ndarray,
    article_dense: np.ndarray,
    chunk_lexical: np.ndarray,
    article_lexical: np.ndarray,
    visible: np.ndarray,
    query_words: int,
    has_code: bool,
    max_weight: float,
    fixed: bool = False,
    scales: tuple[Scale, Scale] | None = None,
) -> Fused:
    """Hybrid scores of chunks and articles: standardised meaning plus the trusted standout of words.

    `query_words` is the number of distinct content words of the query, `has_code` whether one of
    them has a digit. `fixed` gives the words `max_weight` whatever the query (the sentences of a
    message, whose scores `kb.search.problems` compares with fixed thresholds). `scales` are the
    dense and lexical scales of every visible article when the arrays hold only some of them (a
    query's candidates, `kb.search.candidates`); without them they are measured on the visible ones.

    Chunk scores only choose each article's section: they are on their article's scale (the same
    means and spreads), and the words always count there with `max_weight`, since within an article
    that meaning ranked they point at the passage that answers.
    """
    dense, lexical = scales or (Scale.of(article_dense[visible]), Scale.of(article_lexical[visible]))
    dense_mean, dense_spread, lexical_mean, lexical_spread = dense.mean, dense.spread, lexical.mean, lexical.spread
    article_dense_z = (article_dense - dense_mean) / dense_spread
    article_lexical_z = (article_lexical - lexical_mean) / lexical_spread
    trust = lexical_trust(article_dense_z[visible], article_lexical[visible], query_words, has_code, max_weight)
    if fixed:
        trust = LexicalTrust(query_words, has_code, trust.dense_gap, max_weight)
    chunk_dense_z = (chunk_dense - dense_mean) / dense_spread
    chunk_lexical_z = (chunk_lexical - lexical_mean) / lexical_spread
    return Fused(
        chunk_dense_z + max(trust.weight, max_weight) * np.maximum(chunk_lexical_z, 0.0),
        article_dense_z + trust.weight * np.maximum(article_lexical_z, 0.0),
        trust,
    )
