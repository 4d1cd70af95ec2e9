"""Search: a query is ranked by meaning (dense vectors) and by words (BM25), fused per article.

query -> spelling correction -> dense chunk scores + BM25 chunk scores -> per-article fusion
      -> best section per article -> optional re-ranking -> results with highlighted snippets
"""

from __future__ import annotations

import math
import re
import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
from markupsafe import Markup

from kb.config import SearchMode, Settings
from kb.content.articles import Visibility
from kb.content.chunking import ChunkKind
from kb.errors import QueryError
from kb.index.embedder import Embedder
from kb.index.format import ArticleRecord, Audience, ChunkRecord, PublishedIndex
from kb.index.lexical import tokenize
from kb.search.answer_card import AnswerCard, answer_card
from kb.search.candidates import CandidateFinder, QueryScores
from kb.search.confidence import Evidence, is_confident, word_weights
from kb.search.customer_messages import clean_message
from kb.search.fusion import fuse
from kb.search.problems import Problem, group_problems, merge, problem_sentences
from kb.search.reranking import Reranker
from kb.search.snippets import Sentences, best_passage, highlight, split_sentences
from kb.search.spelling import SpellingCorrector
from kb.search.synonyms import Synonyms
from kb.urls import article_url

QUERY_CACHE_SIZE = 2048
COMMON_SHARE = 0.9  # a stem in this share of the articles or more is too common to highlight
COMMON_MINIMUM = 10  # articles a help center needs before any word counts as common
SENTENCE_CACHE_SIZE = 50_000
Memo = dict[tuple[str, "Audience", bool], QueryScores]  # one answer's candidates, by (text, audience, by words)


@dataclass(frozen=True)
class SearchResult:
    slug: str
    title: str
    url: str
    section: str
    score: float
    snippet: str
    visibility: Visibility
    confidence: float = 0.0  # how sure search is that this article answers the query, 0..1 (kb.search.confidence)
    answers: str | None = None  # the sentence of a many-problem message this result answers
    query_stems: frozenset[str] = field(default=frozenset(), compare=False, repr=False)

    @property
    def snippet_html(self) -> Markup:
        """The snippet, HTML-escaped, with the words the query shares in <mark>."""
        return highlight(self.snippet, set(self.query_stems))


@dataclass(frozen=True)
class SearchResponse:
    query: str
    results: list[SearchResult]
    corrected_query: str | None = None  # what was searched for when the query had typos
    confident: bool = False  # whether at least one result is confident: if not, say so and offer the contact form
    answer_card: AnswerCard | None = None  # the top section, shown inline when search is sure enough of it

    def to_json(self, include_visibility: bool = False) -> dict[str, Any]:
        results = []
        for result in self.results:
            item = asdict(result)
            del item["query_stems"]
            if not include_visibility:
                del item["visibility"]
            results.append(item)
        card = self.answer_card.to_json() if self.answer_card is not None else None
        return {"query": self.query, "results": results, "confident": self.confident, "answer_card": card}


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


def common_stems(index: PublishedIndex, chunk_article: np.ndarray) -> frozenset[str]:
    """Stems in at least `COMMON_SHARE` of the articles (of a help center of `COMMON_MINIMUM` or more).

    A word in nearly every article, most often the product's name, tells the reader nothing about
    why a result matched: it is neither highlighted nor used to pick the snippet. An article's words
    are those BM25 matches in its chunks (its title, headings, tags and text), read from the postings
    of the index of every article; `chunk_article` is each chunk's article position.
    """
    if len(index.articles) < COMMON_MINIMUM:
        return frozenset()
    return index.lexical[Audience.PREVIEW].stems_in_groups(chunk_article, len(index.articles), COMMON_SHARE)


