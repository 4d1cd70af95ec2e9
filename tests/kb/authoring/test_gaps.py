"""Content gaps: unanswered queries grouped by meaning, with ids that stay the same over runs on the same data."""

from __future__ import annotations

import collections
import json
import os
import random
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from kb.authoring.gaps import DEFAULT_DISTANCE, find_gap, find_gaps, gap_id, gap_table, tidy_title
from tests.conftest import DATA, REPOSITORY, FakeEmbedder

SHARED = Path(os.environ.get("KB_TEST_SHARED", REPOSITORY.parent / "shared"))
STACKFAQ = SHARED / "eval" / "stackfaq"


@dataclass(frozen=True)
class Query:
    normalized: str
    searches: int = 1
    examples: list[str] = field(default_factory=list)


QUERIES = [
    Query("reset my password", 4, ["Reset my password??", "reset my password"]),
    Query("password reset link", 2, ["password reset link"]),
    Query("reset password email", 1),
    Query("dark mode", 3, ["  dark   mode. "]),
    Query("dark theme", 1, ["Dark theme"]),
    Query("cancel subscription", 1, ["cancel subscription"]),
]


def test_queries_that_share_meaning_form_one_gap_named_by_its_central_query() -> None:
    gaps = find_gaps(QUERIES, FakeEmbedder())
    assert [(gap.title, gap.searches, gap.queries) for gap in gaps] == [
        ("Reset my password", 7, ["reset my password", "password reset link", "reset password email"]),
        ("Dark mode", 4, ["dark mode", "dark theme"]),
        ("Cancel subscription", 1, ["cancel subscription"]),
    ]
    assert gaps[0].id == gap_id("reset my password") and len(gaps[0].id) == 10
    assert gaps[0].questions == ["password reset link", "reset password email"]
    assert gaps[1].phrasings == ["  dark   mode. ", "Dark theme"]


def test_gap_ids_do_not_depend_on_the_order_the_queries_come_in() -> None:
    expected = [(gap.id, gap.queries) for gap in find_gaps(QUERIES, FakeEmbedder())]
    for seed in range(5):
        shuffled = QUERIES.copy()
        random.Random(seed).shuffle(shuffled)
        assert [(gap.id, gap.queries) for gap in find_gaps(shuffled, FakeEmbedder())] == expected


def test_no_queries_no_gaps_and_one_query_one_gap() -> None:
    assert find_gaps([], FakeEmbedder()) == []
    (only,) = find_gaps([Query("where is my parcel", 2)], FakeEmbedder())
    assert (only.title, only.searches, only.questions) == ("Where is my parcel", 2, [])


def test_a_gap_is_found_by_its_id_or_an_unambiguous_prefix() -> None:
    gaps = find_gaps(QUERIES, FakeEmbedder())
    assert find_gap(gaps, gaps[1].id) == gaps[1]
    assert find_gap(gaps, " " + gaps[1].id[:6].upper()) == gaps[1]
    assert find_gap(gaps, gaps[1].id[:3]) is None  # too short to be sure
    assert find_gap(gaps, "0000000000") is None
    columns, rows = gap_table(gaps)
    assert columns == ["gap", "title", "searches", "queries", "phrasings"]
    assert rows[0] == [gaps[0].id, "Reset my password", 7, 3, "password reset link | reset password email"]


def test_titles_are_tidied() -> None:
    assert tidy_title('  "how do i   export invoices?" ') == "How do i export invoices"
    assert tidy_title("") == ""


def groups_and_gaps(phrasings: dict[str, list[str]], embedder: object) -> tuple[list[str], list[int]]:
    """The true group and the gap found for each phrasing, in one order."""
    queries = [Query(text, 1, [text]) for group in phrasings.values() for text in group]
    gaps = find_gaps(queries, embedder)  # type: ignore[arg-type]
    found = {text: number for number, gap in enumerate(gaps) for text in gap.queries}
    return [name for name, group in phrasings.items() for _ in group], [found[query.normalized] for query in queries]


@pytest.mark.slow
def test_the_suite_s_paraphrases_fall_into_one_gap_each_with_the_real_model(real_embedder: object) -> None:
    phrasings = yaml.safe_load((DATA / "gap_phrasings.yaml").read_text(encoding="utf-8"))
    groups, gaps = groups_and_gaps(phrasings, real_embedder)
    by_group = collections.defaultdict(set)
    for group, gap in zip(groups, gaps, strict=True):
        by_group[group].add(gap)
    assert all(len(found) == 1 for found in by_group.values()), dict(by_group)
    assert len(set(gaps)) == len(phrasings) == 5


def stackfaq_threads(count: int = 8, least: int = 5) -> dict[str, list[str]]:
    """The phrasings of the first `count` threads (by id) that have at least `least` of them."""
    text = {}
    with (STACKFAQ / "queries.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            text[record["_id"]] = record["text"]
    threads: dict[str, list[str]] = collections.defaultdict(list)
    with (STACKFAQ / "qrels" / "test.tsv").open(encoding="utf-8") as lines:
        next(lines)
        for line in lines:
            query, thread, _ = line.rstrip("\n").split("\t")
            threads[thread].append(text[query])
    chosen = sorted(thread for thread, queries in threads.items() if len(queries) >= least)[:count]
    return {thread: sorted(threads[thread]) for thread in chosen}


@pytest.mark.slow
@pytest.mark.skipif(not (STACKFAQ / "queries.jsonl").is_file(), reason=f"no stackfaq set at {STACKFAQ}")
def test_stackfaq_phrasings_fall_into_one_gap_per_thread(real_embedder: object, figure) -> None:  # type: ignore[no-untyped-def]
    from sklearn.metrics import adjusted_rand_score

    threads = stackfaq_threads()
    groups, gaps = groups_and_gaps(threads, real_embedder)
    score = adjusted_rand_score(groups, gaps)
    figure(
        f"content gaps on stackfaq: {len(threads)} threads, {len(groups)} phrasings -> {len(set(gaps))} gaps, "
        f"adjusted Rand index {score:.3f} (complete linkage, cosine distance {DEFAULT_DISTANCE})"
    )
    assert len(threads) == 8
    assert score >= 0.9
