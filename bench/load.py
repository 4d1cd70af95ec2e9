"""Search under load: kb served by gunicorn beside txtai's own API server, same model, texts and queries.

    python bench/generate_help_center.py /tmp/hc-1k --articles 1000
    KB_ARTICLES=/tmp/hc-1k KB_INDEX=/tmp/hc-1k-index python -m kb_cli.main index
    python bench/load.py --articles /tmp/hc-1k --index /tmp/hc-1k-index [--duration 20] [--no-txtai]

For each server: start it with 2 workers, time from process start to the first answered search,
then run wrk (Debian's /usr/bin/wrk, script bench/search.lua):

- distinct: 2 connections (2 threads), each request the next of a list of distinct queries, so no
  answer comes from a cache until a thread has used its share of the list (`wrapped` says if it did);
- repeated: 8 connections, one query again and again (kb answers it from its result cache);
- ceiling (kb only): 8 connections on /healthz, the framework's own cost per request.

Reports p50/p95/p99 latency, requests/s, failed responses (status >= 400 and socket errors) and
each worker's peak resident memory (VmHWM from /proc), then the ratios kb/txtai.

kb runs `kb serve --workers 2` (gunicorn, KB_THREADS threads per worker) with a fresh data folder
(search log on, as in production). txtai runs `uvicorn txtai.api:app --workers 2` over an index of
the same texts: the embedding text of every chunk of the public articles, read from the kb build
(`content: true`, `hybrid: true`: dense plus BM25, kb's default mode's counterpart), built once
with the same bundled all-MiniLM-L6-v2 folder and cached in the work folder.

Queries (`queries()`): how a reader would type each public article's title and each of its section
headings: lower case, "How to" turned into "how do I", and for headings the article's title words
that the heading lacks appended, so that "Troubleshooting" becomes a query about its article.
Duplicates are dropped and the order is shuffled with a fixed seed.

Writes the "## Search under load" section of docs/PERFORMANCE.md (other sections are kept).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY))

from bench.report_sections import machine_line, replace_section  # noqa: E402
from bench.txtai_vectors import VECTORS_VARIABLE  # noqa: E402
from bench.txtai_vectors import save as save_vectors  # noqa: E402
from indexer.build import chunk_from_record  # noqa: E402
from kb.index.format import Audience, current_build, load_published_index  # noqa: E402

KB = [sys.executable, "-m", "kb_cli.main"]
LUA = REPOSITORY / "bench" / "search.lua"
SECTION = "Search under load"  # one section per help-center size: "Search under load, 1,000 articles"
TRANSFORM = "bench.txtai_vectors.transform"
RESULTS = 10
STOP_WORDS = {"a", "an", "the", "to", "in", "on", "of", "for", "and", "or", "with", "your", "my", "is"}


@dataclass
class Run:
    """One wrk run's figures."""

    name: str
    requests: int = 0
    seconds: float = 0.0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    p99_ms: float = 0.0
    failed: int = 0
    wrapped: int = 0

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass
class Server:
    """One server's measurements."""

    name: str
    first_answer_seconds: float = 0.0
    runs: dict[str, Run] = field(default_factory=dict)
    worker_peak_mb: list[float] = field(default_factory=list)
    profile: list[tuple[str, float]] = field(default_factory=list)  # (part of a search, share of busy samples)


def queries(index: Path, seed: int = 7) -> list[str]:
    """Distinct reader-style queries from the titles and section headings of the public articles."""
    found: dict[str, None] = {}
    for record in load_published_index(index).articles.values():
        if not Audience.PUBLIC.may_see(record):
            continue
        title = reader_words(record.title)
        found.setdefault(title)
        title_words = title.split()
        for heading in record.headings:
            words = reader_words(heading["title"]).split()
            missing = [word for word in title_words if word not in words and word not in STOP_WORDS]
            found.setdefault(" ".join(words + missing[:3]))
    shuffled = [query for query in found if query]
    random.Random(seed).shuffle(shuffled)
    return shuffled


