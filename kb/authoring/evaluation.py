"""Retrieval metrics and BEIR-layout datasets (corpus.jsonl, queries.jsonl, qrels/test.tsv)."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from kb.content.slugs import slugify
from kb.errors import DatasetError

CUTOFFS_RECALL = (1, 5, 10, 100)


@dataclass
class Dataset:
    corpus: dict[str, tuple[str, str]]  # id -> (title, text)
    queries: dict[str, str]  # id -> text, only those with judgements
    qrels: dict[str, dict[str, int]]  # query id -> {document id: grade > 0}


def read_jsonl(path: Path) -> Iterable[tuple[int, dict]]:  # type: ignore[type-arg]
    try:
        with path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                if line.strip():
                    try:
                        yield number, json.loads(line)
                    except ValueError as error:
                        raise DatasetError(f"{path}:{number}: not JSON ({error})") from None
    except OSError as error:
        raise DatasetError(f"{path}: cannot be read ({error.strerror})") from None


def load_dataset(folder: Path) -> Dataset:
    """Read a BEIR-layout folder; graded relevance (score > 0) is kept, score 0 dropped."""
    corpus: dict[str, tuple[str, str]] = {}
    for number, entry in read_jsonl(folder / "corpus.jsonl"):
        if "_id" not in entry:
            raise DatasetError(f"{folder / 'corpus.jsonl'}:{number}: entry has no '_id'")
        corpus[str(entry["_id"])] = (str(entry.get("title") or ""), str(entry.get("text") or ""))
    all_queries = {
        str(entry["_id"]): str(entry.get("text", ""))
        for _, entry in read_jsonl(folder / "queries.jsonl")
        if "_id" in entry
    }
    qrels: dict[str, dict[str, int]] = {}
    qrels_path = folder / "qrels" / "test.tsv"
    try:
        rows = qrels_path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise DatasetError(f"{qrels_path}: cannot be read ({error.strerror})") from None
    for number, row in enumerate(rows, start=1):
        fields = row.split("\t")
        if number == 1 and not fields[-1].strip().lstrip("-").isdigit():
            continue  # header line
        if not row.strip():
            continue
        if len(fields) != 3:
            raise DatasetError(f"{qrels_path}:{number}: expected query-id, corpus-id, score")
        query_id, document_id, score = fields
        try:
            grade = int(float(score))
        except ValueError:
            raise DatasetError(f"{qrels_path}:{number}: score {score!r} is not a number") from None
        if grade > 0 and document_id in corpus:
            qrels.setdefault(query_id, {})[document_id] = grade
    queries = {query_id: text for query_id, text in all_queries.items() if query_id in qrels}
    if not queries:
        raise DatasetError(f"{folder}: no query has a relevant document in the corpus")
    return Dataset(corpus, queries, qrels)


def write_articles(dataset: Dataset, folder: Path) -> dict[str, str]:
    """Write each corpus entry as an article; returns slug -> corpus id. Unchanged files are left alone."""
    folder.mkdir(parents=True, exist_ok=True)
    slug_to_id: dict[str, str] = {}
    for document_id, (title, text) in dataset.corpus.items():
        base = slugify(document_id) or "document"
        slug, suffix = base, 2
        while slug in slug_to_id:
            slug, suffix = f"{base}-{suffix}", suffix + 1
        slug_to_id[slug] = document_id
        heading = title.strip() or " ".join(text.split()[:12]) or document_id
        front_matter = yaml.safe_dump({"title": heading, "slug": slug}, allow_unicode=True, sort_keys=False)
        content = f"---\n{front_matter}---\n{text}\n"
        file = folder / f"{slug}.md"
        if not file.exists() or file.read_text(encoding="utf-8") != content:
            file.write_text(content, encoding="utf-8")
    wanted = {f"{slug}.md" for slug in slug_to_id}
    for stale in folder.glob("*.md"):
        if stale.name not in wanted:
            stale.unlink()
    return slug_to_id


def ndcg_at(ranking: Sequence[str], relevant: dict[str, int], cutoff: int = 10) -> float:
    """nDCG with linear gains (as trec_eval and BEIR compute it)."""
    gain = sum(relevant.get(document, 0) / math.log2(rank + 2) for rank, document in enumerate(ranking[:cutoff]))
    ideal_grades = sorted(relevant.values(), reverse=True)[:cutoff]
    ideal = sum(grade / math.log2(rank + 2) for rank, grade in enumerate(ideal_grades))
    return gain / ideal if ideal else 0.0


def reciprocal_rank_at(ranking: Sequence[str], relevant: dict[str, int], cutoff: int = 10) -> float:
    for rank, document in enumerate(ranking[:cutoff], start=1):
        if relevant.get(document, 0) > 0:
            return 1.0 / rank
    return 0.0


def recall_at(ranking: Sequence[str], relevant: dict[str, int], cutoff: int) -> float:
    found = sum(1 for document in ranking[:cutoff] if relevant.get(document, 0) > 0)
    return found / len(relevant) if relevant else 0.0


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    index = max(0, math.ceil(fraction * len(ordered)) - 1)
    return ordered[index]


def score_rankings(rankings: dict[str, list[str]], qrels: dict[str, dict[str, int]]) -> dict[str, float]:
    """Mean nDCG@10, MRR@10, Recall@1/5/10/100 and P@1 over the queries of `rankings`."""
    count = len(rankings)
    totals = {"ndcg@10": 0.0, "mrr@10": 0.0, **{f"recall@{cutoff}": 0.0 for cutoff in CUTOFFS_RECALL}, "p@1": 0.0}
    for query_id, ranking in rankings.items():
        relevant = qrels.get(query_id, {})
        totals["ndcg@10"] += ndcg_at(ranking, relevant)
        totals["mrr@10"] += reciprocal_rank_at(ranking, relevant)
        for cutoff in CUTOFFS_RECALL:
            totals[f"recall@{cutoff}"] += recall_at(ranking, relevant, cutoff)
        totals["p@1"] += 1.0 if ranking and relevant.get(ranking[0], 0) > 0 else 0.0
    return {name: (value / count if count else 0.0) for name, value in totals.items()}


@dataclass(frozen=True)
class AnswerOutcome:
    """What a customer would see for one query: a confident answer or not, and the answer card's document."""

    confident: bool
    card: str | None  # the corpus id of the card's article, None without a card


