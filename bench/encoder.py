"""The encoders side by side (KB_ENCODER, KB_ENCODER_THREADS): query latency, indexing throughput, nDCG@10.

For each encoder and thread count:
  latency     one real query per call (batch of 1), p50/p95 over the eval sets' own queries, as a
              fresh search embeds its query; the encoders take turns in blocks of 50 queries, so load
              from other work on the machine falls on all alike. numpy's BLAS is held to one thread,
              as the server holds it (kb/index/vectors.py).
  throughput  eval corpus passages encoded in batches of KB_EMBED_BATCH_SIZE, as `kb index` does.
  quality     `kb eval` nDCG@10 (hybrid, the default) on each dataset, with each encoder's own index.

The parts run separately (`--parts latency` repeats the timings on a quieter machine); results are
kept in WORKDIR/encoder-results.json and the report is written from all of them: the section
"## Encoder" of docs/PERFORMANCE.md, the other benches' sections kept (bench/report_sections.py).

Usage:
  python bench/encoder.py [DATASET ...] [--parts latency,throughput,quality] [--queries 300]
                          [--passages 512] [--output docs/PERFORMANCE.md] [--workdir bench/.cache]
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY))

from bench.report_sections import replace_section  # noqa: E402
from kb.authoring.evaluation import load_dataset, percentile  # noqa: E402
from kb.config import Encoder, Settings  # noqa: E402
from kb.index.embedder import SentenceTransformerEmbedder, make_embedder  # noqa: E402
from kb.index.vectors import use_one_blas_thread  # noqa: E402

TITLE = "Encoder"
BLOCK = 50
NDCG_TOLERANCE = 0.005  # the rule for a new default: within this of torch's nDCG@10 on every dataset
CONFIGURATIONS = [  # (label, encoder, KB_ENCODER_THREADS); torch uses its own default, one per core
    ("torch", Encoder.TORCH, 1),
    ("onnx, 1 thread", Encoder.ONNX, 1),
    ("onnx, 2 threads", Encoder.ONNX, 2),
    ("onnx-int8, 1 thread", Encoder.ONNX_INT8, 1),
    ("onnx-int8, 2 threads", Encoder.ONNX_INT8, 2),
    ("openvino, 1 thread", Encoder.OPENVINO, 1),
    ("openvino, 2 threads", Encoder.OPENVINO, 2),
]


def embedders() -> dict[str, SentenceTransformerEmbedder]:
    """One loaded embedder per configuration (exports made now, so no timing includes one)."""
    loaded = {}
    for label, encoder, threads in CONFIGURATIONS:
        embedder = make_embedder(Settings(encoder=encoder, encoder_threads=threads))
        embedder.encode(["warm up"])
        loaded[label] = embedder
    return loaded


def measure_latency(
    models: dict[str, SentenceTransformerEmbedder], queries: list[str], as_queries: bool = False
) -> dict[str, Any]:
    """p50/p95 milliseconds of one query's embedding per configuration, blocks taking turns.

    `as_queries`: through `encode_queries`, as a search embeds its query, rather than `encode`.
    """
    use_one_blas_thread()
    calls = {label: embedder.encode_queries if as_queries else embedder.encode for label, embedder in models.items()}
    for embed in calls.values():
        for query in queries[:20]:
            embed([query])
    times: dict[str, list[float]] = {label: [] for label in models}
    load_before = os.getloadavg()
    for start in range(0, len(queries), BLOCK):
        for label, embed in calls.items():
            for query in queries[start : start + BLOCK]:
                began = time.perf_counter()
                embed([query])
                times[label].append((time.perf_counter() - began) * 1000)
    load_after = os.getloadavg()
    return {
        "load": [round(value, 2) for value in (*load_before, *load_after)],
        "queries": len(queries),
        "rows": {
            label: {"p50_ms": round(percentile(values, 0.5), 2), "p95_ms": round(percentile(values, 0.95), 2)}
            for label, values in times.items()
        },
    }


def measure_throughput(models: dict[str, SentenceTransformerEmbedder], passages: list[str]) -> dict[str, Any]:
    """Passages per second, encoded in the indexer's batches, per configuration."""
    load_before = os.getloadavg()
    rows = {}
    for label, embedder in models.items():
        began = time.perf_counter()
        embedder.encode(passages)
        rows[label] = {"per_second": round(len(passages) / (time.perf_counter() - began), 1)}
    return {
        "load": [round(value, 2) for value in (*load_before, *os.getloadavg())],
        "passages": len(passages),
        "rows": rows,
    }


