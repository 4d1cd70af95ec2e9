"""Publishing under load: searches keep being answered, never failed or empty, while new builds go live.

    python bench/generate_help_center.py /tmp/hc-1k --articles 1000
    KB_ARTICLES=/tmp/hc-1k KB_INDEX=/tmp/hc-1k-index python -m kb_cli.main index
    python bench/publish_under_load.py --articles /tmp/hc-1k --index /tmp/hc-1k-index [--publishes 5]

Copies the articles and the index into the work folder (the given ones are never changed), serves
them with `kb serve --workers 2`, and learns which of a list of queries (titles and headings as a
reader types them, as bench/load.py makes them) have results. The server's result cache is off
by default (`--result-cache 0`), so that every request searches while builds load. Then 2 client threads, each on one
kept-alive connection, search those queries in turn while the main thread publishes `--publishes`
new builds: append a sentence to one article, run `kb index`, wait `--pause` seconds. Each client
request counts as failed (status not 200, or a socket error) or empty (no results for a query that
had some). The target is 0 of both. Also reports latency p50/p99/max over the whole run (a worker
that loaded a build on the request path shows here as seconds-long maxima), and checks at the end
that the server answers from the last published build.

Writes the "## Publishing under load" section of docs/PERFORMANCE.md (other sections are kept).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY))

from bench.load import KB, free_port, queries, stop, wait_for_answer  # noqa: E402
from bench.report_sections import machine_line, replace_section  # noqa: E402
from kb.authoring.evaluation import percentile  # noqa: E402
from kb.index.format import CURRENT_LINK  # noqa: E402

SECTION = "Publishing under load"
CLIENTS = 2


@dataclass
class Tally:
    """What the client threads saw; each thread appends to its own lists, read after they stop."""

    latencies: list[float] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    empty: list[str] = field(default_factory=list)


def search_path(query: str) -> str:
    return "/api/search?" + urllib.parse.urlencode({"q": query, "k": 5})


def result_count(port: int, query: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", search_path(query))
        response = connection.getresponse()
        body = response.read()
        return len(json.loads(body)["results"]) if response.status == 200 else -1
    finally:
        connection.close()


def client(port: int, chosen: list[str], stopping: threading.Event, tally: Tally) -> None:
    """Search `chosen` in turn on one kept-alive connection until `stopping`; reconnect after an error."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    position = 0
    while not stopping.is_set():
        query = chosen[position % len(chosen)]
        position += 1
        started = time.perf_counter()
        try:
            connection.request("GET", search_path(query))
            response = connection.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException) as error:
            tally.failed.append(f"{query!r}: {type(error).__name__}: {error}")
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            continue
        tally.latencies.append(time.perf_counter() - started)
        if response.status != 200:
            tally.failed.append(f"{query!r}: status {response.status}")
        elif not json.loads(body)["results"]:
            tally.empty.append(query)
    connection.close()


