"""Builds switch to the approximate vector index from KB_ANN_MIN_CHUNKS chunks, train it only when they must,
and find the exact top 10 for nearly every query."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pytest

from bench.generate_help_center import generate
from indexer.build import IndexBuilder, build_index
from indexer.vector_index import REUSE_FACTOR, Centroids, make_vector_index
from kb.config import Settings
from kb.index.approximate import IvfVectorIndex, list_count
from kb.index.embedder import Embedder
from kb.index.format import APPROXIMATE, EXACT, VECTORS_FILE, PublishedIndex, current_build, load_published_index
from kb.index.vectors import FaissVectorIndex
from kb.search.service import SearchService
from tests.conftest import FakeEmbedder


@pytest.fixture(scope="module")
def generated_articles(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """120 articles of the scale benchmarks' generator (about 1,100 chunks), written once."""
    folder = tmp_path_factory.mktemp("generated") / "articles"
    generate(folder, 120, seed=4)
    return folder


def settings_for(tmp_path: Path, articles: Path, **fields: object) -> Settings:
    copy = tmp_path / "articles"
    shutil.copytree(articles, copy)
    return Settings(articles=copy, index=tmp_path / "index", data=tmp_path / "data", **fields)  # type: ignore[arg-type]


def recall_at_10(index: PublishedIndex, embedder: Embedder) -> float:
    """Mean share of the exact top 10 that `top` returns, over the articles' titles and questions as queries."""
    texts = sorted({text for record in index.articles.values() for text in [record.title, *record.questions]})
    queries = embedder.encode(texts)
    ids, matrix = index.vectors.id_matrix()  # type: ignore[attr-defined]
    shares = []
    for query in queries:
        exact = ids[np.argsort(-(matrix @ query), kind="stable")[:10]]
        found = index.vectors.top(query, 10)[1]
        shares.append(len(set(exact.tolist()) & set(found.tolist())) / 10)
    return float(np.mean(shares))


def test_below_the_threshold_the_index_is_exact(tmp_path: Path, generated_articles: Path) -> None:
    settings = settings_for(tmp_path, generated_articles)
    report = build_index(settings, FakeEmbedder(), show_progress=False)
    index = load_published_index(settings.index)
    assert report.chunk_count < settings.ann_min_chunks
    assert isinstance(index.vectors, FaissVectorIndex)
    assert (index.manifest.vector_index, index.manifest.centroids_trained_on) == (EXACT, 0)


def test_from_the_threshold_the_index_is_approximate(tmp_path: Path, generated_articles: Path) -> None:
    settings = settings_for(tmp_path, generated_articles, ann_min_chunks=500, ann_probes=5)
    report = build_index(settings, FakeEmbedder(), show_progress=False)
    index = load_published_index(settings.index)
    assert isinstance(index.vectors, IvfVectorIndex)
    assert (index.manifest.vector_index, index.manifest.centroids_trained_on) == (APPROXIMATE, report.chunk_count)
    assert (index.vectors.probes, index.vectors.centroids().shape[0]) == (5, list_count(report.chunk_count))


@pytest.mark.slow
def test_with_the_real_model_top_finds_the_exact_top_10_for_nearly_every_query(
    tmp_path: Path, sample_settings: Settings, real_embedder: Embedder
) -> None:
    shutil.copytree(sample_settings.index, tmp_path / "index", symlinks=True)  # its vectors: nothing to embed
    settings = dataclasses.replace(sample_settings, index=tmp_path / "index", ann_min_chunks=1, ann_probes=8)
    report = build_index(settings, real_embedder, show_progress=False)
    index = load_published_index(settings.index)
    assert isinstance(index.vectors, IvfVectorIndex)
    assert (report.embedded_count, list_count(report.chunk_count)) == (0, 23)  # a third of the lists read per query
    assert recall_at_10(index, real_embedder) >= 0.95


def test_a_one_article_change_reuses_the_centroids(tmp_path: Path, generated_articles: Path) -> None:
    settings = settings_for(tmp_path, generated_articles, ann_min_chunks=500)
    first = build_index(settings, FakeEmbedder(), show_progress=False)
    before = load_published_index(settings.index)
    article = next(settings.articles.rglob("*.md"))
    article.write_text(article.read_text() + "\n## One more question\n\nAsk support about the new export.\n")
    second = build_index(settings, FakeEmbedder(), show_progress=False)
    after = load_published_index(settings.index)
    assert second.chunk_count == first.chunk_count + 1
    assert after.manifest.centroids_trained_on == first.chunk_count
    assert isinstance(before.vectors, IvfVectorIndex) and isinstance(after.vectors, IvfVectorIndex)
    assert np.array_equal(after.vectors.centroids(), before.vectors.centroids())


def test_a_watcher_reuses_the_centroids_it_just_trained(tmp_path: Path, generated_articles: Path) -> None:
    settings = settings_for(tmp_path, generated_articles, ann_min_chunks=500)
    builder = IndexBuilder(settings, FakeEmbedder())
    first = builder.build(show_progress=False)
    article = next(settings.articles.rglob("*.md"))
    article.write_text(article.read_text().replace("## ", "## Updated: ", 1))
    builder.build(show_progress=False)
    assert load_published_index(settings.index).manifest.centroids_trained_on == first.chunk_count


