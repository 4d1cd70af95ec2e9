"""Retrieval metrics on hand-computed examples, and reading BEIR-layout datasets."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from kb.authoring.evaluation import (
    load_dataset,
    ndcg_at,
    percentile,
    recall_at,
    reciprocal_rank_at,
    score_rankings,
    write_articles,
)
from kb.errors import DatasetError
from tests.conftest import DATA


def test_ndcg_with_graded_relevance_by_hand() -> None:
    relevant = {"a": 2, "b": 1}
    # ranking b, x, a: DCG = 1/log2(2) + 2/log2(4) = 1 + 1 = 2; ideal a, b: 2/1 + 1/log2(3)
    expected = 2 / (2 + 1 / math.log2(3))
    assert ndcg_at(["b", "x", "a"], relevant) == pytest.approx(expected)
    assert ndcg_at(["a", "b"], relevant) == pytest.approx(1.0)
    assert ndcg_at(["x", "y"], relevant) == 0.0
    assert ndcg_at(["x"] * 10 + ["a"], relevant) == 0.0  # beyond the cutoff


def test_reciprocal_rank_recall_and_precision_by_hand() -> None:
    relevant = {"a": 1, "b": 1}
    assert reciprocal_rank_at(["x", "y", "b"], relevant) == pytest.approx(1 / 3)
    assert recall_at(["x", "a", "y"], relevant, 1) == 0.0
    assert recall_at(["x", "a", "y"], relevant, 5) == 0.5
    metrics = score_rankings({"q1": ["a", "b"], "q2": ["x", "a"]}, {"q1": relevant, "q2": {"a": 1}})
    assert metrics["p@1"] == 0.5
    assert metrics["mrr@10"] == pytest.approx((1 + 0.5) / 2)
    assert metrics["recall@1"] == pytest.approx((0.5 + 0.0) / 2)
    assert metrics["recall@5"] == 1.0


def test_percentile_is_nearest_rank() -> None:
    assert percentile([5, 1, 3, 2, 4], 0.5) == 3
    assert percentile([1, 2, 3, 4], 0.95) == 4
    assert percentile([], 0.5) == 0.0


def test_load_dataset_keeps_judged_queries_and_positive_grades() -> None:
    dataset = load_dataset(DATA / "beir_tiny")
    assert sorted(dataset.queries) == ["q1", "q2", "q3"]
    assert dataset.qrels == {"q1": {"d1": 2}, "q2": {"d2": 1}, "q3": {"D1": 1}}


def test_corpus_entries_become_articles_with_unique_slugs(tmp_path: Path) -> None:
    dataset = load_dataset(DATA / "beir_tiny")
    slugs = write_articles(dataset, tmp_path)
    assert slugs == {"d1": "d1", "d2": "d2", "d3": "d3", "d1-2": "D1"}
    assert (tmp_path / "d1-2.md").read_text().startswith("---\ntitle: Two-factor codes\nslug: d1-2\n---\n")


def test_malformed_datasets_name_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "qrels").mkdir()
    (tmp_path / "corpus.jsonl").write_text('{"_id": "a", "text": "x"}\nnot json\n')
    (tmp_path / "queries.jsonl").write_text('{"_id": "q", "text": "x"}\n')
    (tmp_path / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq\ta\t1\n")
    with pytest.raises(DatasetError, match=r"corpus.jsonl:2: not JSON"):
        load_dataset(tmp_path)
    (tmp_path / "corpus.jsonl").write_text('{"_id": "a", "text": "x"}\n')
    (tmp_path / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq\ta\n")
    with pytest.raises(DatasetError, match=r"test.tsv:2: expected query-id, corpus-id, score"):
        load_dataset(tmp_path)
