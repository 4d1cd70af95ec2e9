"""Approximate nearest neighbours for large collections: FAISS IVF, inverted lists over k-means centroids.

A query reads only the lists of its `probes` nearest centroids instead of every vector. The centroids
are trained once (seeded k-means) and can be handed to the next build, which then only assigns its
vectors to them: a publish stays cheap while the collection has not drifted far from the one they
were trained on.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from kb.index.vectors import best_first, rows_of, scores_by_id, use_one_blas_thread, use_one_search_thread

KMEANS_SEED = 20261124
KMEANS_ITERATIONS = 20
TRAINING_POINTS_PER_LIST = 64  # k-means sample: enough per centroid, cheap on a full build
LISTS_PER_SQRT_CHUNK = 1  # lists = sqrt(chunks): a probe then reads about sqrt(chunks) vectors


def list_count(chunk_count: int) -> int:
    """How many centroids (inverted lists) to train for a collection of `chunk_count` vectors."""
    return max(1, min(chunk_count, round(LISTS_PER_SQRT_CHUNK * math.sqrt(chunk_count))))


@contextlib.contextmanager
def faiss_threads(count: int) -> Iterator[None]:
    """Run FAISS (OpenMP) with `count` threads inside the block, restoring the count after it."""
    import faiss

    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(count)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def train_centroids(vectors: np.ndarray, lists: int) -> np.ndarray:
    """Unit-length k-means centroids of `vectors` (rows of unit length), `lists` of them.

    Seeded and run on one thread, so the same vectors give the same centroids bit for bit: with
    several threads the order of floating-point sums, and so the centroids, may differ from run to run.
    """
    import faiss

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    dimension = vectors.shape[1]
    parameters = faiss.ClusteringParameters()
    parameters.niter = KMEANS_ITERATIONS
    parameters.seed = KMEANS_SEED
    parameters.spherical = True  # centroids of unit length, as inner-product search wants
    parameters.max_points_per_centroid = TRAINING_POINTS_PER_LIST
    parameters.min_points_per_centroid = 1  # small test collections: no warning on stderr
    parameters.verbose = False
    clustering = faiss.Clustering(dimension, lists, parameters)
    with faiss_threads(1):
        clustering.train(vectors, faiss.IndexFlatIP(dimension))
    return faiss.vector_to_array(clustering.centroids).reshape(lists, dimension)


class IvfVectorIndex:
    """Approximate search over normalised vectors: IndexIVFFlat (inner product) with ids 0..n-1.

    `top` and `search` read the lists of the query's `probes` nearest centroids; `vectors` and
    `score_all` stay exact, from all vectors held in one id-ordered matrix (built on first use).
    """

    def __init__(self, index: Any) -> None:
        self.index = index
        self.dimension = int(index.d)
        self._matrix: np.ndarray | None = None
        self._ids: np.ndarray = np.zeros(0, dtype=np.int64)

    @classmethod
    def with_centroids(cls, centroids: np.ndarray, probes: int) -> IvfVectorIndex:
        """An empty index whose lists are those of `centroids` (one unit-length row each)."""
        import faiss

        centroids = np.ascontiguousarray(centroids, dtype=np.float32)
        lists, dimension = centroids.shape
        quantizer = faiss.IndexFlatIP(dimension)
        quantizer.add(centroids)
        index = faiss.IndexIVFFlat(quantizer, dimension, lists, faiss.METRIC_INNER_PRODUCT)
        index.nprobe = min(probes, lists)
        return cls(index)

    @classmethod
    def load(cls, path: Path) -> IvfVectorIndex:
        import faiss

        return cls(faiss.read_index(str(path)))

    @property
    def size(self) -> int:
        return int(self.index.ntotal)

    @property
    def probes(self) -> int:
        return int(self.index.nprobe)

    def centroids(self) -> np.ndarray:
        """The lists' centroids, one row each, to hand to the next build."""
        return self.index.quantizer.reconstruct_n(0, self.index.nlist)

    def assign(self, vectors: np.ndarray) -> np.ndarray:
        """The list (nearest centroid) of each of `vectors`: where `add` files it."""
        if not len(vectors):
            return np.zeros(0, dtype=np.int64)
        _, lists = self.index.quantizer.search(np.ascontiguousarray(vectors, dtype=np.float32), 1)
        return np.ascontiguousarray(lists[:, 0], dtype=np.int64)

    def add(self, ids: np.ndarray, vectors: np.ndarray, lists: np.ndarray | None = None) -> None:
        """Store `vectors` under `ids`; `lists` (from `assign`, one per vector) saves assigning them again."""
        import faiss

        if len(ids):
            self._matrix = None
            vectors = np.ascontiguousarray(vectors, dtype=np.float32)
            ids = np.ascontiguousarray(ids, dtype=np.int64)
            if lists is None:
                self.index.add_with_ids(vectors, ids)
            else:
                lists = np.ascontiguousarray(lists, dtype=np.int64)
                self.index.add_core(len(ids), faiss.swig_ptr(vectors), faiss.swig_ptr(ids), faiss.swig_ptr(lists))

    def remove(self, ids: np.ndarray) -> None:
        import faiss

        self._matrix = None
        self.index.remove_ids(faiss.IDSelectorBatch(np.asarray(ids, dtype=np.int64)))

    def search(
        self, queries: np.ndarray, k: int, allowed_ids: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-`k` (scores, ids) per query row; ids of -1 pad missing results.

        Approximate without `allowed_ids`; exact over them when given, since a small allowed set may
        lie outside every probed list.
        """
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        if allowed_ids is None:
            return self.index.search(queries, k)
        scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
        found = np.full((len(queries), k), -1, dtype=np.int64)
        allowed = np.unique(np.asarray(allowed_ids, dtype=np.int64))
        stored, _ = self.id_matrix()
        allowed = allowed[np.isin(allowed, stored)]
        if len(allowed) == 0:
            return scores, found
        candidates = self.vectors(allowed) @ queries.T  # one column per query
        for row in range(len(queries)):
            best = best_first(candidates[:, row], k)
            scores[row, : len(best)] = candidates[best, row]
            found[row, : len(best)] = allowed[best]
        return scores, found

    def score_all(self, query: np.ndarray) -> np.ndarray:
        """Inner product of `query` with every stored vector, in id order (-inf for ids not stored). Exact."""
        return scores_by_id(*self.id_matrix(), query)

    def top(self, query: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """The `n` stored vectors nearest `query` among the probed lists as (scores, ids), best first.

        When the probed lists hold fewer than `n` vectors, twice the lists are read, and so on: `n`
        results come back whenever `n` are stored, as from the exact index.
        """
        import faiss

        use_one_search_thread()
        n = min(n, self.size)
        if n <= 0:
            return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
        queries = np.asarray(query, dtype=np.float32)[None, :]
        probes = self.probes
        while True:
            parameters = faiss.SearchParametersIVF(nprobe=probes)  # type: ignore[call-arg]
            scores, ids = self.index.search(queries, n, params=parameters)
            keep = ids[0] >= 0
            if keep.all() or probes >= self.index.nlist:
                return scores[0][keep], ids[0][keep]
            probes = min(2 * probes, int(self.index.nlist))

    def id_matrix(self) -> tuple[np.ndarray, np.ndarray]:
        """(ids sorted, their vectors one row each), read from the inverted lists on first use and kept."""
        if self._matrix is None:
            use_one_blas_thread()
            ids, vectors = list_contents(self.index)
            order = np.argsort(ids, kind="stable")
            self._ids, self._matrix = ids[order], np.ascontiguousarray(vectors[order])
        return self._ids, self._matrix

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        """The stored vectors of `ids`, one row each, in that order.

        Raises:
            KeyError: an id is not stored.
        """
        stored, matrix = self.id_matrix()
        return rows_of(stored, matrix, ids)

    def save(self, path: Path) -> None:
        import faiss

        faiss.write_index(self.index, str(path))


def list_contents(index: Any) -> tuple[np.ndarray, np.ndarray]:
    """(ids, vectors) of everything an IndexIVFFlat holds, list after list."""
    import faiss

    lists = index.invlists
    all_ids, all_vectors = [np.zeros(0, dtype=np.int64)], [np.zeros((0, index.d), dtype=np.float32)]
    for list_number in range(index.nlist):
        length = lists.list_size(list_number)
        if length == 0:
            continue
        ids = faiss.rev_swig_ptr(lists.get_ids(list_number), length)
        codes = faiss.rev_swig_ptr(lists.get_codes(list_number), length * index.code_size)
        all_ids.append(np.array(ids, dtype=np.int64))
        all_vectors.append(np.frombuffer(bytes(codes), dtype=np.float32).reshape(length, index.d))
    return np.concatenate(all_ids), np.concatenate(all_vectors)