def reader_words(text: str) -> str:
    """`text` as a reader types it: lower case, no punctuation but apostrophes, "how to" as "how do i"."""
    text = re.sub(r"^how to\b", "how do i", text.strip().lower())
    return " ".join(re.findall(r"[\w']+", text))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_answer(url: str, process: subprocess.Popen[bytes], timeout: float) -> float:
    """Seconds until `url` answers 200, counted from now (call right after starting `process`).

    Raises:
        SystemExit: the server exited, or did not answer within `timeout`.
    """
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if process.poll() is not None:
            raise SystemExit(f"the server exited ({process.returncode}) before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    response.read()
                    return time.perf_counter() - started
        except (OSError, urllib.error.HTTPError):
            pass
        time.sleep(0.05)
    raise SystemExit(f"no answer from {url} within {timeout:.0f} s")


def run_wrk(name: str, base: str, paths: list[str], connections: int, seconds: int, workdir: Path) -> Run:
    """wrk with `connections` connections (as many threads, at most 2: the machine's cores) over `paths`."""
    threads = min(connections, 2)
    path_file = workdir / f"{name}.paths"
    path_file.write_text("\n".join(paths) + "\n", encoding="utf-8")
    environment = dict(os.environ, PATHS=str(path_file), THREADS=str(threads))
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", str(LUA), base]
    done = subprocess.run(command, env=environment, capture_output=True, text=True, check=True)
    line = next((line for line in done.stdout.splitlines() if line.startswith("WRK_RESULT ")), None)
    if line is None:
        raise SystemExit(f"wrk printed no result:\n{done.stdout}\n{done.stderr}")
    figures = json.loads(line.removeprefix("WRK_RESULT "))
    failed = sum(figures[key] for key in ("non_2xx", "connect_errors", "read_errors", "write_errors", "timeouts"))
    return Run(
        name,
        figures["requests"],
        figures["duration_us"] / 1e6,
        figures["p50_us"] / 1000,
        figures["p95_us"] / 1000,
        figures["p99_us"] / 1000,
        failed,
        figures["wrapped"],
    )


def worker_peaks_mb(master: int) -> list[float]:
    """Peak resident memory (VmHWM) of each child process of `master`, in MB, largest first."""
    peaks = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        except OSError:
            continue
        if fields.get("PPid", "").strip() != str(master) or "VmHWM" not in fields:
            continue
        if b"resource_tracker" in (status.parent / "cmdline").read_bytes():  # multiprocessing's helper, no worker
            continue
        peaks.append(int(fields["VmHWM"].split()[0]) / 1024)
    return sorted(peaks, reverse=True)


def children_cpu_seconds(master: int) -> float:
    """User and system CPU seconds used so far by the child processes of `master` (its workers)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == str(master):
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def wait_until_idle(master: int, timeout: float) -> None:
    """Wait until `master`'s workers use under a tenth of a core for a second: each has loaded and warmed."""
    deadline = time.monotonic() + timeout
    used = children_cpu_seconds(master)
    while time.monotonic() < deadline:
        time.sleep(1.0)
        now = children_cpu_seconds(master)
        if now - used < 0.1:
            return
        used = now
    raise SystemExit(f"the server's workers were still busy {timeout:.0f} s after the first answer")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def measure(
    server: Server,
    command: list[str],
    environment: dict[str, str],
    port: int,
    search_path: str,
    arguments: argparse.Namespace,
    workdir: Path,
    extra: dict[str, tuple[list[str], int]] | None = None,
) -> None:
    """Start `command`, time its first answer, run the wrk runs, read its workers' peaks, stop it."""
    log = (workdir / f"{server.name}.log").open("wb")
    base = f"http://127.0.0.1:{port}"
    all_queries = queries(arguments.index)
    process = subprocess.Popen(command, env=environment, cwd=workdir, stdout=log, stderr=subprocess.STDOUT)
    try:
        first = search_path.format(query=urllib.parse.quote_plus(all_queries[0]))
        server.first_answer_seconds = wait_for_answer(base + first, process, arguments.start_timeout)
        print(f"{server.name}: first search answered {server.first_answer_seconds:.1f} s after start", file=sys.stderr)
        wait_until_idle(process.pid, arguments.start_timeout)  # the other workers may still be loading
        distinct = [search_path.format(query=urllib.parse.quote_plus(query)) for query in all_queries[1:]]
        repeated = search_path.format(query=urllib.parse.quote_plus(all_queries[1]))
        runs = {"distinct": (distinct, 2), "repeated": ([repeated], 8), **(extra or {})}
        for name, (paths, connections) in runs.items():
            run = run_wrk(f"{server.name}-{name}", base, paths, connections, arguments.duration, workdir)
            server.runs[name] = run
            print(f"{server.name} {name}: {format_run(run)}", file=sys.stderr)
            if arguments.profile and server.name == "kb" and name == "distinct":
                # A run of its own: py-spy stops a worker for each sample, which would slow the measured run.
                profiler = start_profile(process.pid, workdir / "kb-distinct.profile", arguments.duration)
                run_wrk("kb-profiled", base, paths[::-1], connections, arguments.duration, workdir)
                profiler.wait(timeout=arguments.duration + 60)
                server.profile = summarise_profile(workdir / "kb-distinct.profile")
        server.worker_peak_mb = worker_peaks_mb(process.pid)
    finally:
        stop(process)
        log.close()


def start_profile(master: int, output: Path, seconds: int) -> subprocess.Popen[bytes]:
    """py-spy sampling `master`'s workers for `seconds`, as collapsed stacks ("frame;frame;... count")."""
    command = [
        str(Path(sys.executable).with_name("py-spy")),
        "record",
        "--pid",
        str(master),
        "--subprocesses",
        "--duration",
        str(seconds),
    ]
    command += ["--rate", "200", "--format", "raw", "--output", str(output), "--nonblocking"]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


PROFILED = {  # what a served search does, by the function whose inclusive share is shown
    "embedding the query": ("encode_queries (kb/index/embedder.py",),
    "candidates (vector index, postings, sample)": ("find (kb/search/candidates.py",),
    "confidence evidence": ("evidence (kb/search/service.py",),
    "snippets": ("result (kb/search/service.py",),
    "search log": ("kb/store/search_log.py", "web/search_logging.py"),
    "JSON and HTTP (Flask, gunicorn)": ("flask/", "werkzeug/", "gunicorn/"),
}


def summarise_profile(path: Path) -> list[tuple[str, float]]:
    """Each part of `PROFILED`'s share of the samples in which a worker was busy (not waiting for a request)."""
    parts = dict.fromkeys(PROFILED, 0)
    busy = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit() or "handle_request" not in stack:
            continue
        busy += int(count)
        for part, markers in PROFILED.items():
            if part.startswith("JSON"):
                frames = stack.split(";")
                if any(marker in frames[-1] for marker in markers):  # time spent in the framework itself
                    parts[part] += int(count)
            elif any(marker in stack for marker in markers):
                parts[part] += int(count)
    return [(part, parts[part] / busy if busy else 0.0) for part in PROFILED]


def format_run(run: Run) -> str:
    return (
        f"{run.rate:.0f} req/s, p50 {run.p50_ms:.2f} ms, p95 {run.p95_ms:.1f} ms, p99 {run.p99_ms:.1f} ms, "
        f"{run.failed} failed, {run.requests} requests"
        + (f", list used {run.wrapped} extra time(s)" if run.wrapped and run.name.endswith("distinct") else "")
    )


def measure_kb(arguments: argparse.Namespace, workdir: Path) -> Server:
    port = free_port()
    environment = dict(
        os.environ,
        KB_ARTICLES=str(arguments.articles),
        KB_INDEX=str(arguments.index),
        KB_DATA=str(workdir / "kb-data"),
        KB_PORT=str(port),
        KB_WORKERS="2",
        PYTHONPATH=str(REPOSITORY),
    )
    server = Server("kb")
    ceiling = {"ceiling": (["/healthz"], 8)}
    search = f"/api/search?q={{query}}&k={RESULTS}"
    measure(server, [*KB, "serve"], environment, port, search, arguments, workdir, ceiling)
    return server


def txtai_index(index: Path, workdir: Path) -> tuple[Path, Path]:
    """A saved txtai index of the kb build's public chunks, and the vectors it was made from; built once per build.

    txtai indexes the embedding texts of those chunks with kb's own vectors of them (`bench.txtai_vectors`),
    so both servers search the same vectors; its BM25 side (hybrid) indexes the same texts.
    """
    from txtai import Embeddings

    build = current_build(index).name
    folder, vectors = workdir / f"txtai-{build}", workdir / f"txtai-{build}-vectors.npz"
    os.environ.update({VECTORS_VARIABLE: str(vectors), "ALLOW_RESOLVE_TRANSFORM": "True"})
    if ((folder / "config.json").exists() or (folder / "config").exists()) and vectors.exists():
        return folder, vectors
    published = load_published_index(index)
    records = [record for record in published.chunks if Audience.PUBLIC.may_see(published.articles[record.slug])]
    texts = [chunk_from_record(record).embedding_text for record in records]
    save_vectors(vectors, texts, published.vectors.vectors(np.array([record.id for record in records])))
    print(f"txtai: indexing {len(records)} chunks with the build's vectors ...", file=sys.stderr)
    embeddings = Embeddings(method="external", transform=TRANSFORM, hybrid=True, content=True)
    embeddings.index([(record.id, text, None) for record, text in zip(records, texts, strict=True)])
    embeddings.save(str(folder))
    return folder, vectors


def measure_txtai(arguments: argparse.Namespace, workdir: Path) -> Server:
    folder, vectors = txtai_index(arguments.index, workdir)
    config = workdir / "txtai.yml"
    # `path` loads the saved index; the `embeddings` section is what makes the API serve /search at all.
    config.write_text(
        f"path: {folder}\nwritable: false\nembeddings:\n  method: external\n  transform: {TRANSFORM}\n"
        "  content: true\n  hybrid: true\n",
        encoding="utf-8",
    )
    port = free_port()
    environment = dict(
        os.environ,
        CONFIG=str(config),
        PYTHONPATH=str(REPOSITORY),
        ALLOW_RESOLVE_TRANSFORM="True",  # txtai resolves the transform named in its configuration only when told to
        **{VECTORS_VARIABLE: str(vectors)},
    )
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "txtai.api:app",
        "--port",
        str(port),
        "--workers",
        "2",
        "--log-level",
        "warning",
    ]
    server = Server("txtai")
    measure(server, command, environment, port, f"/search?query={{query}}&limit={RESULTS}", arguments, workdir)
    return server


