"""Typo tolerance: query words missing from the index vocabulary are replaced by their nearest known word."""

from __future__ import annotations

from collections.abc import Iterable

from rapidfuzz import process
from rapidfuzz.distance import OSA

from kb.index.lexical import STOPWORDS, TOKEN_PATTERN
from kb.search.caching import LruCache

MIN_WORD_LENGTH = 4  # shorter words have too many neighbours to correct safely
CORRECTION_CACHE_SIZE = 10_000  # corrections remembered per index; nonsense queries must not grow memory


def allowed_edits(word: str) -> int:
    """Edits (insert, delete, substitute, swap) a misspelling of this length may contain."""
    return 1 if len(word) <= 5 else 2


class SpellingCorrector:
    """Corrects words against the vocabulary of the index, preferring the commonest nearest word.

    `dictionary_words` are real words the help center does not use (e.g. the model's vocabulary):
    they are never "corrected" into some other word of the index.
    """

    def __init__(self, vocabulary: dict[str, int], dictionary_words: Iterable[str] = ()) -> None:
        self.vocabulary = {
            word: count for word, count in vocabulary.items() if len(word) >= MIN_WORD_LENGTH - 1 and not word.isdigit()
        }
        self.choices = list(self.vocabulary)
        self.known = set(vocabulary) | set(dictionary_words)
        self.cache: LruCache[str, str | None] = LruCache(CORRECTION_CACHE_SIZE)

    def correct_word(self, word: str) -> str | None:
        """The correction of `word`, or None when it is known, too short or has no close neighbour."""
        if word in self.known or len(word) < MIN_WORD_LENGTH or not word.isalpha() or word in STOPWORDS:
            return None
        return self.cache.get_or_compute(word, self.nearest_word)

    def nearest_word(self, word: str) -> str | None:
        """The commonest vocabulary word fewest edits from `word`, or None when none is close enough."""
        limit = allowed_edits(word)
        matches = process.extract(word, self.choices, scorer=OSA.distance, score_cutoff=limit, limit=20)
        if not matches:
            return None
        best_distance = min(distance for _, distance, _ in matches)
        nearest = [choice for choice, distance, _ in matches if distance == best_distance]
        return max(nearest, key=lambda choice: (self.vocabulary[choice], choice))

    def correct(self, text: str) -> str | None:
        """`text` with misspelled words replaced, or None when that changes nothing.

        A word written with an apostrophe and unknown without it ("Maria's") is a name, not a typo:
        it is left as written.
        """
        pieces, position = [], 0
        for match in TOKEN_PATTERN.finditer(text):
            token = match.group(0)
            word = token.lower().replace("'", "").replace("’", "")
            if word != token.lower() and word not in self.known:
                continue
            replacement = self.correct_word(word)
            if replacement is not None and replacement != word:
                pieces += [text[position : match.start()], replacement]
                position = match.end()
        result = "".join([*pieces, text[position:]])
        return result if result != text else None
