"""Whole search answers kept per build: a query asked again costs a dictionary look-up, not a search.

The cache belongs to one build's HelpCenter, so a newly published build starts with an empty one
and can never answer with an earlier build's results. What is cached is shared by every thread of
the worker, so it is frozen: the response's results become a tuple, and nothing in it is mutable.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from functools import cached_property

from kb.index.format import Audience
from kb.search.caching import LruCache
from kb.search.service import SearchResponse


@dataclass(frozen=True)
class CachedAnswer:
    """One search's response, and its JSON as the API sends it, encoded at most once."""

    response: SearchResponse

    @cached_property
    def json_text(self) -> str:
        """`response.to_json()` as compact ASCII JSON (the form Flask's `jsonify` writes), without a newline.

        Computed on first use only (the site and the agents' pages never need it); cached_property
        writes past the frozen dataclass, and two threads racing here compute the same text.
        """
        return json.dumps(self.response.to_json(), ensure_ascii=True, separators=(",", ":"))

    def json_with(self, name: str, value: str | None) -> str:
        """The JSON object with one more field at its end: per-request values (a search token) stay out of the cache."""
        return f"{self.json_text[:-1]},{json.dumps(name)}:{json.dumps(value)}}}"


def frozen(response: SearchResponse) -> SearchResponse:
    """`response` with its results as a tuple: a shared answer no reader can change for the others."""
    return dataclasses.replace(response, results=tuple(response.results))  # type: ignore[arg-type]


class ResultCache:
    """The `size` most recently asked searches of one build, keyed by all that changes the answer."""

    def __init__(self, size: int) -> None:
        self.answers: LruCache[Hashable, CachedAnswer] = LruCache(size)

    def __len__(self) -> int:
        return len(self.answers)

    def search(
        self,
        query: str,
        k: int | None,
        audience: Audience,
        mode: str | None,
        compute: Callable[[], SearchResponse],
    ) -> CachedAnswer:
        """The cached answer to this search, else `compute()`'s, remembered.

        Whitespace is collapsed in the key as search itself collapses it; case is kept, since the
        response repeats the query as typed. An error (an empty or overlong query) is raised, never cached.
        """
        key = ("search", " ".join(query.split()), k, audience, mode)
        return self.answers.get_or_compute(key, lambda _: CachedAnswer(frozen(compute())))

    def suggest(
        self, message: str, k: int | None, audience: Audience, compute: Callable[[], SearchResponse]
    ) -> CachedAnswer:
        """The cached suggestions for this exact message (line breaks tell greetings from quotes), else computed."""
        key = ("suggest", message, k, audience)
        return self.answers.get_or_compute(key, lambda _: CachedAnswer(frozen(compute())))
