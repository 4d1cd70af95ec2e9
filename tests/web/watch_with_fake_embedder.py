"""Test-only watcher process: what `kb serve --watch` starts (kb_cli.watch_command), with the fake embedder."""

from __future__ import annotations

import sys
from unittest import mock

from kb_cli.watch_command import main
from tests.web.serve_with_fake_embedder import fake_embedder

if __name__ == "__main__":
    with mock.patch("kb.index.embedder.make_embedder", fake_embedder):
        main(sys.argv[1:])
