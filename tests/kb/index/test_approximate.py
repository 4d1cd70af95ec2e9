"""The approximate (IVF) vector index: exact where it must be, near-exact `top`, same centroids for the same vectors."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np
import pytest

from kb.index.approximate import IvfVectorIndex, list_count, train_centroids
from kb.index.format import read_vectors
from kb.index.vectors import FaissVectorIndex


def unit_rows(count: int, dimension: int = 32, seed: int = 5) -> np.ndarray:
    rows = np.random.default_rng(seed).standard_normal((count, dimension)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def ivf_of(vectors: np.ndarray, probes: int) -> IvfVectorIndex:
    index = IvfVectorIndex.with_centroids(train_centroids(vectors, list_count(len(vectors))), probes)
    index.add(np.arange(len(vectors), dtype=np.int64), vectors)
    return index


def test_lists_grow_with_the_square_root_of_the_collection() -> None:
    assert [list_count(count) for count in (1, 3, 400, 42_500, 50_000)] == [1, 2, 20, 206, 224]


def test_the_same_vectors_give_the_same_centroids_bit_for_bit() -> None:
    vectors = unit_rows(2000)
    faiss.omp_set_num_threads(2)
    first = train_centroids(vectors, 40)
    second = train_centroids(vectors, 40)
    assert first.shape == (40, 32)
    assert first.tobytes() == second.tobytes()
    assert np.allclose(np.linalg.norm(first, axis=1), 1, atol=1e-5)


def test_vectors_and_score_all_stay_exact() -> None:
    vectors = unit_rows(500)
    index = ivf_of(vectors, probes=1)
    assert np.array_equal(index.vectors(np.array([499, 0, 7])), vectors[[499, 0, 7]])
    assert np.allclose(index.score_all(vectors[3]), vectors @ vectors[3], atol=1e-6)
    with pytest.raises(KeyError, match="500"):
        index.vectors(np.array([1, 500]))


def test_top_reads_only_the_probed_lists_and_all_lists_give_exact_search() -> None:
    vectors = unit_rows(500)
    query = unit_rows(1, seed=9)[0]
    exact_scores = vectors @ query
    exact_order = np.argsort(-exact_scores, kind="stable")[:10]
    index = ivf_of(vectors, probes=list_count(500))
    scores, ids = index.top(query, 10)
    assert ids.tolist() == exact_order.tolist()
    assert np.allclose(scores, exact_scores[exact_order], atol=1e-6)
    index.index.nprobe = 1
    _, probed = index.top(query, 10)
    nearest_list = int(index.index.quantizer.search(query[None, :], 1)[1][0, 0])
    lists = index.index.invlists
    in_list = faiss.rev_swig_ptr(lists.get_ids(nearest_list), lists.list_size(nearest_list))
    assert set(probed.tolist()) <= set(np.array(in_list).tolist())


def test_top_reads_more_lists_when_the_probed_ones_hold_fewer_than_asked() -> None:
    vectors = unit_rows(500)
    index = ivf_of(vectors, probes=1)
    scores, ids = index.top(vectors[0], 500)
    assert sorted(ids.tolist()) == list(range(500))
    assert np.allclose(scores, np.sort(vectors @ vectors[0])[::-1], atol=1e-6)
    assert index.probes == 1


def test_search_over_allowed_ids_is_exact_and_pads_what_is_missing() -> None:
    vectors = unit_rows(500)
    index = ivf_of(vectors, probes=1)
    allowed = np.array([3, 250, 499, 10_000])
    scores, ids = index.search(vectors[250][None, :], 5, allowed_ids=allowed)
    expected = sorted([3, 250, 499], key=lambda row: -float(vectors[row] @ vectors[250]))
    assert ids.tolist() == [[*expected, -1, -1]]
    assert scores[0, 0] == pytest.approx(1.0, abs=1e-6) and np.isinf(scores[0, 3:]).all()


def test_removed_ids_are_gone_from_top_and_vectors() -> None:
    vectors = unit_rows(300)
    index = ivf_of(vectors, probes=list_count(300))
    index.remove(np.array([7]))
    assert index.size == 299
    assert 7 not in index.top(vectors[7], 20)[1].tolist()
    with pytest.raises(KeyError):
        index.vectors(np.array([7]))


def test_a_saved_index_reads_back_as_the_kind_it_is(tmp_path: Path) -> None:
    vectors = unit_rows(300)
    approximate = ivf_of(vectors, probes=4)
    approximate.save(tmp_path / "ivf.faiss")
    exact = FaissVectorIndex(32)
    exact.add(np.arange(300, dtype=np.int64), vectors)
    exact.save(tmp_path / "flat.faiss")
    read_ivf, read_flat = read_vectors(tmp_path / "ivf.faiss"), read_vectors(tmp_path / "flat.faiss")
    assert isinstance(read_ivf, IvfVectorIndex) and isinstance(read_flat, FaissVectorIndex)
    assert read_ivf.probes == 4
    assert np.array_equal(read_ivf.centroids(), approximate.centroids())
    assert read_ivf.top(vectors[1], 5)[1].tolist() == approximate.top(vectors[1], 5)[1].tolist()


def test_search_runs_on_one_faiss_thread() -> None:
    index = ivf_of(unit_rows(300), probes=2)
    faiss.omp_set_num_threads(2)
    import kb.index.vectors

    kb.index.vectors.use_one_search_thread.cache_clear()
    index.top(unit_rows(1, seed=3)[0], 5)
    assert faiss.omp_get_max_threads() == 1


def test_adding_with_assigned_lists_writes_what_adding_without_them_writes(tmp_path: Path) -> None:
    vectors = unit_rows(300)
    centroids = train_centroids(vectors, list_count(300))
    ids = np.arange(300, dtype=np.int64)
    assigned = IvfVectorIndex.with_centroids(centroids, probes=2)
    assigned.add(ids, vectors, assigned.assign(vectors))
    plain = IvfVectorIndex.with_centroids(centroids, probes=2)
    plain.add(ids, vectors)
    assigned.save(tmp_path / "assigned.faiss")
    plain.save(tmp_path / "plain.faiss")
    assert (tmp_path / "assigned.faiss").read_bytes() == (tmp_path / "plain.faiss").read_bytes()
