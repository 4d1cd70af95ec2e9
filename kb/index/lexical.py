"""The lexical side of search: tokenizing with stemming, and a BM25 index (bm25s) over chunks."""

from __future__ import annotations

import functools
import json
import math
import re
from collections import Counter
from dataclasses import dataclass
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
    lowered = text.lower()
    tokens: list[str] = TOKEN_PATTERN.findall(lowered)
    if "'" in lowered or "’" in lowered:
        return [token.replace("'", "").replace("’", "") for token in tokens]
    return tokens


def content_words(text: str) -> list[str]:
    return [word for word in words(text) if word not in STOPWORDS]


def stem_all(tokens: list[str]) -> list[str]:
    return list(stemmer().stemWords(tokens)) if tokens else []


def tokenize(text: str) -> list[str]:
    """Stemmed content words: what BM25 indexes and matches."""
    return stem_all(content_words(text))


NO_STEM = "\u2205"  # what BM25 indexes for a chunk without a content word (bm25s needs one term)
SORT_INSTEAD_OF_SCAN = 16  # a query's postings fewer than 1/16 of the chunks are merged by sorting them

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
            entry = (stem_all(surface) or [NO_STEM], frozenset(surface))
            if cache is not None:
                cache[text] = entry
        analysed.append(entry)
    if cache is not None and len(cache) > 2 * len(texts) + 1000:
        wanted = set(texts)
        for stale in [text for text in cache if text not in wanted]:
            del cache[stale]
    return analysed


BM25_K1 = 1.5  # bm25s's defaults, which every build has used
BM25_B = 0.75


class TermTable:
    """Numbers each stem and surface word once, so that a chunk's terms are small arrays of numbers.

    A builder keeps one for its lifetime: numbers never change, so counted chunks stay valid.
    """

    def __init__(self) -> None:
        self.stems: dict[str, int] = {}
        self.stem_names: list[str] = []
        self.surface: dict[str, int] = {}
        self.surface_words: list[str] = []

    def terms(self, analysed: Analysed) -> ChunkTerms:
        """One chunk's analysis (from `analyse`) as numbers: its stems counted, its surface words."""
        stems, surface = analysed
        counted = Counter(stems)
        return ChunkTerms(
            np.array([self.number(stem, self.stems, self.stem_names) for stem in counted], dtype=np.int32),
            np.array(list(counted.values()), dtype=np.float32),
            len(stems),
            np.array([self.number(word, self.surface, self.surface_words) for word in surface], dtype=np.int32),
        )

    @staticmethod
    def number(term: str, numbers: dict[str, int], names: list[str]) -> int:
        found = numbers.get(term)
        if found is None:
            found = numbers[term] = len(names)
            names.append(term)
        return found


@dataclass(frozen=True)
class ChunkTerms:
    """What BM25 and the spelling vocabulary count of one chunk, as numbers of a `TermTable`."""

    stems: np.ndarray  # its distinct stems
    counts: np.ndarray  # how often each occurs (float32, as bm25s counts)
    length: int  # stems with repeats: BM25's document length
    surface: np.ndarray  # its distinct surface words


@dataclass(frozen=True)
class TermBlock:
    """The terms of consecutive chunks in flat arrays: an article's, or a whole build's once joined.

    `of` and `join` give the stem entries chunk after chunk; a block may hold them in postings order
    instead (by stem, then chunk), which gives the same `postings`.
    """

    stems: np.ndarray  # int32
    counts: np.ndarray  # float32, one per stem entry
    entry_chunk: np.ndarray  # int64, the chunk (position in the block) of each stem entry
    lengths: np.ndarray  # int64, one per chunk
    surface: np.ndarray  # int32, chunk after chunk
    surface_chunk: np.ndarray  # int64, the chunk of each surface word

    @property
    def chunk_count(self) -> int:
        return len(self.lengths)

    @classmethod
    def of(cls, chunks: list[ChunkTerms]) -> TermBlock:
        positions = np.arange(len(chunks), dtype=np.int64)
        return cls(
            concatenate([chunk.stems for chunk in chunks], np.int32),
            concatenate([chunk.counts for chunk in chunks], np.float32),
            np.repeat(positions, [len(chunk.stems) for chunk in chunks]),
            np.array([chunk.length for chunk in chunks], dtype=np.int64),
            concatenate([chunk.surface for chunk in chunks], np.int32),
            np.repeat(positions, [len(chunk.surface) for chunk in chunks]),
        )

    @classmethod
    def join(cls, blocks: list[TermBlock]) -> TermBlock:
        """The blocks one after the other, their chunks renumbered from the first block's first."""
        starts = np.cumsum([0] + [block.chunk_count for block in blocks], dtype=np.int64)[:-1]
        entry_starts = np.repeat(starts, [len(block.stems) for block in blocks])
        surface_starts = np.repeat(starts, [len(block.surface) for block in blocks])
        return cls(
            concatenate([block.stems for block in blocks], np.int32),
            concatenate([block.counts for block in blocks], np.float32),
            concatenate([block.entry_chunk for block in blocks], np.int64) + entry_starts,
            concatenate([block.lengths for block in blocks], np.int64),
            concatenate([block.surface for block in blocks], np.int32),
            concatenate([block.surface_chunk for block in blocks], np.int64) + surface_starts,
        )

    def postings(self) -> Postings:
        """The stem entries ordered by stem, then by chunk: one sort serves every audience's index."""
        keys = (self.stems.astype(np.int64) << 32) | np.arange(len(self.stems), dtype=np.int64)
        order = np.sort(keys) & 0xFFFFFFFF  # sorting plain numbers is several times faster than argsort
        return Postings(self.stems[order], self.entry_chunk[order], self.counts[order])