def continues_sentence(previous: str, text: str) -> bool:
    """Whether `text`, a piece overlapping the end of `previous`, starts in the middle of a sentence.

    Pieces share their edge words (see `kb.content.chunking.split_words`): the word before `text`
    is the one in `previous` just ahead of the longest overlap (its last word when none).
    """
    before, words = previous.split(" "), text.split(" ")
    start = next(
        (start for start in range(1, len(before)) if words[: len(before) - start] == before[start:]), len(before)
    )
    return not before[start - 1].endswith((".", "!", "?", ":"))


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
        vector = self.embedder.encode_queries([query])[0]
        with self.lock:
            self.vectors[key] = vector
            while len(self.vectors) > self.size:
                self.vectors.popitem(last=False)
        return vector

    def encode_all(self, texts: list[str]) -> np.ndarray:
        """The vectors of `texts`, one row each; those not cached are encoded in one batch."""
        found: dict[str, np.ndarray] = {}
        with self.lock:
            for text in texts:
                if text.lower() in self.vectors:
                    self.vectors.move_to_end(text.lower())
                    found[text.lower()] = self.vectors[text.lower()]
        missing = list(dict.fromkeys(text for text in texts if text.lower() not in found))
        if missing:
            for text, vector in zip(missing, self.embedder.encode_queries(missing), strict=True):
                found[text.lower()] = vector
            with self.lock:
                for text in missing:
                    self.vectors[text.lower()] = found[text.lower()]
                while len(self.vectors) > self.size:
                    self.vectors.popitem(last=False)
        return np.stack([found[text.lower()] for text in texts])


@dataclass
class RankedArticle:
    article: ArticleRecord
    score: float
    chunk: ChunkRecord

    @property
    def slug(self) -> str:
        return self.article.slug


