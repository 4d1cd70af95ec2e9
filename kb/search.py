"""Search: query -> vector -> top chunks -> one result per article, best section first."""

from __future__ import annotations

import enum
import re
import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from kb.embedding import Embedder
from kb.errors import QueryError
from kb.index_format import ArticleRecord, ChunkRecord, PublishedIndex
from kb.urls import article_url

SNIPPET_CHARACTERS = 220
QUERY_CACHE_SIZE = 2048


class Audience(enum.Enum):
    """Who is searching decides which articles may be returned."""

    PUBLIC = "public"  # customers: public, published articles only
    AGENT = "agent"  # support agents: internal articles too
    PREVIEW = "preview"  # writers: drafts too

    def may_see(self, article: ArticleRecord) -> bool:
        if self is Audience.PUBLIC:
            return article.is_public
        if self is Audience.AGENT:
            return not article.draft
        return True


@dataclass(frozen=True)
class SearchResult:
    slug: str
    title: str
    url: str
    section: str
    score: float
    snippet: str
    visibility: str


@dataclass(frozen=True)
class SearchResponse:
    query: str
    results: list[SearchResult]

    def to_json(self, include_visibility: bool = False) -> dict[str, Any]:
        results = []
        for result in self.results:
            item = asdict(result)
            if not include_visibility:
                del item["visibility"]
            results.append(item)
        return {"query": self.query, "results": results}


def normalize_query(query: str, max_length: int) -> str:
    """Collapse whitespace and enforce the length limit.

    Raises:
        QueryError: the query is empty or longer than `max_length` characters.
    """
    text = re.sub(r"\s+", " ", query or "").strip()
    if not text:
        raise QueryError("the search query is empty: type a question or a few words")
    if len(text) > max_length:
        raise QueryError(f"the search query is {len(text)} characters long; the limit is {max_length}")
    return text


def make_snippet(text: str, limit: int = SNIPPET_CHARACTERS) -> str:
    """The start of a passage, cut at a word boundary."""
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(",.;:") + " …"


class QueryVectorCache:
    """Remembers the vectors of recent queries: people ask the same things again and again."""

    def __init__(self, embedder: Embedder, size: int = QUERY_CACHE_SIZE) -> None:
        self.embedder = embedder
        self.size = size
        self.vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self.lock = threading.Lock()

    def vector(self, query: str) -> np.ndarray:
        key = query.lower()
        with self.lock:
            if key in self.vectors:
                self.vectors.move_to_end(key)
                return self.vectors[key]
        vector = self.embedder.encode([query])[0]
        with self.lock:
            self.vectors[key] = vector
            while len(self.vectors) > self.size:
                self.vectors.popitem(last=False)
        return vector


class SearchService:
    """Answers queries against one published index."""

    def __init__(self, index: PublishedIndex, embedder: Embedder, max_query_length: int = 300,
                 max_results: int = 50, query_vectors: QueryVectorCache | None = None) -> None:
        self.index = index
        self.max_query_length = max_query_length
        self.max_results = max_results
        self.query_vectors = query_vectors or QueryVectorCache(embedder)
        self.allowed_ids = {
            audience: np.array([chunk.id for chunk in index.chunks
                                if audience.may_see(index.articles[chunk.slug])], dtype=np.int64)
            for audience in Audience
        }

    def search(self, query: str, k: int = 10, audience: Audience = Audience.PUBLIC) -> SearchResponse:
        """The best `k` articles for `query` that `audience` may see, each with its best section.

        Raises:
            QueryError: the query is empty or too long, or `k` is out of range.
        """
        text = normalize_query(query, self.max_query_length)
        if not 1 <= k <= self.max_results:
            raise QueryError(f"the number of results must be between 1 and {self.max_results}, got {k}")
        vector = self.query_vectors.vector(text)
        best = self.best_chunk_per_article(vector, k, self.allowed_ids[audience])
        return SearchResponse(text, [self.result(chunk, score) for chunk, score in best])

    def best_chunk_per_article(self, vector: np.ndarray, k: int, allowed: np.ndarray
                               ) -> list[tuple[ChunkRecord, float]]:
        candidates = min(len(allowed), max(k * 8, 64))
        while True:
            scores, ids = self.index.vectors.search(vector[np.newaxis, :], candidates, allowed)
            best: dict[str, tuple[ChunkRecord, float]] = {}
            for score, chunk_id in zip(scores[0], ids[0], strict=False):
                if chunk_id < 0:
                    continue
                chunk = self.index.chunks[chunk_id]
                if chunk.slug not in best:
                    best[chunk.slug] = (chunk, float(score))
            if len(best) >= k or candidates >= len(allowed):
                return list(best.values())[:k]
            candidates = min(len(allowed), candidates * 4)

    def result(self, chunk: ChunkRecord, score: float) -> SearchResult:
        article = self.index.articles[chunk.slug]
        snippet_source = chunk.text
        if chunk.kind == "question":
            snippet_source = article.summary or chunk.text
        return SearchResult(
            slug=article.slug,
            title=article.title,
            url=article_url(article.slug, chunk.anchor),
            section=chunk.section,
            score=round(score, 4),
            snippet=make_snippet(snippet_source),
            visibility=article.visibility,
        )
