"""What one query finds, without scoring every chunk: the candidate articles and the scale of the rest.

Ranking needs two things of a query: exact scores for the articles that can reach the top, and the
mean and spread of the scores over every article the reader may see (fusion standardises both
rankers' scores; confidence measures the top cosine's lead in spreads). Neither needs every chunk:

- candidates: the articles of the chunks nearest in meaning (the vector index's `top`, approximate
  above a size) and of the chunks with the best BM25 (read from the postings of the query's stems
  only). Each candidate's chunks are then scored exactly, from the vectors kept in memory.
- the dense scale: estimated from a fixed sample of the visible articles (all of them in a help
  center of up to `STATS_SAMPLE` articles, so there it is exact).
- the lexical scale: exact, from the postings: an article no query stem occurs in scores 0.

An article that is neither near in meaning nor among the best word matches cannot reach the top:
its dense score is below every dense candidate's and its lexical score below every lexical one's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from kb.index.format import Audience
from kb.index.lexical import LexicalIndex
from kb.index.vectors import VectorIndex, best_first
from kb.search.fusion import Scale

DENSE_CANDIDATES = 256  # nearest chunks fetched per query, at least
CHUNKS_PER_RESULT = 8  # ... and this many per article wanted, so a long article's chunks cannot crowd out the rest
LEXICAL_CANDIDATES = 64  # articles with the best BM25 scores added as candidates
STATS_SAMPLE = 1024  # visible articles whose best cosines estimate a query's dense mean and spread
SAMPLE_SEED = 20261124


@dataclass(frozen=True)
class QueryScores:
    """One query's exact scores for its candidate articles, and the scale of all visible articles' scores.

    `positions` are article positions (as in `SearchService.slugs`), best dense first; the chunks of
    candidate `i` are `chunk_ids[starts[i]:starts[i + 1]]`.
    """

    positions: np.ndarray
    chunk_ids: np.ndarray
    starts: np.ndarray  # one more than `positions`: the end of the last article's chunks
    chunk_dense: np.ndarray  # cosine of each chunk; 0 when the query was not embedded (lexical mode)
    chunk_lexical: np.ndarray  # BM25 of each chunk; 0 where no query stem occurs
    article_dense: np.ndarray
    article_lexical: np.ndarray
    dense_scale: Scale
    lexical_scale: Scale
    cosine_spread: float  # standard deviation of the visible articles' best cosines (the confidence scale)

    def chunks_of(self, candidate: int) -> np.ndarray:
        return self.chunk_ids[self.starts[candidate] : self.starts[candidate + 1]]

    def slice_of(self, candidate: int) -> slice:
        return slice(int(self.starts[candidate]), int(self.starts[candidate + 1]))


class ArticleChunks:
    """Each article's chunk ids, stored so that the chunks of many articles are gathered in one step."""

    def __init__(self, chunk_article: np.ndarray, article_count: int) -> None:
        self.chunk_article = chunk_article
        self.order = np.argsort(chunk_article, kind="stable")  # chunk ids grouped by article, in id order
        counts = np.bincount(chunk_article, minlength=article_count)
        self.indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)

    def gather(self, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(chunk ids of the articles at `positions`, grouped in that order; where each group starts, and the end)."""
        lengths = self.indptr[positions + 1] - self.indptr[positions]
        starts = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        offsets = np.repeat(self.indptr[positions] - starts[:-1], lengths) + np.arange(starts[-1])
        return self.order[offsets], starts


def group_max(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """The maximum of each group `values[starts[i]:starts[i + 1]]` (groups are never empty)."""
    if len(starts) <= 1:
        return np.zeros(0, dtype=np.float32)
    return np.maximum.reduceat(values, starts[:-1]).astype(np.float32)


class SampledScale:
    """A fixed sample of one audience's visible articles, with their chunks' vectors side by side in memory."""

    def __init__(self, visible: np.ndarray, chunks: ArticleChunks, vectors: VectorIndex) -> None:
        positions = np.flatnonzero(visible & (np.diff(chunks.indptr) > 0))
        if len(positions) > STATS_SAMPLE:
            generator = np.random.default_rng(SAMPLE_SEED)
            positions = np.sort(generator.choice(positions, STATS_SAMPLE, replace=False))
        chunk_ids, self.starts = chunks.gather(positions)
        self.matrix = np.ascontiguousarray(vectors.vectors(chunk_ids))

    def best_cosines(self, vector: np.ndarray) -> np.ndarray:
        return group_max(self.matrix @ vector, self.starts)


class CandidateFinder:
    """Finds a query's candidates and scale in one build, for each audience (see the module's docstring)."""

    def __init__(
        self,
        vectors: VectorIndex,
        lexical: dict[Audience, LexicalIndex],
        chunk_article: np.ndarray,
        visible: dict[Audience, np.ndarray],
    ) -> None:
        self.vectors = vectors
        self.lexical = lexical
        self.chunk_article = chunk_article
        self.visible = visible
        self.chunks = ArticleChunks(chunk_article, len(next(iter(visible.values()))))
        self.samples: dict[Audience, SampledScale] = {}

    def sample(self, audience: Audience) -> SampledScale:
        if audience not in self.samples:
            self.samples[audience] = SampledScale(self.visible[audience], self.chunks, self.vectors)
        return self.samples[audience]

    def warm_up(self) -> None:
        """Build what the first queries would otherwise build: the vector matrix and each audience's sample."""
        for audience in self.visible:
            self.sample(audience)

    def find(
        self, vector: np.ndarray, stems: list[str], audience: Audience, wanted: int, by_words: bool = False
    ) -> QueryScores:
        """The candidates of a query embedded as `vector` with stemmed words `stems`.

        At least `wanted` articles that `audience` may see are candidates when that many exist;
        `by_words`: that many of the best word matches as well (ranking by words alone).
        """
        visible = self.visible[audience]
        nearest = self.nearest_articles(vector, visible, wanted)
        matched_chunks, matched_scores = self.lexical[audience].matches(stems)
        matched, best, lexical_scale = self.word_matches(matched_chunks, matched_scores, visible)
        best_words = matched[best_first(best, max(wanted, LEXICAL_CANDIDATES) if by_words else LEXICAL_CANDIDATES)]
        taken = np.zeros(len(visible), dtype=bool)
        taken[nearest] = True
        positions = np.concatenate([nearest, best_words[~taken[best_words]]]).astype(np.int64)
        chunk_ids, starts = self.chunks.gather(positions)
        chunk_dense = (self.vectors.vectors(chunk_ids) @ vector).astype(np.float32)
        chunk_lexical = lookup(matched_chunks, matched_scores, chunk_ids)
        sampled = self.sample(audience).best_cosines(vector)
        return QueryScores(
            positions=positions,
            chunk_ids=chunk_ids,
            starts=starts,
            chunk_dense=chunk_dense,
            chunk_lexical=chunk_lexical,
            article_dense=group_max(chunk_dense, starts),
            article_lexical=group_max(chunk_lexical, starts),
            dense_scale=Scale.of(sampled),
            lexical_scale=lexical_scale,
            cosine_spread=max(float(sampled.std()) if len(sampled) else 0.0, 1e-6),
        )

    def nearest_articles(self, vector: np.ndarray, visible: np.ndarray, wanted: int) -> np.ndarray:
        """Positions of the visible articles of the chunks nearest `vector`, nearest first: `wanted` or more
        (two at least, for the runner-up that fusion and the answer card measure against) when that many exist."""
        wanted = min(max(wanted, 2), int(visible.sum()))
        fetch = max(DENSE_CANDIDATES, CHUNKS_PER_RESULT * wanted)
        while True:
            _, ids = self.vectors.top(vector, fetch)
            articles = self.chunk_article[ids]
            articles = articles[visible[articles]]
            _, first = np.unique(articles, return_index=True)
            positions = articles[np.sort(first)]
            if len(positions) >= wanted or fetch >= self.vectors.size:
                return positions
            fetch *= 4

    def word_matches(
        self, chunk_ids: np.ndarray, scores: np.ndarray, visible: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, Scale]:
        """The visible articles of the matching `chunk_ids`, their best chunk's BM25 score, and the exact lexical scale.

        Every other visible article scores 0, so the mean and spread come from the matches alone.
        """
        count = int(visible.sum())
        articles = self.chunk_article[chunk_ids]
        keep = visible[articles]
        best_of_all = np.zeros(len(visible), dtype=np.float32)
        np.maximum.at(best_of_all, articles[keep], scores[keep])
        matched = np.flatnonzero(best_of_all)  # a BM25 score is positive wherever a query stem occurs
        best = best_of_all[matched]
        if count == 0:
            return matched, best, Scale(0.0, 1.0)
        mean = float(best.sum(dtype=np.float64)) / count
        variance = max(float(np.square(best, dtype=np.float64).sum()) / count - mean * mean, 0.0)
        spread = math.sqrt(variance)
        return matched, best, Scale(mean, spread if spread > 1e-9 else 1.0)


def lookup(keys: np.ndarray, values: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """`values` of each of `wanted` in `keys` (distinct), 0 where absent."""
    if not len(keys) or not len(wanted):
        return np.zeros(len(wanted), dtype=np.float32)
    if np.any(keys[1:] < keys[:-1]):
        order = np.argsort(keys)
        keys, values = keys[order], values[order]
    rows = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
    return np.where(keys[rows] == wanted, values[rows], 0.0).astype(np.float32)