@dataclass(frozen=True)
class Postings:
    """A block's stem entries by stem, then by chunk: every BM25 index of its chunks is a selection of them."""

    stems: np.ndarray
    chunks: np.ndarray
    counts: np.ndarray


def concatenate(arrays: list[np.ndarray], dtype: type) -> np.ndarray:
    return np.concatenate(arrays).astype(dtype, copy=False) if arrays else np.zeros(0, dtype=dtype)


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
        table = TermTable()
        terms = TermBlock.of([table.terms(item) for item in analysed])
        index = cls.assemble(terms, np.arange(len(analysed)), table, terms.postings())
        index.chunk_ids = np.asarray(chunk_ids, dtype=np.int64)
        return index

    @classmethod
    def assemble(cls, terms: TermBlock, visible: np.ndarray, table: TermTable, postings: Postings) -> LexicalIndex:
        """BM25 over the chunks `visible` (ascending positions in `terms`), from their counted terms.

        Gives bm25s's index of those chunks' stems (Lucene BM25, k1 = 1.5, b = 0.75) score for score,
        without tokenizing or counting any text again: a rebuild after one edit costs array passes.
        `postings` are `terms.postings()`. Only stems and words of the visible chunks are named.
        """
        import bm25s

        visible = np.asarray(visible, dtype=np.int64)
        seen = np.zeros(terms.chunk_count, dtype=bool)
        seen[visible] = True
        surface_counts = np.bincount(terms.surface[seen[terms.surface_chunk]], minlength=len(table.surface_words))
        vocabulary = {table.surface_words[word]: int(surface_counts[word]) for word in np.flatnonzero(surface_counts)}
        if not len(visible):
            return cls(None, vocabulary, visible)
        entries = seen[postings.chunks] if len(visible) < terms.chunk_count else slice(None)
        stems, chunks, counts = postings.stems[entries], postings.chunks[entries], postings.counts[entries]
        document_of_chunk = (np.cumsum(seen) - 1).astype(np.int32)
        documents = document_of_chunk[chunks]
        frequencies = np.bincount(stems, minlength=len(table.stems))
        present = np.flatnonzero(frequencies)
        pointers = np.zeros(len(present) + 1, dtype=np.int64)
        np.cumsum(frequencies[present], out=pointers[1:])
        document_count = len(visible)
        distinct, inverse = np.unique(frequencies[present], return_inverse=True)
        idf = np.array(
            [math.log(1 + (document_count - int(df) + 0.5) / (int(df) + 0.5)) for df in distinct], dtype=np.float32
        )[inverse]  # bm25s computes each in Python floats, then stores float32
        lengths = terms.lengths[visible]
        length_norm = BM25_K1 * ((1 - BM25_B) + BM25_B * lengths / lengths.mean())  # per document, as bm25s
        frequency = counts.astype(np.float64)
        entry_idf = np.repeat(idf, frequencies[present])  # the entries are sorted by stem
        data = (entry_idf * (frequency / (length_norm[documents] + frequency))).astype(np.float32)
        retriever = bm25s.BM25(k1=BM25_K1, b=BM25_B, method="lucene")
        retriever.scores = {"data": data, "indices": documents, "indptr": pointers, "num_docs": document_count}
        retriever.vocab_dict = {table.stem_names[stem]: position for position, stem in enumerate(present)}
        retriever.vocab_dict[""] = len(present)  # as bm25s's own `index` adds it
        retriever.nonoccurrence_array = None
        retriever.unique_token_ids_set = set(retriever.vocab_dict.values())
        return cls(retriever, vocabulary, visible)

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

    def stems_in_groups(self, chunk_group: np.ndarray, groups: int, share: float) -> frozenset[str]:
        """Stems held by chunks of at least `share` of `groups` groups; `chunk_group[chunk id]` is a chunk's group.

        Counted from the postings, in arrays: no chunk's text is read.
        """
        if self.retriever is None or not groups:
            return frozenset()
        indptr, documents = self.retriever.scores["indptr"], self.retriever.scores["indices"]
        frequent = np.flatnonzero(np.diff(indptr) >= share * groups)  # in fewer chunks, in fewer groups too
        if not len(frequent):
            return frozenset()
        lengths = (indptr[frequent + 1] - indptr[frequent]).astype(np.int64)
        entry_stem = np.repeat(np.arange(len(frequent), dtype=np.int64), lengths)
        entries = np.repeat(indptr[frequent] - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())
        pairs = entry_stem * groups + chunk_group[self.chunk_ids[documents[entries]]]
        if np.any(pairs[1:] < pairs[:-1]):  # a group's chunks are usually consecutive: then already in order
            pairs.sort()
        first = np.concatenate([[True], pairs[1:] != pairs[:-1]])  # each (stem, group) once
        held = np.bincount(pairs[first] // groups, minlength=len(frequent))
        names = {token: stem for stem, token in self.retriever.vocab_dict.items()}
        found = (names[int(frequent[at])] for at in np.flatnonzero(held >= share * groups))
        return frozenset(stem for stem in found if stem not in ("", NO_STEM))

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
        postings = sum(len(documents) for documents, _ in found)
        if postings * SORT_INSTEAD_OF_SCAN < len(totals):  # sorting the few postings beats scanning every chunk
            documents = np.unique(np.concatenate([documents for documents, _ in found]))
        else:
            held = np.zeros(len(totals), dtype=bool)  # a quarter of the bytes of the totals to scan
            for documents, _ in found:
                held[documents] = True
            documents = np.flatnonzero(held)
        return self.chunk_ids[documents], totals[documents]
