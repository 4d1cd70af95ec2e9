"""Per-process caches that queries fill stay bounded, whatever nonsense arrives."""

from __future__ import annotations

import itertools

from kb.config import Settings
from kb.index.format import load_published_index
from kb.search.service import Audience, SearchService

MOST_CORRECTIONS_HELD = 10_000


def nonsense_words(count: int) -> list[str]:
    """Distinct made-up words of 8 letters, too far from any real word to have a correction."""
    letters = itertools.product("qxzjvk", repeat=6)
    return ["zq" + "".join(combination) for combination in itertools.islice(letters, count)]


def test_nonsense_queries_leave_the_spelling_cache_bounded(built_settings: Settings, fake_embedder) -> None:  # type: ignore[no-untyped-def]
    service = SearchService(load_published_index(built_settings.index), fake_embedder, built_settings)
    corrector = service.correctors[Audience.PUBLIC]  # the one public searches use
    words = nonsense_words(MOST_CORRECTIONS_HELD + 2_000)
    assert len(set(words)) == len(words)
    per_query = built_settings.max_query_length // 10  # words of 8 letters and a space
    for start in range(0, len(words), per_query):
        service.search(" ".join(words[start : start + per_query]), k=1)
    assert MOST_CORRECTIONS_HELD // 2 <= len(corrector.cache) <= MOST_CORRECTIONS_HELD
    corrected = service.search("pasword resett", k=1)
    assert corrected.corrected_query == "password reset"


def test_the_most_recent_corrections_are_the_ones_kept(built_settings: Settings, fake_embedder) -> None:  # type: ignore[no-untyped-def]
    service = SearchService(load_published_index(built_settings.index), fake_embedder, built_settings)
    corrector = service.correctors[Audience.PUBLIC]
    words = nonsense_words(MOST_CORRECTIONS_HELD + 100)
    assert len(set(words)) == len(words)
    for word in words:
        corrector.correct_word(word)
        corrector.correct_word("invoce")  # asked all along: never the least recently used
    assert "invoce" in corrector.cache
    assert words[-1] in corrector.cache
    assert words[0] not in corrector.cache
    assert corrector.correct_word("invoce") == "invoice"
