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
from collections.abc import Callable, Iterable
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
class WordWeights:
    """The query's distinct stems with their weights, and which articles hold each (for one audience)."""

    weights: list[float]
    holders: list[np.ndarray]  # for each stem, one flag per article: whether a visible article holds it
    total: float

    def coverage(self, positions: np.ndarray) -> np.ndarray:
        """Each article's share of the query's word weight, 0..1."""
        covered = np.zeros(len(positions), dtype=np.float64)
        if not self.total:
            return covered
        for weight, holders in zip(self.weights, self.holders, strict=True):
            covered += weight * holders[positions]
        return covered / self.total


class Evidence:
    """One query's evidence about its candidate articles, and about any other article on demand.

    Cosines and word coverage come with the query's candidates (`kb.search.candidates`); those of an
    article that is not a candidate are computed when asked (`outside`). Articles the audience may
    not see have a cosine of -inf and no confidence.
    """

    def __init__(
        self,
        candidates: np.ndarray,
        cosines: np.ndarray,
        coverage: np.ndarray,
        spread: float,
        outside: Callable[[int], tuple[float, float]],
    ) -> None:
        self.candidates = {int(position): number for number, position in enumerate(candidates)}
        self.cosines = cosines  # each candidate's best raw cosine with the query
        self.coverage = coverage  # each candidate's share of the query's word weight, 0..1
        self.spread = spread  # the standard deviation of the query's cosines over the visible articles
        self.outside = outside  # (cosine, coverage) of an article that is not a candidate

    def evidence_of(self, position: int) -> tuple[float, float]:
        number = self.candidates.get(position)
        if number is None:
            return self.outside(position)
        return float(self.cosines[number]), float(self.coverage[number])

    def confidence(self, position: int) -> float:
        """How sure search is that article `position` answers the query, 0..1."""
        cosine, coverage = self.evidence_of(position)
        meaning = meaning_evidence(cosine)
        words = coverage**WORDS_POWER
        return round(1.0 - (1.0 - meaning) * (1.0 - words), 4)

    def card(self, position: int) -> bool:
        """Whether article `position` is sure enough to be shown inline (see the module's docstring).

        The runner-up is among the candidates: they hold the articles nearest in meaning.
        """
        cosine, _ = self.evidence_of(position)
        others = np.delete(self.cosines, self.candidates[position]) if position in self.candidates else self.cosines
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


def word_weights(query: str, lexical: LexicalIndex, chunk_article: np.ndarray, visible: np.ndarray) -> WordWeights:
    """The idf weight of each distinct stem of `query` in the audience's index, and the visible articles holding it.

    A stem no chunk holds weighs as much as the rarest and is held by no article.
    """
    stems = list(dict.fromkeys(stem_all(content_words(query))))
    documents = len(lexical.chunk_ids)
    weights, holders = [], []
    for stem in stems:
        chunk_ids, _ = lexical.postings(stem)
        frequency = max(len(chunk_ids), 1)
        weights.append(math.log(1.0 + (documents - frequency + 0.5) / (frequency + 0.5)))
        holds = np.zeros(len(visible), dtype=bool)
        holds[chunk_article[chunk_ids]] = True
        holders.append(holds & visible)
    return WordWeights(weights, holders, float(sum(weights)))
