"""Approximate vector search: recall against exact search, per-query latency, and build costs.

Reads the vectors of a built index (say the 10,000-article generated help center: about 88,000 chunks)
and its articles' titles and questions as queries, embedded with the bundled model (cached in
--workdir, so a rerun embeds nothing). For each collection, the index's own and one grown to
--grow chunks (random chunks copied with Gaussian noise, cosine about 0.9 to their original, since
embedding another 50,000 sections takes most of an hour on 2 cores), it measures:

  - exact search (FAISS flat inner product, what kb uses below KB_ANN_MIN_CHUNKS): `top` latency;
  - IVF (kb.index.approximate): k-means training time, the one-article publish (the live build's
    centroids reused: assign and add every vector, write the file), and for each probe count the
    recall@10 and recall@50 of `top(query, --depth)` against exact search and its latency;
  - HNSW (IndexHNSWFlat, M=32), for comparison: build time, recall and latency.

Latency is one thread (as `kb serve` searches), p50 and p95 over the queries.

Usage:
  python bench/ann_recall.py --index /tmp/hc10k/index [--grow 50000,90000] [--probes 8,16,24,32,48]
                             [--queries 600] [--output docs/PERFORMANCE.md]
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import os
import platform
import random
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY))

from bench.report_sections import replace_section  # noqa: E402
from kb.config import Settings  # noqa: E402
from kb.index.approximate import IvfVectorIndex, faiss_threads, list_count, train_centroids  # noqa: E402
from kb.index.format import ARTICLES_FILE, VECTORS_FILE, current_build, read_articles, read_vectors  # noqa: E402
from kb.index.vectors import FaissVectorIndex, use_one_blas_thread  # noqa: E402

SEED = 11
NOISE = 0.5  # norm of the noise added to a unit vector to grow a collection: cosine 1/sqrt(1 + 0.25) ≈ 0.89
HNSW_LINKS = 32
HNSW_CONSTRUCTION = 40
HNSW_MAX_CHUNKS = 50_000  # its build takes minutes beyond
HNSW_SEARCH = (1, 2)  # efSearch as multiples of the depth asked for


@dataclass
class Row:
    method: str
    recall_10: float
    recall_50: float
    p50_ms: float
    p95_ms: float
    note: str = ""


def query_texts(build: Path, count: int) -> list[str]:
    """Up to `count` titles and questions of the build's articles, a seeded sample, in a stable order."""
    texts: list[str] = []
    for record in sorted(read_articles(build / ARTICLES_FILE).values(), key=lambda record: record.slug):
        texts += [record.title, *record.questions]
    unique = sorted(set(texts))
    return random.Random(SEED).sample(unique, min(count, len(unique)))


def query_vectors(texts: list[str], workdir: Path) -> np.ndarray:
    """The texts embedded with the bundled model, cached by their content."""
    key = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:16]
    cache = workdir / f"ann-queries-{key}.npy"
    if cache.exists():
        return np.load(cache)
    from kb.index.embedder import SentenceTransformerEmbedder

    vectors = SentenceTransformerEmbedder().encode(texts)
    workdir.mkdir(parents=True, exist_ok=True)
    np.save(cache, vectors)
    return vectors


def grown(vectors: np.ndarray, size: int) -> np.ndarray:
    """`vectors` and noisy copies of random ones of them, `size` rows of unit length in all."""
    generator = np.random.default_rng(SEED)
    extra = size - len(vectors)
    if extra <= 0:
        return vectors
    copies = vectors[generator.integers(0, len(vectors), extra)]
    noise = generator.standard_normal(copies.shape).astype(np.float32) * (NOISE / np.sqrt(vectors.shape[1]))
    copies = copies + noise
    copies /= np.linalg.norm(copies, axis=1, keepdims=True)
    return np.vstack([vectors, copies]).astype(np.float32)


