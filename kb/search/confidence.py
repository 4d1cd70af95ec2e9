"""How sure search is of each result, from evidence that does not depend on how the rankers' scores are fused.

The fused score only orders articles: its scale moves with the fusion method, the query and the help
center. Confidence is judged apart, per article, from two kinds of evidence that mean the same on any
help center:

- meaning: the raw cosine between the query and the article's best passage. The embedding model puts
  texts about different things below about 0.3 and a question near its answer well above 0.45,
  whatever the articles are about; `MEANING_MIDPOINT` is where that evidence is even.
- words: the share of the query's word weight (inverse document frequency; a word no article holds
  weighs as much as the rarest, and is found nowhere) that the article contains. Only near-complete
  coverage counts (`WORDS_POWER`): a query whose every rare word one article holds is answered there,
  one that shares a few words with it is not.

The two are independent signs that the article answers, combined as either being right
(1 - (1 - meaning)(1 - words)). A response is confident when one of its results reaches `CONFIDENT`.

The answer card needs more: near-certain meaning (`CARD`) and the top article clear of every other by
`CARD_MARGIN` standard deviations of the query's cosines, since when two articles are about equally close
either may be the answer, and a card that answers the wrong question is worse than none.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from kb.index.lexical import LexicalIndex, content_words, stem_all

MEANING_MIDPOINT = 0.35  # cosine at which meaning alone is as likely to answer as not
MEANING_WIDTH = 0.05  # cosine change that moves that evidence by one unit of log-odds
WORDS_POWER = 4  # coverage 1 counts fully, 0.8 for 0.41, 0.5 for 0.06
CONFIDENT = 0.5  # a result at or above this is confident
CARD = 0.99  # the meaning evidence the answer card needs (a cosine of about 0.58)
CARD_MARGIN = 0.75  # how far, in standard deviations of the query's cosines, the card's article leads the rest


@dataclass(frozen=True)
class Evidence:
    """One query's evidence about every article of the help center (positions as in `SearchService.slugs`)."""

    cosine: np.ndarray  # each article's best raw cosine with the query; -inf for articles not visible
    coverage: np.ndarray  # share of the query's word weight each article contains, 0..1
    spread: float  # the standard deviation of the query's cosines over the visible articles

    def confidence(self, position: int) -> float:
        """How sure search is that article `position` answers the query, 0..1."""
        meaning = meaning_evidence(float(self.cosine[position]))
        words = float(self.coverage[position]) ** WORDS_POWER
        return round(1.0 - (1.0 - meaning) * (1.0 - words), 4)

    def card(self, position: int) -> bool:
        """Whether article `position` is sure enough to be shown inline (see the module's docstring)."""
        cosine = float(self.cosine[position])
        others = np.delete(self.cosine, position)
        runner_up = float(others.max()) if len(others) else -math.inf
        return meaning_evidence(cosine) >= CARD and (cosine - runner_up) / self.spread >= CARD_MARGIN


def meaning_evidence(cosine: float) -> float:
    """How likely a passage this close in meaning answers the query, 0..1 (0 for an article not visible)."""
    if not math.isfinite(cosine):
        return 0.0
    return 1.0 / (1.0 + math.exp(-(cosine - MEANING_MIDPOINT) / MEANING_WIDTH))


def is_confident(confidences: Iterable[float]) -> bool:
    """Whether a response with results of these confidences is confident: at least one of them is."""
    return any(confidence >= CONFIDENT for confidence in confidences)


def gather(
    query: str,
    article_cosines: np.ndarray,
    visible: np.ndarray,
    lexical: LexicalIndex,
    chunk_article: np.ndarray,
    chunk_count: int,
) -> Evidence:
    """The evidence of `query`, whose best cosine per article is `article_cosines`, for one audience.

    Args:
        visible: which articles the audience may see.
        lexical: the audience's BM25 index, for document frequencies and which chunks hold a word.
        chunk_article: each chunk's article position.
    """
    values = article_cosines[visible]
    spread = float(values.std()) if len(values) else 0.0
    return Evidence(
        cosine=np.where(visible, article_cosines, -np.inf),
        coverage=word_coverage(query, lexical, chunk_article, chunk_count, len(article_cosines)),
        spread=max(spread, 1e-6),
    )


def word_coverage(
    query: str, lexical: LexicalIndex, chunk_article: np.ndarray, chunk_count: int, article_count: int
) -> np.ndarray:
    """Each article's share of the query's word weight: the idf of each distinct query stem it contains."""
    stems = list(dict.fromkeys(stem_all(content_words(query))))
    covered = np.zeros(article_count, dtype=np.float64)
    if not stems:
        return covered
    documents = len(lexical.chunk_ids)
    total = 0.0
    for stem in stems:
        present = lexical.scores([stem], chunk_count) > 0
        frequency = int(present.sum())
        weight = math.log(1.0 + (documents - max(frequency, 1) + 0.5) / (max(frequency, 1) + 0.5))
        total += weight
        if frequency:
            holds = np.zeros(article_count, dtype=bool)
            holds[chunk_article[present]] = True
            covered += weight * holds
    return covered / total if total else covered
