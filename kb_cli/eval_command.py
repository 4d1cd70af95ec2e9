"""`kb eval`: score the site's own search on a BEIR-layout dataset, or on golden queries of the articles."""

from __future__ import annotations

import contextlib
import dataclasses
import sys
import time
from pathlib import Path
from typing import Any

from indexer.build import build_index
from kb.authoring.evaluation import (
    AnswerOutcome,
    answer_metrics,
    load_dataset,
    percentile,
    score_rankings,
    write_articles,
)
from kb.authoring.golden_queries import load_golden_queries, score_golden_queries
from kb.config import Settings
from kb.errors import DatasetError, QueryError
from kb.index.embedder import Embedder
from kb.index.format import load_published_index
from kb.search.confidence import is_confident
from kb.search.service import SearchResponse, SearchService

RANKING_DEPTH = 100


def evaluate(
    dataset_dir: Path,
    workdir: Path,
    settings: Settings,
    embedder: Embedder,
    mode: str | None = None,
    show_progress: bool | None = None,
    unanswerable: Path | None = None,
) -> dict[str, Any]:
    """Metrics of `mode` (the configured default when None) on one dataset.

    `workdir` holds the generated articles and their index; reusing it skips unchanged embeddings.
    The queries of the dataset `unanswerable`, when given, are searched against this dataset's
    articles as questions they cannot answer, for the abstention figures.
    """
    dataset = load_dataset(dataset_dir)
    others = load_dataset(unanswerable).queries if unanswerable is not None else {}
    slug_to_id = write_articles(dataset, workdir / "articles")
    longest = max((len(text) for text in [*dataset.queries.values(), *others.values()]), default=0)
    # The limits guard a public server's input; they are not part of the ranking being measured.
    settings = dataclasses.replace(
        settings,
        articles=workdir / "articles",
        index=workdir / "index",
        max_results=max(settings.max_results, RANKING_DEPTH),
        max_query_length=max(settings.max_query_length, longest),
    )
    build_index(settings, embedder, show_progress=show_progress)
    service = SearchService(
        load_published_index(settings.index, embedder.model_name, embedder.model_fingerprint), embedder, settings
    )
    if show_progress is None:
        show_progress = sys.stderr.isatty()
    queries = list(dataset.queries.items())
    if show_progress:
        from tqdm import tqdm

        queries = tqdm(queries, desc="Searching", unit="query", file=sys.stderr)  # type: ignore[assignment]
    rankings: dict[str, list[str]] = {}
    latencies: list[float] = []
    outcomes: dict[str, AnswerOutcome] = {}
    for query_id, text in queries:
        started = time.perf_counter()
        try:
            response = service.search(text, RANKING_DEPTH, mode=mode)
        except QueryError:  # an empty query finds nothing, as on the site
            rankings[query_id] = []
            outcomes[query_id] = AnswerOutcome(False, None)
            continue
        latencies.append((time.perf_counter() - started) * 1000)
        rankings[query_id] = [slug_to_id[result.slug] for result in response.results]
        outcomes[query_id] = outcome(response, slug_to_id, settings.default_results)
    unanswered: list[AnswerOutcome] = []
    for text in others.values():
        with contextlib.suppress(QueryError):
            unanswered.append(outcome(service.search(text, settings.default_results, mode=mode), slug_to_id))
    metrics: dict[str, Any] = {name: round(value, 4) for name, value in score_rankings(rankings, dataset.qrels).items()}
    metrics["queries"] = len(rankings)
    metrics["p50_ms"] = round(percentile(latencies, 0.5), 2)
    metrics["p95_ms"] = round(percentile(latencies, 0.95), 2)
    metrics.update(answer_metrics(outcomes, dataset.qrels, unanswered if unanswerable is not None else None))
    return metrics


def outcome(response: SearchResponse, slug_to_id: dict[str, str], shown: int | None = None) -> AnswerOutcome:
    """Whether the site would call `response` confident (over the `shown` results a page shows) and its card's id."""
    card = response.answer_card
    return AnswerOutcome(
        is_confident(result.confidence for result in response.results[:shown]),
        slug_to_id[card.slug] if card is not None else None,
    )


def evaluate_golden(
    file: Path,
    workdir: Path,
    settings: Settings,
    embedder: Embedder,
    mode: str | None = None,
    show_progress: bool | None = None,
) -> dict[str, Any]:
    """Metrics of `mode` on a golden-queries file, against the articles of `settings.articles`.

    Raises:
        DatasetError: an entry of the file is invalid (the message names its line).
    """
    queries, problems = load_golden_queries(file)
    if problems:
        first = problems[0]
        raise DatasetError(
            f"{first.path}:{first.line}: {first.message}" if first.line else f"{first.path}: {first.message}"
        )
    settings = dataclasses.replace(settings, index=workdir / "index")
    build_index(settings, embedder, show_progress=show_progress)
    service = SearchService(
        load_published_index(settings.index, embedder.model_name, embedder.model_fingerprint), embedder, settings
    )
    latencies = []
    for golden in queries:
        started = time.perf_counter()
        with contextlib.suppress(QueryError):
            service.search(golden.query, 1, mode=mode)
        latencies.append((time.perf_counter() - started) * 1000)
    metrics = score_golden_queries(queries, service, mode)
    metrics["p@1"] = round(metrics["p@1"], 4)
    if metrics["section_accuracy"] is not None:
        metrics["section_accuracy"] = round(metrics["section_accuracy"], 4)
    metrics["queries"] = len(queries)
    metrics["p50_ms"] = round(percentile(latencies, 0.5), 2)
    metrics["p95_ms"] = round(percentile(latencies, 0.95), 2)
    return metrics
