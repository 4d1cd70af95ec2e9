"""Content gaps: unanswered queries grouped by meaning, each ready to become a new article.

The distinct normalized queries are embedded with the help center's embedder and clustered by
scikit-learn's AgglomerativeClustering with complete linkage over cosine distances, cut at
DEFAULT_DISTANCE: every two queries of one gap are at most that far apart. A gap is named by a
hash of its most central query (the one closest, on average, to the others), so the same data
gives the same gap ids on every run and `kb new --from-gap ID` finds the gap `kb report` listed.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from kb.index.embedder import Embedder

# Measured on stackfaq phrasings and tests/data/gap_phrasings.yaml: see docs/content-gaps.md.
DEFAULT_DISTANCE = 0.65
MAX_QUERIES = 1000  # the most searched unanswered queries that are clustered; the rest are rare
MAX_QUESTIONS = 10
ID_LENGTH = 10
EDGE_PUNCTUATION = " \t\"'`.,;:!?-"


class UnansweredQuery(Protocol):
    """A normalized query, how often it was searched, and its phrasings, most frequent first."""

    @property
    def normalized(self) -> str: ...

    @property
    def searches(self) -> int: ...

    @property
    def examples(self) -> list[str]: ...


@dataclass(frozen=True)
class Gap:
    """Unanswered queries that mean the same thing: what a new article should answer."""

    id: str
    title: str
    searches: int
    queries: list[str]  # the normalized queries in the gap, the central one first
    phrasings: list[str]  # one phrasing per query as customers typed it, the central one first

    @property
    def questions(self) -> list[str]:
        """The other phrasings, for the new article's `questions:` list."""
        return self.phrasings[1:MAX_QUESTIONS]


def gap_id(central: str) -> str:
    return hashlib.sha256(central.encode("utf-8")).hexdigest()[:ID_LENGTH]


def tidy_title(text: str) -> str:
    """A phrasing as an article title: single spaces, no surrounding punctuation, a capital first letter."""
    text = re.sub(r"\s+", " ", text).strip(EDGE_PUNCTUATION)[:150]
    return text[:1].upper() + text[1:]


def cluster_labels(vectors: np.ndarray, distance: float) -> np.ndarray:
    """A cluster number per row of `vectors`; no two rows of a cluster are further apart than `distance` (cosine)."""
    if len(vectors) < 2:
        return np.zeros(len(vectors), dtype=int)
    from sklearn.cluster import AgglomerativeClustering

    model = AgglomerativeClustering(n_clusters=None, distance_threshold=distance, metric="cosine", linkage="complete")
    return np.asarray(model.fit_predict(vectors))


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float64)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1.0, norms)


def find_gaps(queries: Sequence[UnansweredQuery], embedder: Embedder, distance: float = DEFAULT_DISTANCE) -> list[Gap]:
    """The content gaps among unanswered `queries`, the most searched first.

    Queries are taken in the order of their text, so the result depends on the data only, not on
    the order it was read in.
    """
    ordered = sorted(queries, key=lambda query: (-query.searches, query.normalized))[:MAX_QUERIES]
    ordered.sort(key=lambda query: query.normalized)
    if not ordered:
        return []
    vectors = unit_rows(embedder.encode([query.normalized for query in ordered]))
    labels = cluster_labels(vectors, distance)
    gaps = []
    for label in sorted(set(labels.tolist())):
        members = [index for index, found in enumerate(labels) if found == label]
        gaps.append(make_gap([ordered[index] for index in members], vectors[members]))
    return sorted(gaps, key=lambda gap: (-gap.searches, gap.id))


def make_gap(members: list[UnansweredQuery], vectors: np.ndarray) -> Gap:
    closeness = (vectors @ vectors.T).sum(axis=1)
    # The most central query; ties go to the most searched, then to the first in text order.
    central = min(range(len(members)), key=lambda index: (-round(float(closeness[index]), 6), -members[index].searches))
    rest = sorted((query for index, query in enumerate(members) if index != central), key=lambda q: -q.searches)
    ordered = [members[central], *rest]
    phrasings = [query.examples[0] if query.examples else query.normalized for query in ordered]
    return Gap(
        id=gap_id(members[central].normalized),
        title=tidy_title(phrasings[0]),
        searches=sum(query.searches for query in members),
        queries=[query.normalized for query in ordered],
        phrasings=phrasings,
    )


def gap_table(gaps: list[Gap]) -> tuple[list[str], list[list[Any]]]:
    """The gaps as a table: id, title, searches, number of distinct queries, the other phrasings."""
    return (
        ["gap", "title", "searches", "queries", "phrasings"],
        [[gap.id, gap.title, gap.searches, len(gap.queries), " | ".join(gap.questions)] for gap in gaps],
    )


def find_gap(gaps: list[Gap], wanted: str) -> Gap | None:
    """The gap whose id is `wanted` (or starts with it, when only one does)."""
    wanted = wanted.strip().lower()
    matches = [gap for gap in gaps if gap.id.startswith(wanted)] if len(wanted) >= 4 else []
    exact = [gap for gap in matches if gap.id == wanted]
    return exact[0] if exact else matches[0] if len(matches) == 1 else None
