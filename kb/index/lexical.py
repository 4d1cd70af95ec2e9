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


class LexicalIndex:
    """BM25 over one text per chunk; `scores` returns a score for every chunk."""

    VOCABULARY_FILE = "vocabulary.json"

    def __init__(self, retriever: Any, vocabulary: dict[str, int]) -> None:
        self.retriever = retriever
        self.vocabulary = vocabulary  # surface word -> number of chunks it appears in

    @classmethod
    def build(cls, texts: list[str], cache: TokenCache | None = None) -> LexicalIndex:
        """Index `texts`; `cache` keeps each text's tokens between builds, so only new texts are tokenized."""
        import bm25s

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
        retriever = bm25s.BM25()
        retriever.index([tokens for tokens, _ in analysed], show_progress=False)
        vocabulary: Counter[str] = Counter()
        for _, surface_words in analysed:
            vocabulary.update(surface_words)
        return cls(retriever, dict(vocabulary))

    @classmethod
    def load(cls, directory: Path) -> LexicalIndex:
        import bm25s

        retriever = bm25s.BM25.load(str(directory), show_progress=False)
        vocabulary = json.loads((directory / cls.VOCABULARY_FILE).read_text(encoding="utf-8"))
        return cls(retriever, vocabulary)

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.retriever.save(str(directory), show_progress=False)
        (directory / self.VOCABULARY_FILE).write_text(json.dumps(self.vocabulary, ensure_ascii=False), encoding="utf-8")

    def scores(self, tokens: list[str]) -> np.ndarray:
        """BM25 score of every chunk for stemmed query `tokens` (repeats count once)."""
        unique = list(dict.fromkeys(tokens))
        return np.asarray(self.retriever.get_scores(unique), dtype=np.float32)
