"""Latency of POST /api/suggest on the sample help center with the real model, per customer email.

Each request starts with an empty query-vector cache, so every call pays for its model call, as a
new ticket does. Prints p50 and p95 in milliseconds.

Usage:
  python bench/suggest_latency.py [--rounds 5] [--emails FILE] [--workdir bench/.cache/suggest]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import yaml

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY))

from indexer.build import build_index  # noqa: E402
from kb.authoring.evaluation import percentile  # noqa: E402
from kb.config import Settings  # noqa: E402
from kb.index.embedder import SentenceTransformerEmbedder  # noqa: E402
from web import create_app  # noqa: E402
from web.state import help_center  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="times each email is suggested for")
    parser.add_argument("--emails", type=Path, default=REPOSITORY / "tests" / "data" / "customer_emails.yaml")
    parser.add_argument("--workdir", type=Path, default=REPOSITORY / "bench" / ".cache" / "suggest")
    options = parser.parse_args()
    settings = Settings(
        articles=REPOSITORY / "articles",
        index=options.workdir / "index",
        data=options.workdir / "data",
        database_url=f"sqlite:///{options.workdir / 'kb.sqlite3'}",
    )
    embedder = SentenceTransformerEmbedder()
    build_index(settings, embedder, show_progress=False)
    app = create_app({"TESTING": True, "KB_SETTINGS": settings, "KB_EMBEDDER": embedder})
    with app.app_context():
        _, token = app.extensions["kb_storage"].add_agent(f"latency-{time.time_ns()}")
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    emails = yaml.safe_load(options.emails.read_text(encoding="utf-8"))
    client.post("/api/suggest", headers=headers, json={"text": "warm up", "k": 3})
    timings = []
    for _ in range(options.rounds):
        for email in emails:
            with app.app_context():
                help_center().search_service.query_vectors.vectors.clear()
            started = time.perf_counter()
            response = client.post("/api/suggest", headers=headers, json={"text": email["message"], "k": 3})
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.get_data(as_text=True)
    print(
        f"POST /api/suggest, {len(emails)} emails x {options.rounds}: p50 {statistics.median(timings):.1f} ms, "
        f"p95 {percentile(timings, 0.95):.1f} ms"
    )


if __name__ == "__main__":
    main()
