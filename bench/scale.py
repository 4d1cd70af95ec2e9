"""How a search, a build and a worker's memory grow with the help center: 100, 1,000, 10,000 articles, and beyond.

    python bench/scale.py --sizes 100 1000 [--index /tmp/hc10k/index ...] [--queries 300]

For each size in `--sizes` a help center is generated (`bench/generate_help_center.py`, seed 7) and
indexed from scratch by `kb index` in a child process: its wall time and peak memory (the child's
own `ru_maxrss`). Each `--index` is an already built help center (a 10,000-article one takes an hour
to embed on 2 cores) measured as it is.

Then each index is opened in a fresh child process, as a server worker opens it: the time to load
and warm it, the memory it then holds, and `--queries` distinct searches (titles and section
headings as a reader types them, from `bench/load.py`), timed in two parts: the query's embedding
(the model alone) and everything else (candidates, fusion, confidence, snippets). Searches go
straight to the search service: no HTTP, no result cache.

A linear fit of each measure on the chunk count (least squares over the sizes measured) gives the
figures for 50,000 articles, marked as extrapolated. Writes the "## Growth with size" section of
docs/PERFORMANCE.md (other sections are kept).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY))

from bench.report_sections import machine_line, replace_section  # noqa: E402

SECTION = "Growth with size"
EXTRAPOLATED_ARTICLES = 50_000


@dataclass
class Growth:
    articles: int
    chunks: int
    build_seconds: float | None  # None: an index built before this run
    build_peak_mb: float | None
    load_seconds: float  # open the build and warm it, model already loaded
    worker_mb: float  # the process's peak memory once the model and the index are loaded and warm
    embed_p50_ms: float
    search_p50_ms: float  # everything but the embedding
    search_p95_ms: float
    total_p50_ms: float


def run_child(command: list[str], environment: dict[str, str]) -> tuple[float, float, str]:
    """(wall seconds, peak memory MB, stdout) of one child process.

    Raises:
        SystemExit: the child failed (its output is shown).
    """
    started = time.perf_counter()
    process = subprocess.Popen(
        command, env=environment, cwd=REPOSITORY, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    assert process.stdout is not None and process.stderr is not None
    output, errors = process.stdout.read(), process.stderr.read()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode}):\n{output}\n{errors}")
    return elapsed, usage.ru_maxrss / 1024, output


def build(size: int, workdir: Path) -> tuple[Path, float, float]:
    """Generate a help center of `size` articles and index it from scratch: (index, seconds, peak MB)."""
    articles, index = workdir / f"hc-{size}" / "articles", workdir / f"hc-{size}" / "index"
    if not articles.exists():
        generate = [sys.executable, "bench/generate_help_center.py", str(articles), "--articles", str(size)]
        subprocess.run(generate, cwd=REPOSITORY, check=True, capture_output=True)
    subprocess.run(["rm", "-rf", str(index)], check=True)
    environment = dict(os.environ, KB_ARTICLES=str(articles), KB_INDEX=str(index), PYTHONPATH=str(REPOSITORY))
    seconds, peak, _ = run_child([sys.executable, "-m", "kb_cli.main", "index"], environment)
    return index, seconds, peak


def probe(index: Path, count: int) -> dict[str, float]:
    """In this process: load and warm `index` as a worker does, then time `count` distinct searches."""
    import resource

    from bench.load import queries
    from kb.config import Settings
    from kb.index.embedder import make_embedder
    from kb.live import LiveHelpCenter

    settings = Settings.from_env(index=index)
    embedder = make_embedder(settings)
    embedder.encode(["warm up"])
    started = time.perf_counter()
    live = LiveHelpCenter(settings, embedder)
    service = live.get().search_service
    service.warm_up()
    load_seconds = time.perf_counter() - started
    asked = queries(index)[: count + 20]
    for query in asked[:20]:  # first calls allocate
        service.search(query)
    embed, rest, total = [], [], []
    for query in asked[20:]:
        began = time.perf_counter()
        service.query_vectors.vector(query)
        embedded = time.perf_counter()
        service.search(query)
        ended = time.perf_counter()
        embed.append((embedded - began) * 1000)
        rest.append((ended - embedded) * 1000)
        total.append((ended - began) * 1000)
    rest.sort()
    return {
        "articles": len(service.index.articles),
        "chunks": len(service.index.chunks),
        "load_seconds": load_seconds,
        "worker_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "embed_p50_ms": statistics.median(embed),
        "search_p50_ms": statistics.median(rest),
        "search_p95_ms": rest[int(0.95 * (len(rest) - 1))],
        "total_p50_ms": statistics.median(total),
    }


def measure(index: Path, count: int, built: tuple[float, float] | None) -> Growth:
    environment = dict(os.environ, PYTHONPATH=str(REPOSITORY))
    command = [sys.executable, "bench/scale.py", "--probe", str(index), "--queries", str(count)]
    _, _, output = run_child(command, environment)
    found = json.loads(output.strip().splitlines()[-1])
    return Growth(build_seconds=built[0] if built else None, build_peak_mb=built[1] if built else None, **found)


def fit(points: list[tuple[float, float]], at: float) -> float | None:
    """The least-squares line through `points` (chunks, value), read at `at` chunks; None with fewer than 2."""
    if len(points) < 2:
        return None
    xs, ys = [x for x, _ in points], [y for _, y in points]
    slope, intercept = statistics.linear_regression(xs, ys)
    return intercept + slope * at


def report(rows: list[Growth], command: str, started: str) -> str:
    def cell(value: float | None, digits: int = 1) -> str:
        return "—" if value is None else f"{value:,.{digits}f}"

    lines = [
        "| articles | chunks | build | build peak memory | load and warm | worker memory | embedding p50 "
        "| search without embedding p50 / p95 | whole search p50 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row.articles:,} | {row.chunks:,} | {cell(row.build_seconds)} s | {cell(row.build_peak_mb, 0)} MB "
            f"| {row.load_seconds:.2f} s | {row.worker_mb:,.0f} MB | {row.embed_p50_ms:.2f} ms "
            f"| {row.search_p50_ms:.2f} / {row.search_p95_ms:.2f} ms | {row.total_p50_ms:.2f} ms |"
        )
    chunks_per_article = statistics.mean(row.chunks / row.articles for row in rows)
    at = EXTRAPOLATED_ARTICLES * chunks_per_article

    def line(name: str) -> float | None:
        return fit([(row.chunks, value) for row in rows if (value := getattr(row, name)) is not None], at)

    lines.append(
        f"| {EXTRAPOLATED_ARTICLES:,} (extrapolated) | {at:,.0f} | {cell(line('build_seconds'))} s "
        f"| {cell(line('build_peak_mb'), 0)} MB | {cell(line('load_seconds'), 2)} s | {cell(line('worker_mb'), 0)} MB "
        f"| {cell(line('embed_p50_ms'), 2)} ms "
        f"| {cell(line('search_p50_ms'), 2)} / {cell(line('search_p95_ms'), 2)} ms "
        f"| {cell(line('total_p50_ms'), 2)} ms |"
    )
    return f"""Generated by `{command}`. Started {started}; ended with load average
{" / ".join(f"{value:.2f}" for value in os.getloadavg())}. Builds run `kb index` from scratch in a child
process (wall time, the child's peak memory); "—" marks an index built before the run. Each index is
then opened in a fresh process: load and warm is the time to open the build and warm its search with the
model already loaded; worker memory is that process's peak with the model and the index loaded, after
the searches. Searches call the search service directly (no HTTP, no result cache), distinct queries,
each once; the embedding is timed apart from the rest. The last row is a least-squares line on the
chunk count through the measured rows, read at {EXTRAPOLATED_ARTICLES:,} articles: an extrapolation, not
a measurement.

{chr(10).join(lines)}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="*", default=[100, 1000], help="help centers to generate and build")
    parser.add_argument("--index", type=Path, nargs="*", default=[], help="already built index folders to measure")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--workdir", type=Path, default=REPOSITORY / "bench" / ".cache" / "scale")
    parser.add_argument("--output", type=Path, default=REPOSITORY / "docs" / "PERFORMANCE.md")
    parser.add_argument("--probe", type=Path, help=argparse.SUPPRESS)  # the child's side
    arguments = parser.parse_args()
    if arguments.probe:
        print(json.dumps(probe(arguments.probe, arguments.queries)))
        return
    started = machine_line()
    rows = []
    for size in arguments.sizes:
        index, seconds, peak = build(size, arguments.workdir.resolve())
        rows.append(measure(index, arguments.queries, (seconds, peak)))
        print(asdict(rows[-1]), file=sys.stderr)
    for index in arguments.index:
        rows.append(measure(index.resolve(), arguments.queries, None))
        print(asdict(rows[-1]), file=sys.stderr)
    rows.sort(key=lambda row: row.chunks)
    body = report(rows, "python bench/scale.py " + " ".join(sys.argv[1:]), started)
    replace_section(arguments.output, SECTION, body)
    print(body, file=sys.stderr)


if __name__ == "__main__":
    main()