def publish(articles: Path, index: Path, number: int) -> float:
    """Append a sentence to one article and run `kb index`; its seconds.

    Raises:
        SystemExit: `kb index` failed.
    """
    file = random.Random(number).choice(sorted(articles.rglob("*.md")))
    file.write_text(file.read_text(encoding="utf-8").rstrip("\n") + f"\n\nPublish {number} of the bench.\n", "utf-8")
    environment = dict(os.environ, KB_ARTICLES=str(articles), KB_INDEX=str(index))
    started = time.perf_counter()
    done = subprocess.run([*KB, "index"], env=environment, cwd=REPOSITORY, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"kb index failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return time.perf_counter() - started


SWITCH_TIMEOUT = 120.0  # seconds the workers may take to load the last build under load


def served_build(port: int) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", "/healthz")
        return str(json.loads(connection.getresponse().read())["build"])
    finally:
        connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=Path, required=True)
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--publishes", type=int, default=5)
    parser.add_argument("--pause", type=float, default=2.0, help="seconds between publishes")
    parser.add_argument("--queries", type=int, default=200, help="queries the clients cycle through")
    parser.add_argument(
        "--result-cache", type=int, default=0, help="KB_RESULT_CACHE_SIZE of the server (0: every request searches)"
    )
    parser.add_argument("--workdir", type=Path, default=REPOSITORY / "bench" / ".cache" / "publish-under-load")
    parser.add_argument("--output", type=Path, default=REPOSITORY / "docs" / "PERFORMANCE.md")
    arguments = parser.parse_args()
    workdir = arguments.workdir.resolve()
    shutil.rmtree(workdir, ignore_errors=True)
    articles, index = workdir / "articles", workdir / "index"
    shutil.copytree(arguments.articles, articles)
    shutil.copytree(arguments.index, index, symlinks=True)  # the `current` link is relative: it stays valid
    started_line = machine_line()
    port = free_port()
    environment = dict(
        os.environ,
        KB_ARTICLES=str(articles),
        KB_INDEX=str(index),
        KB_DATA=str(workdir / "data"),
        KB_PORT=str(port),
        KB_WORKERS="2",
        KB_RESULT_CACHE_SIZE=str(arguments.result_cache),
        PYTHONPATH=str(REPOSITORY),
    )
    log = (workdir / "serve.log").open("wb")
    server = subprocess.Popen([*KB, "serve"], env=environment, cwd=workdir, stdout=log, stderr=subprocess.STDOUT)
    tally, stopping = Tally(), threading.Event()
    publish_seconds: list[float] = []
    try:
        candidates = queries(index)[: arguments.queries]
        wait_for_answer(f"http://127.0.0.1:{port}{search_path(candidates[0])}", server, 600)
        chosen = [query for query in candidates if result_count(port, query) > 0]
        print(f"{len(chosen)} of {len(candidates)} queries have results; publishing ...", file=sys.stderr)
        threads = [
            threading.Thread(target=client, args=(port, chosen[number::CLIENTS], stopping, tally))
            for number in range(CLIENTS)
        ]
        for thread in threads:
            thread.start()
        for number in range(arguments.publishes):
            time.sleep(arguments.pause)
            publish_seconds.append(publish(articles, index, number))
            print(f"publish {number + 1}: kb index {publish_seconds[-1]:.1f} s", file=sys.stderr)
        # The last build's switch happens under load too: each worker loads it while the clients search.
        last = os.readlink(index / CURRENT_LINK).rstrip("/").rsplit("/", 1)[-1]
        published = time.perf_counter()
        served = {served_build(port) for _ in range(10)}
        while served != {last} and time.perf_counter() - published < SWITCH_TIMEOUT:
            time.sleep(0.2)
            served = {served_build(port) for _ in range(10)}
        switch_seconds = time.perf_counter() - published
        stopping.set()
        for thread in threads:
            thread.join()
    finally:
        stopping.set()
        stop(server)
        log.close()
    latencies = sorted(tally.latencies)
    milliseconds = [1000 * value for value in latencies]
    command = (
        f"python bench/publish_under_load.py --articles {arguments.articles} --index {arguments.index} "
        f"--publishes {arguments.publishes} --pause {arguments.pause} --result-cache {arguments.result_cache}"
    )
    at_end = (
        f"yes, {switch_seconds:.1f} s after `kb index` published it"
        if served == {last}
        else f"no, {SWITCH_TIMEOUT:.0f} s after it was published: {sorted(served)} (published {last})"
    )
    row = (
        f"| {len(latencies)} | {len(tally.failed)} | {len(tally.empty)} | {percentile(milliseconds, 0.5):.1f} ms | "
        f"{percentile(milliseconds, 0.99):.1f} ms | {max(milliseconds, default=0):.0f} ms | {at_end} |"
    )
    body = f"""Generated by `{command}`. Started {started_line}; ended with load average
{" / ".join(f"{value:.2f}" for value in os.getloadavg())}.

`kb serve --workers 2` over a copy of the index; {CLIENTS} client threads, each on one kept-alive
connection, search {len(chosen)} queries that have results, in turn (result cache of
{arguments.result_cache}: with 0 every request is a real search), while {arguments.publishes} new builds are
published (one article changed, `kb index`, {arguments.pause} s apart; `kb index` took
{", ".join(f"{value:.1f}" for value in publish_seconds)} s). Failed: status other than 200, or a socket
error; empty: no results for a query that had some. Target: 0 and 0.

| requests | failed | empty | p50 | p99 | max | every worker on the last build |
|---|---|---|---|---|---|---|
{row}
"""
    if tally.failed or tally.empty:
        body += "\nFirst failures: " + "; ".join((tally.failed + tally.empty)[:5]) + "\n"
    replace_section(arguments.output, SECTION, body)
    print(body, file=sys.stderr)


if __name__ == "__main__":
    main()