class SearchService:
    """Answers queries against one published index."""

    def __init__(
        self,
        index: PublishedIndex,
        embedder: Embedder,
        settings: Settings | None = None,
        query_vectors: QueryVectorCache | None = None,
        reranker: Reranker | None = None,
    ) -> None:
        self.index = index
        self.settings = settings or Settings()
        self.query_vectors = query_vectors or QueryVectorCache(embedder)
        self.reranker = reranker
        self.slugs = list(index.articles)
        self.position = position = {slug: number for number, slug in enumerate(self.slugs)}
        self.chunk_article = np.array([position[chunk.slug] for chunk in index.chunks], dtype=np.int64)
        self.article_chunks: list[list[int]] = [[] for _ in self.slugs]
        for chunk in index.chunks:
            self.article_chunks[position[chunk.slug]].append(chunk.id)
        self.visible = {
            audience: np.array([audience.may_see(index.articles[slug]) for slug in self.slugs], dtype=bool)
            for audience in Audience
        }
        # One corrector per audience, each knowing only the words of what its audience may see.
        self.correctors: dict[Audience, SpellingCorrector] = {}
        if self.settings.correct_spelling:
            dictionary = frozenset(getattr(embedder, "dictionary_words", lambda: ())())
            self.correctors = {
                audience: SpellingCorrector(index.lexical[audience].vocabulary, dictionary) for audience in Audience
            }
        self.synonyms = Synonyms.load(self.settings.synonyms)
        self.sentence_cache: dict[int, Sentences] = {}  # by chunk id
        self.cards: dict[tuple[str, str, str], AnswerCard | None] = {}  # by (slug, anchor, section)
        self.section_chunks: dict[tuple[str, str], list[int]] = {}  # (slug, anchor) -> its pieces in order
        for chunk in index.chunks:
            if chunk.kind == ChunkKind.SECTION:
                self.section_chunks.setdefault((chunk.slug, chunk.anchor), []).append(chunk.id)
        self.common_stems: frozenset[str] | None = None  # computed on first use (see `plain_stems`)
        self.finder = CandidateFinder(index.vectors, index.lexical, self.chunk_article, self.visible)

    def warm_up(self) -> None:
        """Compute now what the first queries would otherwise wait for: the common stems, the vectors
        in memory and each audience's sample (seconds at 10,000 articles)."""
        self.plain_stems()
        self.finder.warm_up()

    def search(
        self, query: str, k: int | None = None, audience: Audience = Audience.PUBLIC, mode: str | None = None
    ) -> SearchResponse:
        """The best `k` articles (the configured default when None) for `query` that `audience` may see.

        Raises:
            QueryError: the query is empty or too long, `k` is out of range, or `mode` is unknown.
        """
        text = normalize_query(query, self.settings.max_query_length)
        k = self.result_count(self.settings.default_results if k is None else k)
        try:
            ranking = SearchMode(mode or self.settings.search_mode)
        except ValueError:
            raise QueryError(f"unknown search mode {mode!r}: use {', '.join(SearchMode)}") from None
        return self.answer(text, k, audience, ranking, problem_sentences(text))

    def suggest(self, message: str, k: int | None = None, audience: Audience = Audience.AGENT) -> SearchResponse:
        """Articles to send in answer to a customer's whole message (greetings, signatures, history and all).

        `k` is the configured suggestion count when None. Each distinct problem the message
        describes gets its best article, marked with the sentence it answers.

        Raises:
            QueryError: the message is empty, or nothing is left of it once cleaned.
        """
        problem = clean_message(message or "")
        cleaned = re.sub(r"\s+", " ", problem).strip()
        if len(cleaned) > self.settings.max_query_length:
            cleaned = cleaned[: self.settings.max_query_length].rsplit(" ", 1)[0]
        text = normalize_query(cleaned, self.settings.max_query_length)
        k = self.result_count(self.settings.suggest_results if k is None else k)
        return self.answer(text, k, audience, SearchMode(self.settings.search_mode), problem_sentences(problem))

    def result_count(self, k: int) -> int:
        """`k`, checked.

        Raises:
            QueryError: `k` is out of range.
        """
        if not 1 <= k <= self.settings.max_results:
            raise QueryError(f"the number of results must be between 1 and {self.settings.max_results}, got {k}")
        return k

    def corrected(self, text: str, audience: Audience) -> str | None:
        """The query with its typos corrected, or None when it has none (or correction is off)."""
        corrector = self.correctors.get(audience)
        return corrector.correct(text) if corrector is not None else None

    def answer(
        self, text: str, k: int, audience: Audience, ranking: SearchMode, sentences: list[str]
    ) -> SearchResponse:
        """The best `k` articles for `text`, or for its spelling correction when that finds a confident answer.

        A correction that finds nothing confident was a guess ("xyzzy foobar" is not "xyzzy footer"):
        the query is then answered as written. One that does keeps its answer card only when the card
        would answer the query as written too: a wrong correction must not put a wrong answer on top.
        """
        corrected = self.corrected(text, audience)
        if corrected is not None:
            response = self.answer_as(text, corrected, k, audience, ranking, sentences)
            if response.confident:
                card = response.answer_card
                if card is not None and not self.evidence(text, audience).card(self.position[card.slug]):
                    response = replace(response, answer_card=None)
                return response
        return self.answer_as(text, None, k, audience, ranking, sentences)

    def answer_as(
        self, text: str, corrected: str | None, k: int, audience: Audience, ranking: SearchMode, sentences: list[str]
    ) -> SearchResponse:
        """The best `k` articles for `corrected` or `text`; with two problem sentences or more, the best for each too.

        Only hybrid ranking scores sentences on one scale (how far an article stands out), so the
        other modes answer the whole text.
        """
        effective = corrected or text
        each_problem = len(sentences) >= 2 and ranking == SearchMode.HYBRID
        if each_problem:
            # Sentences are searched as written: correcting one word at a time out of its message's
            # context turns rare right words into common wrong ones ("bookkeeper" -> "bookkeepers").
            vectors = self.query_vectors.encode_all([effective, *sentences])[1:]  # one model call
        memo: Memo = {}
        ranked = self.rank(effective, k, audience, ranking, memo=memo)
        if self.reranker is not None and ranked:
            ranked = self.rerank(effective, ranked)
        problems: list[Problem[RankedArticle]] = []
        if each_problem:
            # A sentence's words always count in full: whether it names a problem is judged on one scale
            # (`kb.search.problems`), whatever its length or the model's certainty.
            rankings = [
                self.rank(sentence, 2, audience, ranking, words_count_fully=True, memo=memo) for sentence in sentences
            ]
            problems = group_problems(sentences, vectors, rankings, ranked)
        stems = (set(tokenize(effective)) | set(tokenize(text))) - self.plain_stems()
        results, evidence = [], {effective: self.evidence(effective, audience, memo)}
        merged = merge(ranked, problems, k)
        for item, sentence in merged:
            if (sentence or effective) not in evidence:
                evidence[sentence or effective] = self.evidence(sentence or effective, audience, memo)
            confidence = evidence[sentence or effective].confidence(self.position[item.slug])
            matched = set(tokenize(sentence)) - self.plain_stems() if sentence else stems
            results.append(self.result(item, matched, confidence, sentence))
        card = None
        if audience == Audience.PUBLIC and merged and evidence[effective].card(self.position[merged[0][0].slug]):
            card = self.card(merged[0][0])
        return SearchResponse(text, results, corrected, is_confident(result.confidence for result in results), card)

    def find(
        self, text: str, audience: Audience, wanted: int, by_words: bool = False, memo: Memo | None = None
    ) -> QueryScores:
        """`text`'s candidate articles and scales (see `kb.search.candidates`), remembered in `memo` for one answer."""
        key = (text, audience, by_words)
        found = memo.get(key) if memo is not None else None
        if found is None or len(found.positions) < min(wanted, int(self.visible[audience].sum())):
            vector = self.query_vectors.vector(text)
            found = self.finder.find(vector, self.synonyms.expand(tokenize(text)), audience, wanted, by_words)
            if memo is not None:
                memo[key] = found
        return found

    def evidence(self, text: str, audience: Audience, memo: Memo | None = None) -> Evidence:
        """What `text` finds in every article, on scales apart from the fused score (see kb.search.confidence)."""
        found = next(
            (found for (seen, who, _), found in (memo or {}).items() if seen == text and who == audience), None
        )
        if found is None:
            found = self.find(text, audience, 2, memo=memo)
        visible = self.visible[audience]
        vector = self.query_vectors.vector(text)
        words = word_weights(text, self.index.lexical[audience], self.chunk_article, visible)

        def outside(position: int) -> tuple[float, float]:
            if not visible[position]:
                return -math.inf, 0.0
            chunk_ids, _ = self.finder.chunks.gather(np.array([position]))
            cosine = float((self.index.vectors.vectors(chunk_ids) @ vector).max())
            return cosine, float(words.coverage(np.array([position]))[0])

        coverage = words.coverage(found.positions)
        return Evidence(found.positions, found.article_dense, coverage, found.cosine_spread, outside)

    def rank(
        self,
        text: str,
        k: int,
        audience: Audience,
        mode: SearchMode,
        words_count_fully: bool = False,
        memo: Memo | None = None,
    ) -> list[RankedArticle]:
        """Articles by fused score. Each ranker scores the query's candidates' chunks; an article takes its best chunk.

        Hybrid mode ranks by meaning (z-scores over the visible articles) and adds how far an article
        stands out in BM25 with a weight decided per query (see `kb.search.fusion`): none for a short
        question, more for a long message or a code with digits, less as meaning grows sure of its leader.
        """
        if not self.visible[audience].any():
            return []
        depth = max(k, self.settings.rerank_depth if self.reranker is not None else 0)
        found = self.find(text, audience, depth, mode == SearchMode.LEXICAL, memo)
        chunk_scores, article_scores = found.chunk_dense, found.article_dense
        keep = np.ones(len(found.positions), dtype=bool)
        if mode == SearchMode.LEXICAL:
            chunk_scores, article_scores = found.chunk_lexical, found.article_lexical
            keep = found.article_lexical > 0
        elif mode == SearchMode.HYBRID:
            stems = tokenize(text)
            fused = fuse(
                found.chunk_dense,
                found.article_dense,
                found.chunk_lexical,
                found.article_lexical,
                keep,
                len(set(stems)),
                any(character.isdigit() for stem in stems for character in stem),
                self.settings.lexical_weight,
                fixed=words_count_fully,
                scales=(found.dense_scale, found.lexical_scale),
            )
            chunk_scores, article_scores = fused.chunk_scores, fused.article_scores
        candidates = np.flatnonzero(keep)
        if len(candidates) > depth:
            candidates = candidates[np.argpartition(-article_scores[candidates], depth - 1)[:depth]]
        candidates = candidates[np.argsort(-article_scores[candidates], kind="stable")]
        ranked = []
        for candidate in candidates:
            span = found.slice_of(int(candidate))
            best = int(found.chunk_ids[span][int(np.argmax(chunk_scores[span]))])
            position = int(found.positions[candidate])
            ranked.append(
                RankedArticle(
                    self.index.articles[self.slugs[position]], float(article_scores[candidate]), self.index.chunks[best]
                )
            )
        return ranked

    def plain_stems(self) -> frozenset[str]:
        """Stems found in nearly every article, such as the product's own name: they mark no passage."""
        if self.common_stems is None:
            self.common_stems = common_stems(self.index, self.chunk_article)
        return self.common_stems

    def rerank(self, text: str, ranked: list[RankedArticle]) -> list[RankedArticle]:
        assert self.reranker is not None
        depth = min(len(ranked), self.settings.rerank_depth)
        head = ranked[:depth]
        passages = [f"{item.article.title}. {item.chunk.text}" for item in head]
        scores = self.reranker.score(text, passages)
        reordered = [
            RankedArticle(item.article, float(score), item.chunk)
            for item, score in sorted(zip(head, scores, strict=True), key=lambda pair: -pair[1])
        ]
        return reordered + ranked[depth:]

    def sentences(self, chunk: ChunkRecord) -> Sentences:
        """The sentences a snippet is cut from, cached by chunk (this service answers one build).

        A question chunk shows the text of the section it answers, or the article's summary when
        the whole article does. A piece of a long section that starts mid-sentence starts with "…".
        """
        cached = self.sentence_cache.get(chunk.id)
        if cached is not None:
            return cached
        if chunk.kind == ChunkKind.QUESTION:
            pieces = self.section_chunks.get((chunk.slug, chunk.anchor), []) if chunk.anchor else []
            if pieces:
                return self.sentences(self.index.chunks[pieces[0]])
            article = self.index.articles[chunk.slug]
            source = article.summary or chunk.text
        else:
            source = chunk.text
            if self.starts_mid_sentence(chunk):
                source = f"… {source}"
        if len(self.sentence_cache) >= SENTENCE_CACHE_SIZE:
            self.sentence_cache.clear()
        cached = self.sentence_cache[chunk.id] = split_sentences(source)
        return cached

    def starts_mid_sentence(self, chunk: ChunkRecord) -> bool:
        """Whether a section chunk is a later piece of its section whose first word continues a sentence."""
        pieces = self.section_chunks.get((chunk.slug, chunk.anchor), [])
        if chunk.id not in pieces or pieces.index(chunk.id) == 0:
            return False
        previous = self.index.chunks[pieces[pieces.index(chunk.id) - 1]].text
        return continues_sentence(previous, chunk.text)

    def result(
        self, item: RankedArticle, stems: set[str], confidence: float = 0.0, answers: str | None = None
    ) -> SearchResult:
        article, chunk = item.article, item.chunk
        passage = best_passage(self.sentences(chunk), stems)
        return SearchResult(
            slug=article.slug,
            title=article.title,
            url=article_url(article.slug, chunk.anchor),
            section=chunk.section,
            score=round(item.score, 4),
            snippet=passage,
            visibility=article.visibility,
            confidence=confidence,
            answers=answers,
            query_stems=frozenset(stems),
        )

    def card(self, item: RankedArticle) -> AnswerCard | None:
        """The answer card of the section `item` found (see `kb.search.answer_card`), sanitized once per build."""
        key = (item.slug, item.chunk.anchor, item.chunk.section)
        if key not in self.cards:
            if len(self.cards) >= SENTENCE_CACHE_SIZE:
                self.cards.clear()
            self.cards[key] = answer_card(item.article, item.chunk.anchor, item.chunk.section)
        return self.cards[key]