def answer_metrics(
    outcomes: dict[str, AnswerOutcome],
    qrels: dict[str, dict[str, int]],
    unanswerable: Sequence[AnswerOutcome] | None = None,
) -> dict[str, float | int | None]:
    """Abstention and answer-card figures of answerable queries (`outcomes`) and, when given, unanswerable ones.

    `false_abstain_rate`: answerable queries flagged not confident; `card_rate`: answerable queries
    given a card; `card_precision`: cards whose article is relevant (None without cards);
    `abstain_rate`: unanswerable queries flagged not confident; `unanswerable_card_rate`: unanswerable
    queries given a card anyway (each one wrong).
    """
    count = len(outcomes) or 1
    cards = [(query_id, item.card) for query_id, item in outcomes.items() if item.card is not None]
    right = sum(1 for query_id, card in cards if qrels.get(query_id, {}).get(card or "", 0) > 0)
    metrics: dict[str, float | int | None] = {
        "false_abstain_rate": round(sum(1 for item in outcomes.values() if not item.confident) / count, 4),
        "card_rate": round(len(cards) / count, 4),
        "card_precision": round(right / len(cards), 4) if cards else None,
    }
    if unanswerable is not None:
        total = len(unanswerable) or 1
        metrics["unanswerable_queries"] = len(unanswerable)
        metrics["abstain_rate"] = round(sum(1 for item in unanswerable if not item.confident) / total, 4)
        metrics["unanswerable_card_rate"] = round(sum(1 for item in unanswerable if item.card) / total, 4)
    return metrics