def report(servers: list[Server], arguments: argparse.Namespace, started: str, query_count: int) -> str:
    manifest = load_published_index(arguments.index).manifest
    rows = [
        "| server | run | connections | req/s | p50 ms | p95 ms | p99 ms | failed | requests |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    connections = {"distinct": 2, "repeated": 8, "ceiling": 8}
    for server in servers:
        for name, run in server.runs.items():
            wrapped = f" (list reused {run.wrapped}×)" if run.wrapped and name == "distinct" else ""
            rows.append(
                f"| {server.name} | {name}{wrapped} | {connections[name]} | {run.rate:.0f} | {run.p50_ms:.2f} | "
                f"{run.p95_ms:.1f} | {run.p99_ms:.1f} | {run.failed} | {run.requests} |"
            )
    starts = [
        f"| {server.name} | {server.first_answer_seconds:.1f} s | "
        f"{', '.join(f'{peak:.0f}' for peak in server.worker_peak_mb)} MB |"
        for server in servers
    ]
    ratios = ""
    if len(servers) == 2 and all("distinct" in server.runs for server in servers):
        kb, txtai = (server.runs for server in servers)
        lines = []
        for name in ("distinct", "repeated"):
            lines.append(
                f"| {name} | {txtai[name].p50_ms / kb[name].p50_ms:.2f} | {txtai[name].p95_ms / kb[name].p95_ms:.2f} | "
                f"{kb[name].rate / txtai[name].rate:.2f} |"
            )
        ratios = (
            "Ratios (above 1: kb ahead):\n\n"
            "| run | txtai p50 / kb p50 | txtai p95 / kb p95 | kb req/s / txtai req/s |\n"
            "|---|---|---|---|\n" + "\n".join(lines) + "\n"
        )
    command = (
        f"python bench/load.py --articles {arguments.articles} --index {arguments.index} "
        f"--duration {arguments.duration}"
    )
    if arguments.no_txtai:
        command += " --no-txtai"
    if arguments.profile:
        command += " --profile"
    return f"""Generated by `{command}`. Started {started}; ended with load average
{" / ".join(f"{value:.2f}" for value in os.getloadavg())}. The help center: {manifest.article_count} articles,
{manifest.chunk_count} chunks, build `{manifest.build_id}`; {query_count} distinct queries (titles and
section headings as a reader types them, see `bench/load.py`). wrk {arguments.duration} s per run, on the
same machine as the servers (wrk's own CPU use is part of the load). Both servers run 2 workers; kb
with `KB_THREADS` threads each, its search log on; txtai's API (uvicorn), hybrid, over the same texts with
kb's own vectors of them (`bench/txtai_vectors.py`), its queries embedded by the same model.
"failed": status 400 or above, and socket errors. "repeated" sends one query
again and again; "ceiling" is kb's /healthz, the framework's own cost.

{chr(10).join(rows)}

| server | first search answered after start | peak memory per worker (VmHWM) |
|---|---|---|
{chr(10).join(starts)}

{ratios}{profile_table(servers)}"""


def profile_table(servers: list[Server]) -> str:
    """Where kb's busy workers spent the distinct run, from py-spy (`--profile`)."""
    profile = servers[0].profile
    if not profile:
        return ""
    rows = "\n".join(f"| {part} | {share:.0%} |" for part, share in profile)
    return f"""
Where kb's workers spent a second distinct run, sampled by py-spy (200 samples/s; it pauses a worker
for each sample, so that run is not the one measured above), the samples in which a worker was
handling a request; the parts overlap where one calls another, framework time is its own frames only):

| part | share of busy samples |
|---|---|
{rows}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=Path, required=True, help="the help center's articles folder")
    parser.add_argument("--index", type=Path, required=True, help="its index folder, built with `kb index`")
    parser.add_argument("--duration", type=int, default=20, help="seconds per wrk run")
    parser.add_argument("--start-timeout", type=float, default=600)
    parser.add_argument("--no-txtai", action="store_true", help="measure kb alone")
    parser.add_argument("--profile", action="store_true", help="py-spy kb's workers during the distinct run")
    parser.add_argument("--workdir", type=Path, default=REPOSITORY / "bench" / ".cache" / "load")
    parser.add_argument("--output", type=Path, default=REPOSITORY / "docs" / "PERFORMANCE.md")
    arguments = parser.parse_args()
    arguments.articles, arguments.index = arguments.articles.resolve(), arguments.index.resolve()
    if shutil.which("wrk") is None:
        parser.error("wrk is not installed (apt-get install wrk)")
    workdir = arguments.workdir.resolve()
    shutil.rmtree(workdir / "kb-data", ignore_errors=True)
    workdir.mkdir(parents=True, exist_ok=True)
    started = machine_line()
    servers = [measure_kb(arguments, workdir)]
    if not arguments.no_txtai:
        servers.append(measure_txtai(arguments, workdir))
    body = report(servers, arguments, started, len(queries(arguments.index)))
    articles = load_published_index(arguments.index).manifest.article_count
    replace_section(arguments.output, f"{SECTION}, {articles:,} articles", body)
    print(body, file=sys.stderr)


if __name__ == "__main__":
    main()