def measure_quality(datasets: list[Path], workdir: Path, encoders: list[Encoder]) -> dict[str, Any]:
    """`kb eval` nDCG@10 per encoder and dataset, each encoder with an index of its own vectors."""
    from kb_cli.eval_command import evaluate

    rows: dict[str, dict[str, float]] = {}
    for encoder in encoders:
        settings = Settings(encoder=encoder, encoder_threads=2)
        embedder = make_embedder(settings)
        for folder in datasets:
            print(f"== quality: {encoder} on {folder.name}", file=sys.stderr)
            metrics = evaluate(folder, workdir / "encoder" / str(encoder) / folder.name, settings, embedder)
            rows.setdefault(str(encoder), {})[folder.name] = metrics["ndcg@10"]
    return {"rows": rows}


def merge_results(store: Path, results: dict[str, Any]) -> dict[str, Any]:
    """The stored results with these new ones in place of the same parts (quality: of the same encoders).

    Read just before writing, so that runs of different parts or encoders side by side keep each other's.
    """
    merged: dict[str, Any] = json.loads(store.read_text()) if store.is_file() else {}
    for part, value in results.items():
        if part == "quality" and "quality" in merged:
            merged["quality"]["rows"].update(value["rows"])
        else:
            merged[part] = value
    merged["date"] = datetime.date.today().isoformat()
    store.parent.mkdir(parents=True, exist_ok=True)
    store.write_text(json.dumps(merged, indent=1))
    return merged


def real_queries(datasets: list[Path], count: int) -> list[str]:
    """The datasets' queries, taken from each in turn, at most `count`."""
    lists = [list(load_dataset(folder).queries.values()) for folder in datasets]
    mixed = [query for group in itertools.zip_longest(*lists) for query in group if query and query.strip()]
    return mixed[:count]


def corpus_passages(datasets: list[Path], count: int) -> list[str]:
    passages = [f"{title}\n\n{text}" for folder in datasets for title, text in load_dataset(folder).corpus.values()]
    return passages[:count]


def format_load(load: list[float]) -> str:
    return f"{load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} before, {load[3]:.2f} / {load[4]:.2f} / {load[5]:.2f} after"


def report_section(results: dict[str, Any], command: str) -> str:
    latency, throughput, quality = results.get("latency"), results.get("throughput"), results.get("quality")
    lines = [
        f"Measured by `{command}` on {results['date']}, on {platform.machine()} with "
        f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPU cores, no GPU, "
        "the bundled all-MiniLM-L6-v2, BLAS held to one thread as in the server. The machine is shared with "
        "other engineers' work: the load averages (1 / 5 / 15 minutes) are beside each part; the encoders "
        f"take turns in blocks of {BLOCK} queries, so load falls on all alike and the ratios hold better than the "
        "absolute times. torch runs with its own thread default (one per core); the others with "
        "KB_ENCODER_THREADS as labelled.",
        "",
        "| encoder | query p50 | query p95 | p50 vs torch | passages/s | vs torch |",
        "|---|---|---|---|---|---|",
    ]
    torch_latency = latency["rows"]["torch"]["p50_ms"] if latency else None
    torch_throughput = throughput["rows"]["torch"]["per_second"] if throughput else None
    for label, _, _ in CONFIGURATIONS:
        cells = [label]
        if latency:
            row = latency["rows"][label]
            cells += [f"{row['p50_ms']:.2f} ms", f"{row['p95_ms']:.2f} ms", f"{row['p50_ms'] / torch_latency:.2f}×"]
        else:
            cells += ["", "", ""]
        if throughput:
            speed = throughput["rows"][label]["per_second"]
            cells += [f"{speed:.1f}", f"{speed / torch_throughput:.2f}×"]
        else:
            cells += ["", ""]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    if latency:
        lines.append(
            f"Query latency: {latency['queries']} real queries of the eval sets, one per call; "
            f"load {format_load(latency['load'])}."
        )
    if throughput:
        lines.append(
            f"Throughput: the first {throughput['passages']} eval corpus passages (title and text, cut at 256 tokens "
            f"as the model cuts them) in batches of 32; load {format_load(throughput['load'])}."
        )
    if quality:
        names = sorted({name for row in quality["rows"].values() for name in row})
        torch_row = quality["rows"]["torch"]
        missing = {str(encoder) for encoder in Encoder} - set(quality["rows"])
        lines += [
            "",
            "`kb eval` nDCG@10 (hybrid, the default settings), each encoder with an index built by it; an encoder "
            "with torch's fingerprint (onnx) reuses the vectors of a torch build in its folder, as a server "
            "switching to it does, and embeds the queries itself"
            + (f"; not measured: {', '.join(sorted(missing))}:" if missing else ":"),
            "",
            "| encoder | " + " | ".join(names) + f" | within {NDCG_TOLERANCE} of torch on all |",
            "|---|" + "---|" * len(names) + "---|",
        ]
        for encoder, row in quality["rows"].items():
            deltas = [row[name] - torch_row[name] for name in names]
            cells = [f"{row[name]:.4f} ({delta:+.4f})" for name, delta in zip(names, deltas, strict=True)]
            within = "yes" if all(abs(delta) <= NDCG_TOLERANCE for delta in deltas) else "no"
            lines.append(f"| {encoder} | " + " | ".join(cells) + f" | {within} |")
        if latency:
            lines += ["", rule_verdict(latency, quality)]
    return "\n".join(lines) + "\n"


