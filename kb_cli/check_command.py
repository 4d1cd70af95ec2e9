"""`kb check`: the compiler's problems, the writers' lint rules, near-duplicates and golden queries."""

from __future__ import annotations

import dataclasses
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from indexer.build import build_index
from indexer.embed import embed_chunks
from kb.authoring.golden_queries import SEARCH_DEPTH, judge_queries, load_golden_queries
from kb.authoring.rules import near_duplicates, published_vectors, section_chunks, writing_problems
from kb.config import Settings
from kb.content.compiler import compile_help_center
from kb.content.problems import Problem
from kb.errors import KbError
from kb.index.embedder import Embedder
from kb.index.format import ARTICLES_FILE, CURRENT_LINK, current_build, load_published_index, read_articles
from kb.search.service import SearchService


@dataclass
class CheckReport:
    article_count: int
    problems: list[Problem]

    @property
    def errors(self) -> list[Problem]:
        return [problem for problem in self.problems if problem.is_error]

    @property
    def warnings(self) -> list[Problem]:
        return [problem for problem in self.problems if not problem.is_error]

    def to_json(self) -> dict[str, Any]:
        return {
            "articles": self.article_count,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "problems": [dataclasses.asdict(problem) for problem in self.problems],
        }


def link_published_build(index_dir: Path, scratch_index: Path) -> None:
    """Point `scratch_index`'s `current` at the live build, so a build there reuses its vectors."""
    try:
        live = current_build(index_dir)
    except KbError:
        return
    scratch_index.mkdir(parents=True, exist_ok=True)
    os.symlink(live, scratch_index / CURRENT_LINK)


def check_golden_queries(
    settings: Settings, embedder: Embedder, queries_file: Path, scratch: Path
) -> tuple[list[Problem], Path | None]:
    """Problems of the queries file and of each query search does not answer, judged on a fresh
    index of the articles built in `scratch`; also that index folder (None when none was built)."""
    shown = str(queries_file)
    queries, problems = load_golden_queries(queries_file, shown)
    if not queries:
        return problems, None
    deepest = max([SEARCH_DEPTH, *(golden.rank for golden in queries)])
    scratch_settings = dataclasses.replace(
        settings, index=scratch / "index", keep_builds=0, max_results=max(settings.max_results, deepest)
    )
    link_published_build(settings.index, scratch_settings.index)
    build_index(scratch_settings, embedder)
    index = load_published_index(scratch_settings.index, embedder.model_name, embedder.model_fingerprint)
    service = SearchService(index, embedder, scratch_settings)
    problems += judge_queries(queries, service, shown)
    return sorted(problems, key=lambda problem: problem.line or 0), scratch_settings.index


def published_paths(index_dir: Path) -> set[str]:
    """Paths of the articles the live build publishes: of two files that claim one slug, they keep it."""
    try:
        return {record.path for record in read_articles(current_build(index_dir) / ARTICLES_FILE).values()}
    except (KbError, OSError, ValueError, KeyError, TypeError):
        return set()


def run_check(
    settings: Settings,
    embedder: Embedder | None = None,
    similarity: float | None = None,
    queries_file: Path | None = None,
) -> CheckReport:
    """Every problem of the articles in `settings.articles`, the golden queries' last.

    Near-duplicates are looked for when `similarity` is given, golden queries judged when
    `queries_file` is; both need `embedder`. Vectors of unchanged chunks come from the published
    index, so only new or edited sections go through the model.
    """
    compiled = compile_help_center(settings.articles, settings, established=published_paths(settings.index))
    problems = list(compiled.problems) + writing_problems(compiled, settings.articles)
    query_problems: list[Problem] = []
    with tempfile.TemporaryDirectory(prefix="kb-check-") as scratch:
        vector_source = settings.index
        if queries_file is not None and embedder is not None:
            query_problems, fresh_index = check_golden_queries(settings, embedder, queries_file, Path(scratch))
            vector_source = fresh_index or vector_source
        if similarity is not None and embedder is not None:
            sections = section_chunks(compiled)
            known = published_vectors(vector_source, embedder, [chunk.text_hash for chunk in sections])
            vectors, _ = embed_chunks(sections, embedder, known, settings.embed_batch_size, show_progress=False)
            chunk_vectors = {chunk.text_hash: vector for chunk, vector in zip(sections, vectors, strict=True)}
            problems += near_duplicates(compiled, chunk_vectors, similarity)
    problems.sort(key=lambda problem: (problem.path, problem.line or 0))
    return CheckReport(len(compiled.articles), problems + query_problems)
