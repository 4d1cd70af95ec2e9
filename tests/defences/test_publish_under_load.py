"""Publishing under load: customers searching a real gunicorn server never see a failure while builds switch."""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

import pytest

from indexer.build import IndexBuilder
from kb.config import Settings
from tests.conftest import SAMPLE_ARTICLES, FakeEmbedder
from tests.defences.processes import fetch, serving

pytestmark = pytest.mark.defence

PUBLISHES = 20
SEARCHERS = 4
EDITED = Path("getting-started/welcome-to-ledgerly.md")
EDITED_SLUG = "welcome-to-ledgerly"
QUERIES = [
    "I forgot my password",
    "my invoice email never arrived",
    "how do I get a refund",
    "export all my data",
    "lost my two factor phone",
    "add a client",
]


def check_api_search(body: bytes) -> bool:
    return bool(json.loads(body)["results"])


def check_search_page(body: bytes) -> bool:
    return b'<ol class="results">' in body and b'class="result"' in body


def check_article(body: bytes) -> bool:
    return json.loads(body)["slug"] == "reset-your-password"


REQUESTS: list[tuple[str, Callable[[bytes], bool]]] = [
    *[(f"/api/search?{urlencode({'q': query, 'k': 5})}", check_api_search) for query in QUERIES],
    *[(f"/search?{urlencode({'q': query})}", check_search_page) for query in QUERIES],
    ("/api/articles/reset-your-password", check_article),
]


def revision_word(revision: int) -> str:
    """A word no article has, in letters only (the word splitter would part a number from it)."""
    return "quokka" + "".join(chr(ord("a") + int(digit)) for digit in f"{revision:02d}")


class Searchers:
    """Threads that send REQUESTS round and round until stopped, counting answers and failures."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        self.failures: list[str] = []
        self.threads = [threading.Thread(target=self.run, args=(number,)) for number in range(SEARCHERS)]

    def run(self, number: int) -> None:
        position = number
        while not self.stop.is_set():
            path, check = REQUESTS[position % len(REQUESTS)]
            position += 1
            try:
                status, body = fetch(self.base_url + path)
                problem = None if status == 200 and check(body) else f"{status} {body[:300]!r}"
            except Exception as error:  # a refused or reset connection is a failure like any other
                problem = f"{type(error).__name__}: {error}"
            with self.lock:
                self.counts[path.split("?")[0]] += 1
                if problem is not None:
                    self.failures.append(f"{path}: {problem}")

    def __enter__(self) -> Searchers:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join()


def test_twenty_publishes_under_load_fail_no_search(tmp_path: Path, figure) -> None:  # type: ignore[no-untyped-def]
    articles = tmp_path / "articles"
    shutil.copytree(SAMPLE_ARTICLES, articles)
    settings = Settings(articles=articles, index=tmp_path / "index")
    builder = IndexBuilder(settings, FakeEmbedder())
    builder.build(show_progress=False)
    original = (articles / EDITED).read_text(encoding="utf-8")
    switched = 0
    with (
        serving(articles, settings.index, tmp_path / "server.log") as base_url,
        Searchers(base_url) as searchers,
    ):
        time.sleep(1)  # the searchers are in full swing before the first publish
        started = time.monotonic()
        for revision in range(1, PUBLISHES + 1):
            (articles / EDITED).write_text(
                original + f"\n\n## Revision\n\nThe {revision_word(revision)} release notes.\n", encoding="utf-8"
            )
            report = builder.build(show_progress=False)
            assert (report.article_count, report.errors) == (60, [])
            time.sleep(0.2)  # serve each build for a moment
            status, body = fetch(f"{base_url}/healthz")
            switched += status == 200 and json.loads(body)["build"] == report.build_id
        seconds = time.monotonic() - started
        status, body = fetch(f"{base_url}/api/search?{urlencode({'q': revision_word(PUBLISHES), 'k': 1})}")
    total = sum(searchers.counts.values())
    figure(
        f"{PUBLISHES} publishes under load: {len(searchers.failures)} failed or empty / {total:,} requests "
        f"({total / seconds:,.0f}/s; {dict(searchers.counts)}); "
        f"the server on each new build at once: {switched}/{PUBLISHES}"
    )
    assert searchers.failures == [], f"{len(searchers.failures)} failures, first: {searchers.failures[:5]}"
    assert total >= 100 * PUBLISHES // 10, f"only {total} requests: the server was not under load"
    assert min(searchers.counts.values()) > 0
    assert switched == PUBLISHES
    assert status == 200 and json.loads(body)["results"][0]["slug"] == EDITED_SLUG
