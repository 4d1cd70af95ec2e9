"""Golden queries: what customers type and the article (and section) search must rank near the top."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml

from kb.content.problems import Problem, Severity
from kb.content.safe_yaml import describe_error, load_yaml, short
from kb.content.slugs import SLUG_PATTERN
from kb.errors import QueryError
from kb.search.service import Audience, SearchResult, SearchService

KNOWN_KEYS = ("query", "expect", "section", "rank", "kind")
SEARCH_DEPTH = 10
SHOWN_QUERY_LENGTH = 60


@dataclass(frozen=True)
class GoldenQuery:
    """One expectation: `query` finds article `expect` (at `section`, when given) within `rank`."""

    query: str
    expect: str
    line: int  # of the entry in its file
    section: str = ""
    rank: int = 1
    kind: str = ""

    @property
    def target(self) -> str:
        return f"{self.expect}#{self.section}" if self.section else self.expect

    @property
    def shown_query(self) -> str:
        """The query as messages quote it: long customer emails are cut short."""
        if len(self.query) <= SHOWN_QUERY_LENGTH:
            return self.query
        cut = self.query[: SHOWN_QUERY_LENGTH - 3]
        return (cut.rsplit(" ", 1)[0] if " " in cut else cut) + "..."


def read_entry(node: yaml.Node, values: Any, path: str) -> tuple[GoldenQuery | None, list[Problem]]:
    """One entry from its YAML node (for the lines) and its loaded value."""
    line = node.start_mark.line + 1
    if not isinstance(node, yaml.MappingNode) or not isinstance(values, dict):
        return None, [Problem(path, line, Severity.ERROR, "each entry must be a mapping with 'query' and 'expect'")]
    lines = {str(key_node.value): key_node.start_mark.line + 1 for key_node, _ in node.value}
    problems: list[Problem] = []

    def fail(key: str, message: str) -> None:
        problems.append(Problem(path, lines.get(key, line), Severity.ERROR, message))

    for key in map(str, values):
        if key not in KNOWN_KEYS:
            fail(key, f"unknown key '{key}' (known keys: {', '.join(KNOWN_KEYS)})")
    query = values.get("query")
    if not isinstance(query, str) or not query.strip():
        fail("query", "'query' is required and must be text")
    expect = values.get("expect")
    if not isinstance(expect, str) or not SLUG_PATTERN.match(expect.strip()):
        fail("expect", "'expect' is required and must be an article slug")
    section = values.get("section", "")
    if not isinstance(section, str) or ("section" in values and not section.strip().lstrip("#")):
        fail("section", "'section' must be the anchor of a section, like 'request-a-reset-link'")
    rank = values.get("rank", 1)
    if isinstance(rank, bool) or not isinstance(rank, int) or rank < 1:
        fail("rank", f"'rank' must be a whole number of at least 1, got {short.repr(rank)}")
    kind = values.get("kind", "")
    if not isinstance(kind, str):
        fail("kind", "'kind' must be text")
    if problems:
        return None, problems
    assert isinstance(query, str) and isinstance(expect, str) and isinstance(section, str)
    return GoldenQuery(" ".join(query.split()), expect.strip(), line, section.strip().lstrip("#"), rank, kind), []


def load_golden_queries(file: Path, path: str | None = None) -> tuple[list[GoldenQuery], list[Problem]]:
    """The valid entries of a golden-queries YAML file, and a located error for each invalid one.

    `path` is how problems name the file (the file's own path by default).
    """
    path = path or str(file)
    try:
        root, data = load_yaml(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        line, problem = describe_error(error)
        return [], [Problem(path, line, Severity.ERROR, f"invalid YAML: {problem}")]
    except (OSError, UnicodeDecodeError) as error:
        return [], [Problem(path, None, Severity.ERROR, f"cannot be read: {error}")]
    if root is None:
        return [], [Problem(path, 1, Severity.ERROR, "no queries: the file must be a list of 'query'/'expect' entries")]
    if not isinstance(root, yaml.SequenceNode) or not isinstance(data, list):
        return [], [
            Problem(
                path,
                root.start_mark.line + 1,
                Severity.ERROR,
                "the file must be a list of entries with 'query' and 'expect'",
            )
        ]
    queries: list[GoldenQuery] = []
    problems: list[Problem] = []
    for node, values in zip(root.value, data, strict=True):
        entry, entry_problems = read_entry(node, values, path)
        problems.extend(entry_problems)
        if entry is not None:
            queries.append(entry)
    return queries, problems


def judge_query(golden: GoldenQuery, service: SearchService, path: str) -> Problem | None:
    """An error when `golden` is not answered within its rank (or cannot be), else None."""
    index = service.index

    def fail(message: str) -> Problem:
        return Problem(path, golden.line, Severity.ERROR, f"'{golden.shown_query}' {message}")

    slug = golden.expect if golden.expect in index.articles else index.aliases.get(golden.expect)
    if slug is None:
        return fail(f"expects '{golden.expect}', but no indexed article has that slug")
    record = index.articles[slug]
    if not record.is_public:
        return fail(
            f"expects '{golden.expect}', which customers never see ({record.visibility}"
            f"{', draft' if record.draft else ''})"
        )
    if golden.section and golden.section not in {heading["anchor"] for heading in record.headings}:
        return fail(f"expects section '{golden.section}', which {slug} does not have")
    depth = max(golden.rank, SEARCH_DEPTH)
    try:
        response = service.search(golden.query, depth, Audience.PUBLIC)
    except QueryError as error:
        return fail(f"cannot be searched: {error}")
    expected = f"expected {golden.target} within rank {golden.rank}"
    for rank, result in enumerate(response.results, start=1):
        if result.slug != slug:
            continue
        if golden.section and not lands_on(result, golden.section):
            landing = f"'#{result.url.split('#', 1)[1]}'" if "#" in result.url else "the top of the article"
            return fail(f"{expected}, found at rank {rank} but landing on {landing}")
        return None if rank <= golden.rank else fail(f"{expected}, found at rank {rank}")
    return fail(f"{expected}, not found in the top {depth}")


def judge_queries(queries: list[GoldenQuery], service: SearchService, path: str) -> list[Problem]:
    """One error per golden query that search does not answer within its allowed rank."""
    return [problem for golden in queries if (problem := judge_query(golden, service, path)) is not None]


def lands_on(result: SearchResult, section: str) -> bool:
    """Whether a result's link opens `section` (an anchor) of its article."""
    return result.url.endswith(f"#{quote(section)}")


def score_golden_queries(queries: list[GoldenQuery], service: SearchService, mode: str | None = None) -> dict[str, Any]:
    """How often the first result is the expected article, and lands on the expected section.

    Returns `p@1` (share of queries whose first result is their article), `section_queries` (how
    many name a section) and `section_accuracy` (share of those whose first result is the article
    opened at that section; None when no query names one).
    """
    first = sectioned = landed = 0
    for golden in queries:
        slug = golden.expect if golden.expect in service.index.articles else service.index.aliases.get(golden.expect)
        try:
            results = service.search(golden.query, 1, Audience.PUBLIC, mode).results
        except QueryError:
            results = []
        found = bool(results) and results[0].slug == slug
        first += found
        if golden.section:
            sectioned += 1
            landed += found and lands_on(results[0], golden.section)
    return {
        "p@1": first / len(queries) if queries else 0.0,
        "section_queries": sectioned,
        "section_accuracy": landed / sectioned if sectioned else None,
    }