def test_a_watcher_rebuild_assigns_only_new_chunks_and_writes_the_index_a_full_assignment_writes(
    tmp_path: Path, generated_articles: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(tmp_path, generated_articles, ann_min_chunks=500)
    builder = IndexBuilder(settings, FakeEmbedder())
    builder.build(show_progress=False)
    article = next(settings.articles.rglob("*.md"))
    article.write_text(article.read_text() + "\n## One more question\n\nAsk support about the new export.\n")
    assigned: list[int] = []
    assign = IvfVectorIndex.assign

    def counted_assign(index: IvfVectorIndex, vectors: np.ndarray) -> np.ndarray:
        assigned.append(len(vectors))
        return assign(index, vectors)

    monkeypatch.setattr(IvfVectorIndex, "assign", counted_assign)
    builder.build(show_progress=False)
    index = load_published_index(settings.index)
    assert isinstance(index.vectors, IvfVectorIndex)
    assert 0 < sum(assigned) < index.vectors.size / 100  # the edited article's new chunks only
    vectors = index.vectors.vectors(np.arange(index.vectors.size))
    centroids = Centroids(index.vectors.centroids(), index.manifest.centroids_trained_on)
    whole, _, _ = make_vector_index(vectors, settings, centroids)
    whole.save(tmp_path / "whole.faiss")
    assert (tmp_path / "whole.faiss").read_bytes() == (current_build(settings.index) / VECTORS_FILE).read_bytes()


def test_known_lists_are_taken_as_given_and_only_unknown_ones_assigned(tmp_path: Path) -> None:
    settings = Settings(articles=tmp_path, index=tmp_path, ann_min_chunks=10)
    vectors = FakeEmbedder().encode([f"text {number}" for number in range(40)])
    vectors[39] = vectors[3]  # nearest the fourth centroid, itself
    centroids = Centroids(vectors[:4].copy(), 40)
    known = np.array([0] * 39 + [-1], dtype=np.int64)
    index, _, lists = make_vector_index(vectors, settings, centroids, known)
    assert isinstance(index, IvfVectorIndex) and lists is not None
    assert lists.tolist() == [0] * 39 + [3]
    assert [index.index.invlists.list_size(number) for number in range(4)] == [39, 0, 0, 1]


def test_a_collection_that_doubled_trains_new_centroids(tmp_path: Path, generated_articles: Path) -> None:
    settings = settings_for(tmp_path, generated_articles, ann_min_chunks=500)
    first = build_index(settings, FakeEmbedder(), show_progress=False)
    generate(settings.articles / "more", 150, seed=5)
    second = build_index(settings, FakeEmbedder(), show_progress=False)
    assert second.chunk_count > first.chunk_count * REUSE_FACTOR
    index = load_published_index(settings.index)
    assert index.manifest.centroids_trained_on == second.chunk_count
    assert isinstance(index.vectors, IvfVectorIndex)
    assert index.vectors.centroids().shape[0] == list_count(second.chunk_count)


def test_a_collection_that_shrank_below_the_threshold_is_exact_again(tmp_path: Path, generated_articles: Path) -> None:
    settings = settings_for(tmp_path, generated_articles, ann_min_chunks=800)
    first = build_index(settings, FakeEmbedder(), show_progress=False)
    assert first.chunk_count >= settings.ann_min_chunks
    for article in sorted(settings.articles.rglob("*.md"))[::2]:
        article.unlink()
    build_index(settings, FakeEmbedder(), show_progress=False)
    index = load_published_index(settings.index)
    assert isinstance(index.vectors, FaissVectorIndex)
    assert index.manifest.vector_index == EXACT


def test_the_same_articles_give_the_same_results(tmp_path: Path, generated_articles: Path) -> None:
    first_settings = settings_for(tmp_path / "first", generated_articles, ann_min_chunks=500, ann_probes=3)
    second_settings = dataclasses.replace(first_settings, index=tmp_path / "second-index")
    embedder = FakeEmbedder()
    build_index(first_settings, embedder, show_progress=False)
    build_index(second_settings, embedder, show_progress=False)
    first, second = load_published_index(first_settings.index), load_published_index(second_settings.index)
    assert isinstance(first.vectors, IvfVectorIndex) and isinstance(second.vectors, IvfVectorIndex)
    assert first.vectors.centroids().tobytes() == second.vectors.centroids().tobytes()
    for query in embedder.encode([record.title for record in first.articles.values()][:50]):
        first_scores, first_ids = first.vectors.top(query, 20)
        second_scores, second_ids = second.vectors.top(query, 20)
        assert first_ids.tolist() == second_ids.tolist()
        assert first_scores.tobytes() == second_scores.tobytes()


def test_search_over_an_approximate_index_ranks_as_over_the_exact_one(tmp_path: Path, generated_articles: Path) -> None:
    exact_settings = settings_for(tmp_path / "exact", generated_articles)
    approximate_settings = dataclasses.replace(exact_settings, index=tmp_path / "approximate", ann_min_chunks=500)
    embedder = FakeEmbedder()
    build_index(exact_settings, embedder, show_progress=False)
    build_index(approximate_settings, embedder, show_progress=False)
    exact = SearchService(load_published_index(exact_settings.index), embedder, exact_settings)
    approximate = SearchService(load_published_index(approximate_settings.index), embedder, approximate_settings)
    assert isinstance(approximate.index.vectors, IvfVectorIndex)
    titles = sorted(record.title for record in exact.index.articles.values())[:20]
    for title in titles:
        assert [hit.slug for hit in approximate.search(title, 3).results] == [
            hit.slug for hit in exact.search(title, 3).results
        ], title
