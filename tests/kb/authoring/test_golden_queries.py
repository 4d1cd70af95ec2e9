"""Golden-queries files: entries read with their lines, and judged against a small built index."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from indexer.build import build_index
from kb.authoring.golden_queries import GoldenQuery, judge_queries, load_golden_queries
from kb.config import Settings
from kb.index.format import load_published_index
from kb.search.service import SearchService
from tests.conftest import DATA, FakeEmbedder


def test_entries_keep_their_lines_and_optional_keys() -> None:
    queries, problems = load_golden_queries(DATA / "golden_queries_answered_by_the_test_help_center.yaml")
    assert problems == []
    assert queries == [
        GoldenQuery("paid invoices turn green", "invoice-basics", 2, "track-payment"),
        GoldenQuery("forgot password", "forgot-password", 5),
        GoldenQuery("workspace currency", "welcome", 7, "create-your-workspace", 2, "short"),
    ]


def test_the_shipped_golden_queries_are_valid() -> None:
    queries, problems = load_golden_queries(DATA / "golden_queries.yaml")
    assert problems == []
    assert len(queries) > 50
    assert queries[0] == GoldenQuery("I forgot my password", "reset-your-password", 5, "request-a-reset-link")


def test_a_file_that_is_no_list_is_one_error(tmp_path: Path) -> None:
    (tmp_path / "mapping.yml").write_text("query: x\nexpect: y\n")
    (tmp_path / "broken.yml").write_text("- query: [x\n")
    (tmp_path / "empty.yml").write_text("# nothing yet\n")
    assert [str(problem) for problem in load_golden_queries(tmp_path / "mapping.yml", "mapping.yml")[1]] == [
        "mapping.yml:1: error: the file must be a list of entries with 'query' and 'expect'"
    ]
    assert str(load_golden_queries(tmp_path / "broken.yml", "broken.yml")[1][0]).startswith("broken.yml:1: error: ")
    assert [str(problem) for problem in load_golden_queries(tmp_path / "empty.yml", "empty.yml")[1]] == [
        "empty.yml:1: error: no queries: the file must be a list of 'query'/'expect' entries"
    ]


def test_an_article_missing_from_the_results_is_not_found(tmp_path: Path) -> None:
    settings = Settings(
        articles=DATA / "help_center", index=tmp_path / "index", search_mode="lexical", correct_spelling=False
    )
    embedder = FakeEmbedder()
    build_index(settings, embedder, show_progress=False)
    service = SearchService(load_published_index(settings.index), embedder, settings)
    long_query = "quantum entanglement " * 5
    queries = [GoldenQuery(long_query, "welcome", 3), GoldenQuery("forgot password", "reset-password", 4, rank=12)]
    problems = judge_queries(queries, service, "queries.yml")
    assert [str(problem) for problem in problems] == [
        "queries.yml:3: error: 'quantum entanglement quantum entanglement quantum...' "
        "expected welcome within rank 1, not found in the top 10"
    ]
    too_long = dataclasses.replace(queries[0], query="x" * 3000)
    assert str(judge_queries([too_long], service, "q.yml")[0]).startswith(
        f"q.yml:3: error: '{'x' * 57}...' cannot be searched: the search query is"
    )


def test_values_that_cannot_be_read_are_errors_on_their_line() -> None:
    def problems(name: str) -> list[str]:
        return [str(problem) for problem in load_golden_queries(DATA / name, name)[1]]

    name = "golden_queries_with_a_query_tagged_as_an_integer.yaml"
    assert problems(name) == [f"{name}:2: error: invalid YAML: cannot read 'abc' as a whole number"]
    name = "golden_queries_with_a_number_of_5000_digits.yaml"
    assert problems(name) == [f"{name}:4: error: invalid YAML: a number may have at most 100 digits"]
    name = "golden_queries_nested_5000_deep.yaml"
    assert problems(name) == [f"{name}:3: error: invalid YAML: values are nested more than 20 levels deep"]
    name = "golden_queries_with_a_date_that_does_not_exist.yaml"
    assert problems(name) == [f"{name}:4: error: 'rank' must be a whole number of at least 1, got '2026-02-30'"]
