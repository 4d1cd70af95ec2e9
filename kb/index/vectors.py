"""A small nearest-neighbour index interface, with FAISS (exact inner product) behind it."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Protocol

import numpy as np


@functools.cache
def use_one_blas_thread() -> None:
    """Keep numpy's BLAS to one thread in this process.

    A query's vector product is tiny, but BLAS worker threads keep spinning after each call and
    take the cores the model needs to embed the next query: on 2 cores that tripled embedding time.
    """
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")


@functools.cache
def use_one_search_thread() -> None:
    """Search on one thread in this process: numpy's BLAS (see `use_one_blas_thread`) and FAISS's OpenMP.

    FAISS splits even a single query's exact scan over its OpenMP threads, which then spin for the
    next call: on the shared 2-core machine `top` over 40,000 vectors took 150 ms a query with two
    threads and 17 ms with one. A server answers queries side by side in its own threads instead.
    """
    import faiss

    use_one_blas_thread()
    faiss.omp_set_num_threads(1)


class VectorIndex(Protocol):
    """Vectors addressed by integer ids; searched by inner product (cosine for unit vectors)."""

    @property
    def size(self) -> int: ...

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None: ...

    def remove(self, ids: np.ndarray) -> None: ...

    def search(
        self, queries: np.ndarray, k: int, allowed_ids: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]: ...

    def score_all(self, query: np.ndarray) -> np.ndarray: ...

    def top(self, query: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]: ...

    def vectors(self, ids: np.ndarray) -> np.ndarray: ...

    def save(self, path: Path) -> None: ...


class FaissVectorIndex:
    """Exact search over normalised vectors: IndexIDMap2 over IndexFlatIP."""

    def __init__(self, dimension: int, index: Any = None) -> None:
        import faiss

        self.dimension = dimension
        self.index: Any = index if index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))
        self._matrix: np.ndarray | None = None  # vectors in id order, for full scans and gathers; made on first use
        self._ids: np.ndarray = np.zeros(0, dtype=np.int64)  # the ids of its rows

    @classmethod
    def load(cls, path: Path) -> FaissVectorIndex:
        import faiss

        index = faiss.read_index(str(path))
        return cls(index.d, index)

    @property
    def size(self) -> int:
        return int(self.index.ntotal)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids):
            self._matrix = None
            self.index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(ids, dtype=np.int64))

    def remove(self, ids: np.ndarray) -> None:
        import faiss

        self._matrix = None
        self.index.remove_ids(faiss.IDSelectorBatch(np.asarray(ids, dtype=np.int64)))

    def search(
        self, queries: np.ndarray, k: int, allowed_ids: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-`k` (scores, ids) per query row; ids of -1 pad missing results."""
        import faiss

        queries = np.ascontiguousarray(queries, dtype=np.float32)
        if allowed_ids is None:
            return self.index.search(queries, k)
        if len(allowed_ids) == 0:
            return (
                np.full((len(queries), k), -np.inf, dtype=np.float32),
                np.full((len(queries), k), -1, dtype=np.int64),
            )
        selector = faiss.IDSelectorBatch(np.asarray(allowed_ids, dtype=np.int64))
        parameters = faiss.SearchParameters(sel=selector)  # type: ignore[call-arg]
        return self.index.search(queries, k, params=parameters)

    def score_all(self, query: np.ndarray) -> np.ndarray:
        """Inner product of `query` with every stored vector, in id order (-inf for ids not stored).

        Exact; reads every vector, so `top` is what a query should use at scale.
        """
        return scores_by_id(*self.id_matrix(), query)

    def top(self, query: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """The `n` stored vectors nearest `query` as (scores, ids), best first; fewer when fewer are stored."""
        use_one_search_thread()
        n = min(n, self.size)
        if n <= 0:
            return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
        scores, ids = self.search(np.asarray(query, dtype=np.float32)[None, :], n)
        keep = ids[0] >= 0
        return scores[0][keep], ids[0][keep]

    def id_matrix(self) -> tuple[np.ndarray, np.ndarray]:
        """(ids sorted, their vectors one row each), built on first use and kept."""
        if self._matrix is None:
            use_one_blas_thread()
            ids = self.id_array()
            order = np.argsort(ids, kind="stable")
            stored = self.index.index.reconstruct_n(0, self.size) if self.size else np.zeros((0, self.dimension))
            self._matrix = np.ascontiguousarray(np.asarray(stored, dtype=np.float32)[order])
            self._ids = ids[order]
        return self._ids, self._matrix

    def id_array(self) -> np.ndarray:
        import faiss

        return faiss.vector_to_array(self.index.id_map).astype(np.int64)

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


def rows_of(stored: np.ndarray, matrix: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """The rows of `matrix` (one per id of sorted `stored`) for `ids`, in that order.

    Raises:
        KeyError: an id is not stored.
    """
    ids = np.asarray(ids, dtype=np.int64)
    if len(ids) == 0:
        return np.zeros((0, matrix.shape[1]), dtype=np.float32)
    if stored[0] == 0 and stored[-1] == len(stored) - 1:  # distinct sorted ids 0..n-1, as a build stores them
        if ids.min() < 0 or ids.max() >= len(stored):
            raise KeyError(f"ids not stored: {sorted(set(ids[(ids < 0) | (ids >= len(stored))].tolist()))[:5]}")
        return matrix[ids]  # each id is its row
    rows = np.searchsorted(stored, ids)
    if np.any(rows >= len(stored)) or np.any(stored[np.minimum(rows, len(stored) - 1)] != ids):
        raise KeyError(f"ids not stored: {sorted(set(ids.tolist()) - set(stored.tolist()))[:5]}")
    return matrix[rows]


def scores_by_id(ids: np.ndarray, matrix: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Inner product of `query` with each row of `matrix`, placed at its id (-inf for ids not stored)."""
    scores = np.full(int(ids.max()) + 1 if len(ids) else 0, -np.inf, dtype=np.float32)
    scores[ids] = matrix @ np.asarray(query, dtype=np.float32)
    return scores


def best_first(scores: np.ndarray, count: int) -> np.ndarray:
    """Indices of the `count` highest `scores`, highest first (ties in index order); all of them when fewer."""
    if count <= 0:
        return np.zeros(0, dtype=np.int64)
    chosen = np.argpartition(-scores, count - 1)[:count] if count < len(scores) else np.arange(len(scores))
    return chosen[np.lexsort((chosen, -scores[chosen]))]
