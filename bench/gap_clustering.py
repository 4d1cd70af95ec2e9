"""Content gaps: how well clustering puts each question's phrasings into one gap, per linkage and distance.

Data: the customer phrasings of the stackfaq threads with at least 5 of them (62 threads of 10),
taken 8 threads at a time by thread id (window 0 is the set the test suite reports on), and the
suite's own tests/data/gap_phrasings.yaml. Each phrasing is embedded with the real model, then
clustered by scikit-learn's AgglomerativeClustering; the adjusted Rand index compares the clusters
with the true groups (1.0: exactly one cluster per group).

Usage:
  python bench/gap_clustering.py [--shared ../shared]
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
from pathlib import Path

import numpy as np
import yaml

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY))

LINKAGES = {"complete": (0.55, 0.6, 0.65, 0.7, 0.75), "average": (0.4, 0.45, 0.5, 0.55, 0.6)}


def stackfaq_windows(folder: Path, size: int = 8) -> list[tuple[list[str], list[str]]]:
    text = {}
    for line in (folder / "queries.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        text[record["_id"]] = record["text"]
    threads: dict[str, list[str]] = collections.defaultdict(list)
    for line in (folder / "qrels" / "test.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        query, thread, _ = line.split("\t")
        threads[thread].append(text[query])
    chosen = sorted(thread for thread, queries in threads.items() if len(queries) >= 5)
    windows = []
    for start in range(0, len(chosen) - size + 1, size):
        group = chosen[start : start + size]
        pairs = [(thread, phrasing) for thread in group for phrasing in sorted(threads[thread])]
        windows.append(([thread for thread, _ in pairs], [phrasing for _, phrasing in pairs]))
    return windows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=REPOSITORY.parent / "shared")
    arguments = parser.parse_args()
    from sklearn.cluster import AgglomerativeClustering
    from sklearn.metrics import adjusted_rand_score

    from kb.authoring.gaps import unit_rows
    from kb.index.embedder import SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder()
    suite = yaml.safe_load((REPOSITORY / "tests" / "data" / "gap_phrasings.yaml").read_text(encoding="utf-8"))
    sets = [
        ([name for name, group in suite.items() for _ in group], [text for group in suite.values() for text in group])
    ]
    sets += stackfaq_windows(arguments.shared / "eval" / "stackfaq")
    vectors = [unit_rows(embedder.encode(texts)) for _, texts in sets]
    names = ["suite"] + [f"w{number}" for number in range(len(sets) - 1)]
    print("| linkage | distance | " + " | ".join(names) + " | mean of w1-w6 |")
    print("|---|---|" + "---|" * (len(names) + 1))
    for linkage, distances in LINKAGES.items():
        for distance in distances:
            scores = []
            for (truth, _), rows in zip(sets, vectors, strict=True):
                model = AgglomerativeClustering(
                    n_clusters=None, distance_threshold=distance, metric="cosine", linkage=linkage
                )
                scores.append(adjusted_rand_score(truth, model.fit_predict(rows)))
            held_out = float(np.mean(scores[2:]))
            cells = " | ".join(f"{score:.3f}" for score in scores)
            print(f"| {linkage} | {distance} | {cells} | {held_out:.3f} |")


if __name__ == "__main__":
    main()
