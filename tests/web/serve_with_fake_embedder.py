"""Test-only entry point: `kb serve ARGS` exactly as users run it, but with the fake embedder instead of the model.

Run as `python -m tests.web.serve_with_fake_embedder --index DIR --port N` (its `--watch` watcher runs
`tests.web.watch_with_fake_embedder`); tests/web/test_http_server.py
starts it to exercise gunicorn itself without loading the real model in every worker.
"""

from __future__ import annotations

import sys
from unittest import mock

from kb_cli.main import cli
from tests.conftest import FakeEmbedder


def fake_embedder(settings: object, batch: bool = False) -> FakeEmbedder:
    return FakeEmbedder()


if __name__ == "__main__":
    # `kb serve` checks the model before starting (kb_cli.main) and each worker's app makes its own (web).
    with (
        mock.patch("kb_cli.main.make_embedder", fake_embedder),
        mock.patch("kb.index.embedder.make_embedder", fake_embedder),
        mock.patch("kb_cli.watch_command.WATCHER_MODULE", "tests.web.watch_with_fake_embedder"),
    ):
        cli(["serve", *sys.argv[1:]], prog_name="kb")
