"""Search latency with the search log on and off: GET /search on the sample help center, p50 of each.

One process, one app, one embedder: the same queries are searched in alternating blocks, one block
with the search log on (every search queued, then redacted and written to SQLite by the background
writer, in this process, competing for the same CPU), the next with it off, so load from other work
on the machine falls on both alike. Blocks last long enough (100 searches) for the writer's batch,
written once a second, to fall inside the block that caused it. Each search pays for its model call
(the query-vector cache is cleared first), as a new query does. Prints the p50 and p95 of each, the
difference of the p50s, and what logging costs the request itself (queueing one search, timed alone).

The tests' fake embedder (the default) keeps a search at a few milliseconds, so a 1 ms difference
is visible; with `--embedder real` the bundled model's time per query dominates.

Usage:
  python bench/search_log_latency.py [--rounds 10] [--block 100] [--embedder fake|real] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import yaml

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY))

from indexer.build import build_index  # noqa: E402
from kb.authoring.evaluation import percentile  # noqa: E402
from kb.config import Settings  # noqa: E402
from web import create_app  # noqa: E402
from web.state import help_center  # noqa: E402

# A few queries carry personal data, so redaction runs as it does for real customers.
EXTRA_QUERIES = [
    "refund for order 12345678, my email is jane.doe@example.com",
    "call me on +44 20 7946 0958 about my invoice",
    "card 4111 1111 1111 1111 was charged twice",
]


def embedder_for(kind: str) -> Any:
    if kind == "fake":
        from tests.conftest import FakeEmbedder

        return FakeEmbedder()
    from kb.index.embedder import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10, help="pairs of blocks (one on, one off)")
    parser.add_argument("--block", type=int, default=100, help="searches per block")
    parser.add_argument(
        "--embedder", choices=("fake", "real"), default="fake", help="the tests' fake or the bundled model"
    )
    parser.add_argument("--workdir", type=Path, default=REPOSITORY / "bench" / ".cache" / "search-log")
    options = parser.parse_args()
    workdir = options.workdir / options.embedder
    settings = Settings(
        articles=REPOSITORY / "articles",
        index=workdir / "index",
        data=workdir / "data",
        database_url=f"sqlite:///{workdir / 'kb.sqlite3'}",
    )
    embedder = embedder_for(options.embedder)
    build_index(settings, embedder, show_progress=False)
    app = create_app({"TESTING": True, "KB_SETTINGS": settings, "KB_EMBEDDER": embedder})
    search_log = app.extensions["kb_search_log"]
    client = app.test_client()
    golden = yaml.safe_load((REPOSITORY / "tests" / "data" / "golden_queries.yaml").read_text(encoding="utf-8"))
    queries = [item["query"] for item in golden] + EXTRA_QUERIES
    urls = [f"/search?{urlencode({'q': query})}" for query in queries]
    for url in urls[:5]:  # warm up: model, templates, the database's schema
        client.get(url)
    search_log.flush(30)
    timings: dict[bool, list[float]] = {True: [], False: []}
    position = 0
    for round_number in range(options.rounds):
        order = (True, False) if round_number % 2 == 0 else (False, True)
        for logging_on in order:
            app.extensions["kb_search_log"] = search_log if logging_on else None
            for _ in range(options.block):
                url = urls[position % len(urls)]
                position += 1
                with app.app_context():
                    help_center().search_service.query_vectors.vectors.clear()
                started = time.perf_counter()
                response = client.get(url)
                timings[logging_on].append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, response.get_data(as_text=True)[:300]
    app.extensions["kb_search_log"] = search_log
    queueing = time_queueing(app, urls[0])
    assert search_log.flush(30)
    on, off = statistics.median(timings[True]), statistics.median(timings[False])
    print(
        f"GET /search, {options.embedder} embedder, {len(timings[True])} searches each way, "
        f"alternating blocks of {options.block}:"
    )
    print(f"  search log on:  p50 {on:.2f} ms, p95 {percentile(timings[True], 0.95):.2f} ms")
    print(f"  search log off: p50 {off:.2f} ms, p95 {percentile(timings[False], 0.95):.2f} ms")
    print(
        f"  difference of p50s: {on - off:+.2f} ms (ratio {on / off:.3f}); "
        f"written {search_log.written}, dropped {search_log.dropped}"
    )
    print(f"  queueing one search in the request: p50 {queueing:.1f} µs")


def time_queueing(app: Any, url: str, repeat: int = 2000) -> float:
    """p50 in microseconds of what a request with the log on does more: log_search() for one response."""
    from web.search_logging import log_search

    with app.test_request_context(url), app.app_context():
        response = help_center().search("reset my password", 10)
        timings = []
        for _ in range(repeat):
            started = time.perf_counter()
            log_search(response, "site")
            timings.append((time.perf_counter() - started) * 1e6)
    return statistics.median(timings)


if __name__ == "__main__":
    main()