def recall(found: list[np.ndarray], truth: np.ndarray, k: int) -> float:
    """Mean share of each query's exact top `k` that the approximate top `k` holds."""
    return float(
        np.mean([len(set(ids[:k].tolist()) & set(row[:k].tolist())) / k for ids, row in zip(found, truth, strict=True)])
    )


def timed_tops(top: Callable[[np.ndarray, int], tuple[np.ndarray, np.ndarray]], queries: np.ndarray, depth: int):
    """Each query's ids from `top`, and the per-query times in milliseconds."""
    found, times = [], []
    for query in queries:
        started = time.perf_counter()
        _, ids = top(query, depth)
        times.append((time.perf_counter() - started) * 1000)
        found.append(ids)
    return found, np.array(times)


def row_of(method: str, found: list[np.ndarray], truth: np.ndarray, times: np.ndarray, note: str = "") -> Row:
    return Row(
        method,
        recall(found, truth, 10),
        recall(found, truth, 50),
        float(np.percentile(times, 50)),
        float(np.percentile(times, 95)),
        note,
    )


def seconds(action: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def measure(
    vectors: np.ndarray, queries: np.ndarray, probes: list[int], depth: int, hnsw: bool
) -> tuple[list[Row], dict[str, float]]:
    """Rows of the recall/latency table and the build costs (seconds) for one collection."""
    ids = np.arange(len(vectors), dtype=np.int64)
    exact = FaissVectorIndex(vectors.shape[1])
    exact.add(ids, vectors)
    truth = exact.search(queries, max(depth, 50))[1]
    costs: dict[str, float] = {}
    with faiss_threads(1):
        found, times = timed_tops(exact.top, queries, depth)
        rows = [row_of("exact (flat)", found, truth, times)]
    lists = list_count(len(vectors))
    costs["train"], centroids = seconds(lambda: train_centroids(vectors, lists))

    def publish() -> IvfVectorIndex:
        index = IvfVectorIndex.with_centroids(centroids, 1)
        index.add(ids, vectors)
        with tempfile.TemporaryDirectory() as folder:
            index.save(Path(folder) / VECTORS_FILE)
        return index

    with faiss_threads(os.cpu_count() or 1):  # as `kb index` runs it
        costs["publish"], approximate = seconds(publish)
    with faiss_threads(1):
        for count in probes:
            approximate.index.nprobe = count
            found, times = timed_tops(approximate.top, queries, depth)
            rows.append(row_of(f"IVF, {lists} lists, {count} probes", found, truth, times))
        if hnsw:
            rows += measure_hnsw(vectors, queries, truth, depth, costs)
    return rows, costs


def measure_hnsw(
    vectors: np.ndarray, queries: np.ndarray, truth: np.ndarray, depth: int, costs: dict[str, float]
) -> list[Row]:
    import faiss

    index = faiss.IndexHNSWFlat(vectors.shape[1], HNSW_LINKS, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = HNSW_CONSTRUCTION
    with faiss_threads(os.cpu_count() or 1):
        costs["hnsw build"], _ = seconds(lambda: index.add(vectors))
    rows = []
    for search_depth in HNSW_SEARCH:
        index.hnsw.efSearch = search_depth * depth

        def top(query: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
            scores, found = index.search(query[None, :], n)
            return scores[0], found[0]

        found, times = timed_tops(top, queries, depth)
        rows.append(row_of(f"HNSW, M={HNSW_LINKS}, efSearch={index.hnsw.efSearch}", found, truth, times))
    return rows


def table(rows: list[Row]) -> str:
    lines = ["| method | recall@10 | recall@50 | p50 ms | p95 ms |", "|---|---|---|---|---|"]
    for row in rows:
        lines.append(
            f"| {row.method} | {row.recall_10:.3f} | {row.recall_50:.3f} | {row.p50_ms:.2f} | {row.p95_ms:.2f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, required=True, help="an index folder (its live build is read)")
    parser.add_argument(
        "--grow", default="50000,90000", help="also measure collections grown to these many chunks, comma-separated"
    )
    parser.add_argument("--probes", default="8,16,24,32,48", help="probe counts to measure, comma-separated")
    parser.add_argument("--queries", type=int, default=600)
    parser.add_argument("--depth", type=int, default=200, help="n of top(query, n): the candidates search asks for")
    parser.add_argument("--no-hnsw", dest="hnsw", action="store_false", help="leave out the HNSW comparison")
    parser.add_argument("--workdir", type=Path, default=REPOSITORY / "bench" / ".cache")
    parser.add_argument("--output", type=Path, default=REPOSITORY / "docs" / "PERFORMANCE.md")
    arguments = parser.parse_args()
    probes = [int(value) for value in arguments.probes.split(",")]
    build = current_build(arguments.index)
    texts = query_texts(build, arguments.queries)
    queries = query_vectors(texts, arguments.workdir)
    use_one_blas_thread()
    _, base = read_vectors(build / VECTORS_FILE).id_matrix()  # type: ignore[attr-defined]
    collections = [("the index's own", base)]
    for size in [int(value) for value in arguments.grow.split(",") if value.strip()]:
        if size > len(base):
            collections.append(("grown", grown(base, size)))
    load = os.getloadavg()
    parts = []
    for name, vectors in collections:
        print(f"== {name}: {len(vectors)} chunks", file=sys.stderr)
        hnsw = arguments.hnsw and len(vectors) <= HNSW_MAX_CHUNKS
        rows, costs = measure(vectors, queries, probes, arguments.depth, hnsw)
        print(table(rows), costs, file=sys.stderr)
        cost_line = (
            f"k-means training ({list_count(len(vectors))} lists, one thread): {costs['train']:.1f} s; "
            f"one-article publish with the centroids reused (assign and add every vector, write the file): "
            f"{costs['publish']:.2f} s"
            + (f"; HNSW build (all cores): {costs['hnsw build']:.1f} s" if "hnsw build" in costs else "")
        )
        parts.append(f"### {len(vectors)} chunks ({name})\n\n{table(rows)}\n\n{cost_line}.")
    end_load = os.getloadavg()
    settings = Settings()
    command = "python bench/ann_recall.py " + " ".join(sys.argv[1:])
    section = f"""

Generated by `{command.strip()}` on {datetime.date.today().isoformat()}, on {platform.machine()} with
{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPU cores, no GPU, the
bundled all-MiniLM-L6-v2 model. Load average {load[0]:.1f} at the start and {end_load[0]:.1f} at the end:
**the machine was shared**, so latencies are noisy; recall is not.

Queries: {len(texts)} titles and questions of the index's articles, embedded with the model. Each
method's `top(query, {arguments.depth})` (the dense candidates a search asks for) is compared with
exact search: recall@k is the share of the exact top k it returns. The grown collection adds
copies of random chunks with Gaussian noise (cosine about 0.9 to their original) to the index's own.
A copy sits near its original, which makes the approximate search's task easier than real chunks
do: trust the index's own rows for recall, the grown ones for latency and build costs.
Latency is per query on one thread, as `kb serve` runs it.

From `KB_ANN_MIN_CHUNKS` chunks (default {settings.ann_min_chunks}) `kb index` writes the IVF index
(sqrt(chunks) lists) with `KB_ANN_PROBES` probes (default {settings.ann_probes}).

Why IVF rather than HNSW: every publish writes a whole new build, so the index is made again on
each one-article change, and must be made within the 2 s a one-article update may take. An IVF
index made with the live build's centroids only assigns each vector to its nearest centroid (the
"one-article publish" figure below); k-means runs on the first approximate build and when the
collection has halved or doubled since. HNSW has no such shortcut: its graph is built vector by
vector on every publish (FAISS cannot remove from it either), the "HNSW build" figure below, and
buys little latency at this size.

{(chr(10) * 2).join(parts)}
"""
    replace_section(arguments.output, "Approximate vector search", section)
    print(f"wrote {arguments.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