def rule_verdict(latency: dict[str, Any], quality: dict[str, Any]) -> str:
    """Which encoder the rule makes the default: the fastest query p50 of those within the nDCG tolerance."""
    torch_row = quality["rows"]["torch"]
    allowed = {
        encoder
        for encoder, row in quality["rows"].items()
        if all(abs(row[name] - torch_row[name]) <= NDCG_TOLERANCE for name in torch_row)
    }
    candidates = [
        (latency["rows"][label]["p50_ms"], label)
        for label, encoder, _ in CONFIGURATIONS
        if str(encoder) in allowed and label in latency["rows"]
    ]
    p50, label = min(candidates)
    refused = sorted(set(quality["rows"]) - allowed)
    return (
        f"The rule (nDCG@10 within {NDCG_TOLERANCE} of torch on every set, then the fastest query p50) picks "
        f"**{label}** ({p50:.2f} ms)" + (f"; too much nDCG lost: {', '.join(refused)}." if refused else ".")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("datasets", nargs="*", type=Path)
    parser.add_argument("--parts", default="latency,throughput,quality")
    parser.add_argument("--encoders", default=",".join(Encoder), help="the encoders whose quality is measured")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--passages", type=int, default=512)
    parser.add_argument("--output", type=Path, default=REPOSITORY / "docs" / "PERFORMANCE.md")
    parser.add_argument("--workdir", type=Path, default=REPOSITORY / "bench" / ".cache")
    arguments = parser.parse_args()
    datasets = arguments.datasets or sorted(
        path for path in (REPOSITORY.parent / "shared" / "eval").glob("*") if (path / "corpus.jsonl").exists()
    )
    if not datasets:
        parser.error("no datasets given and ../shared/eval has none")
    parts = set(arguments.parts.split(",")) - {""}  # none: the report rewritten from the stored results
    if parts - {"latency", "throughput", "quality"}:
        parser.error(f"unknown parts: {', '.join(sorted(parts - {'latency', 'throughput', 'quality'}))}")
    store = arguments.workdir / "encoder-results.json"
    results: dict[str, Any] = {}
    if parts & {"latency", "throughput"}:
        models = embedders()
        if "latency" in parts:
            results["latency"] = measure_latency(models, real_queries(datasets, arguments.queries))
        if "throughput" in parts:
            results["throughput"] = measure_throughput(models, corpus_passages(datasets, arguments.passages))
    if "quality" in parts:
        encoders = [Encoder(name) for name in arguments.encoders.split(",")]
        results["quality"] = measure_quality(datasets, arguments.workdir, encoders)
    results = merge_results(store, results)
    command = "python bench/encoder.py " + " ".join(str(path) for path in arguments.datasets)
    section = report_section(results, command.strip())
    print(section, file=sys.stderr)
    replace_section(arguments.output, TITLE, section)
    print(f"wrote {arguments.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
