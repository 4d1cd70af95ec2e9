"""The vector index a build writes: exact below `KB_ANN_MIN_CHUNKS` chunks, approximate (IVF) from there on.

An approximate build trains k-means centroids only when it must (the first approximate build, or a
collection that has shrunk or grown past `REUSE_FACTOR` since they were trained); otherwise it reuses
the live build's centroids and only assigns the vectors to them, which keeps a one-article publish
cheap at tens of thousands of chunks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kb.config import Settings
from kb.index.approximate import IvfVectorIndex, list_count, train_centroids
from kb.index.format import PublishedIndex
from kb.index.vectors import FaissVectorIndex, VectorIndex

REUSE_FACTOR = 2.0  # centroids serve collections from half to twice the size they were trained on


@dataclass(frozen=True)
class Centroids:
    """The coarse centroids of an approximate index and the number of chunks they were trained on."""

    vectors: np.ndarray
    trained_on: int

    def suit(self, chunk_count: int, dimension: int) -> bool:
        """Whether these centroids may serve a collection of `chunk_count` vectors of `dimension`."""
        return (
            self.vectors.shape[1] == dimension
            and self.trained_on / REUSE_FACTOR <= chunk_count <= self.trained_on * REUSE_FACTOR
        )


def centroids_of(index: PublishedIndex) -> Centroids | None:
    """The centroids of a published build, when its vector index is approximate."""
    if not isinstance(index.vectors, IvfVectorIndex):
        return None
    return Centroids(index.vectors.centroids(), index.manifest.centroids_trained_on)


def make_vector_index(
    vectors: np.ndarray, settings: Settings, previous: Centroids | None, known_lists: np.ndarray | None = None
) -> tuple[VectorIndex, Centroids | None, np.ndarray | None]:
    """The index of `vectors` (ids 0..n-1), its centroids and each vector's list (both None for an exact index).

    `previous` are the live build's centroids, reused when they suit this collection; `known_lists`
    holds each vector's list under them where an earlier build assigned it (-1 where not), so that
    only the other vectors are assigned.
    """
    count, dimension = vectors.shape
    ids = np.arange(count, dtype=np.int64)
    if count < settings.ann_min_chunks:
        exact = FaissVectorIndex(dimension)
        exact.add(ids, vectors)
        return exact, None, None
    centroids = previous
    if centroids is None or not centroids.suit(count, dimension):
        centroids, known_lists = Centroids(train_centroids(vectors, list_count(count)), count), None
    approximate = IvfVectorIndex.with_centroids(centroids.vectors, settings.ann_probes)
    lists = np.full(count, -1, dtype=np.int64) if known_lists is None else known_lists.astype(np.int64)
    unknown = np.flatnonzero(lists < 0)
    lists[unknown] = approximate.assign(vectors[unknown])
    approximate.add(ids, vectors, lists)
    return approximate, centroids, lists
