"""The lexical side of search: tokenizing with stemming, and a BM25 index (bm25s) over chunks."""

from __future__ import annotations

import functools
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

TOKEN_PATTERN = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)
# Function words and greetings that carry no topic; they only add noise to BM25.
STOPWORDS = frozenset(
    """
a about above after again against all am an and any are as at be because been before being below
between both but by could did do does doing down during each few for from further had has have
having he her here hers herself him himself his how i if in into is it its itself just me more most
my myself no nor of off on once only or other our ours ourselves out over own same she should so
some such than that the their theirs them themselves then there these they this those through to too
under until up very was we were what when where which while who whom why will with would you your
yours yourself yourselves hi hello hey thanks thank please regards dear cheers
""".split()
)


@functools.lru_cache(maxsize=1)
def stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


def words(text: str) -> list[str]:
    """Lowercase word tokens, apostrophes dropped ("can't" -> "cant")."""
    return [token.replace("'", "").replace("’", "") for token in TOKEN_PATTERN.findall(text.lower())]


def content_words(text: str) -> list[str]:
    return [word for word in words(text) if word not in STOPWORDS]


def stem_all(tokens: list[str]) -> list[str]:
    return list(stemmer().stemWords(tokens)) if tokens else []


def tokenize(text: str) -> list[str]:
    """Stemmed content words: what BM25 indexes and matches."""
    return stem_all(content_words(text))


TokenCache = dict[str, tuple[list[str], frozenset[str]]]  # text -> (stems, surface words)
Analysed = tuple[list[str], frozenset[str]]  # one text's stems and its surface words


def analyse(texts: list[str], cache: TokenCache | None = None) -> list[Analysed]:
    """Each text's stems (what BM25 indexes) and surface words (the spelling vocabulary).

    `cache` keeps each text's analysis between builds, so only new texts are tokenized.
    """
    analysed = []
    for text in texts:
        entry = cache.get(text) if cache is not None else None
        if entry is None:
            surface = content_words(text)
            entry = (stem_all(surface) or ["\u2205"], frozenset(surface))
            if cache is not None:
                cache[text] = entry
        analysed.append(entry)
    if cache is not None and len(cache) > 2 * len(texts) + 1000:
        wanted = set(texts)
        for stale in [text for text in cache if text not in wanted]:
            del cache[stale]
    return analysed


class LexicalIndex:
    """BM25 over the chunks one audience may see; `scores` returns a score for every chunk.

    Document frequencies, average length and the spelling vocabulary come from those chunks only,
    so what an audience may not see changes neither its scores nor the corrections it is offered.
    """

    VOCABULARY_FILE = "vocabulary.json"
    CHUNK_IDS_FILE = "chunk_ids.json"

    def __init__(self, retriever: Any | None, vocabulary: dict[str, int], chunk_ids: np.ndarray) -> None:
        self.retriever = retriever  # None when the audience sees no chunk at all
        self.vocabulary = vocabulary  # surface word -> number of chunks it appears in
        self.chunk_ids = chunk_ids  # the chunk behind each BM25 document

    @classmethod
    def build(cls, analysed: list[Analysed], chunk_ids: list[int]) -> LexicalIndex:
        """Index the chunks `chunk_ids`, whose analyses (from `analyse`) are `analysed`, in the same order."""
        import bm25s

        retriever = None
        if analysed:
            retriever = bm25s.BM25()
            retriever.index([tokens for tokens, _ in analysed], show_progress=False)
        vocabulary: Counter[str] = Counter()
        for _, surface_words in analysed:
            vocabulary.update(surface_words)
        return cls(retriever, dict(vocabulary), np.asarray(chunk_ids, dtype=np.int64))

    @classmethod
    def load(cls, directory: Path) -> LexicalIndex:
        import bm25s

        chunk_ids = np.asarray(json.loads((directory / cls.CHUNK_IDS_FILE).read_text(encoding="utf-8")), dtype=np.int64)
        retriever = bm25s.BM25.load(str(directory), show_progress=False) if len(chunk_ids) else None
        vocabulary = json.loads((directory / cls.VOCABULARY_FILE).read_text(encoding="utf-8"))
        return cls(retriever, vocabulary, chunk_ids)

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        if self.retriever is not None:
            self.retriever.save(str(directory), show_progress=False)
        (directory / self.VOCABULARY_FILE).write_text(json.dumps(self.vocabulary, ensure_ascii=False), encoding="utf-8")
        (directory / self.CHUNK_IDS_FILE).write_text(json.dumps(self.chunk_ids.tolist()), encoding="utf-8")

    def covers_only(self, chunk_count: int) -> bool:
        """Whether every chunk this index names is one of `chunk_count` chunks."""
        return not len(self.chunk_ids) or bool(self.chunk_ids.min() >= 0 and self.chunk_ids.max() < chunk_count)

    def scores(self, tokens: list[str], chunk_count: int) -> np.ndarray:
        """BM25 score of each of `chunk_count` chunks for stemmed query `tokens` (repeats count once);
        chunks outside this index score 0."""
        scores = np.zeros(chunk_count, dtype=np.float32)
        if self.retriever is not None and tokens:
            unique = list(dict.fromkeys(tokens))
            scores[self.chunk_ids] = np.asarray(self.retriever.get_scores(unique), dtype=np.float32)
        return scores

    def documents(self, stem: str) -> tuple[np.ndarray, np.ndarray]:
        """The BM25 documents holding `stem`, ascending, and their scores for it; both empty when none."""
        if self.retriever is None or stem not in self.retriever.vocab_dict:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        token = self.retriever.vocab_dict[stem]
        columns = self.retriever.scores
        start, end = int(columns["indptr"][token]), int(columns["indptr"][token + 1])
        return np.asarray(columns["indices"][start:end], dtype=np.int64), np.asarray(
            columns["data"][start:end], dtype=np.float32
        )

    def postings(self, stem: str) -> tuple[np.ndarray, np.ndarray]:
        """The chunks holding `stem` and their BM25 scores for it: (chunk ids, scores), both empty when none."""
        documents, scores = self.documents(stem)
        return self.chunk_ids[documents], scores

    def matches(self, tokens: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """The chunks holding any of the stemmed query `tokens` (repeats count once) with their BM25 scores.

        Reads only the postings of those stems, never every chunk's text: (chunk ids ascending, scores).
        """
        found = [found for found in map(self.documents, dict.fromkeys(tokens)) if len(found[0])]
        if not found:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        if len(found) == 1:
            documents, totals = found[0]
            return self.chunk_ids[documents], totals
        totals = np.zeros(len(self.chunk_ids), dtype=np.float32)
        for documents, scores in found:
            totals[documents] += scores  # a stem's postings name each document once
        documents = np.flatnonzero(totals)
        return self.chunk_ids[documents], totals[documents]
