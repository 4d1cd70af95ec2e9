"""The real `kb` command with the tests' fake embedder: `python -m tests.defences.fake_model_kb index ...`.

The defence tests run `kb index` and `kb serve` as separate processes (to kill them, or to reach
them over HTTP) without loading the real model: only the embedder is replaced, every other line
of the command, the indexer and the gunicorn server is the shipped one. Before handing over to
the command it prints READY on stderr, so a test can time a kill from the moment work starts.
"""

from __future__ import annotations

import sys

import kb.index.embedder
import kb_cli.main
from indexer import build  # noqa: F401  (imported now so that READY means the build starts at once)
from tests.conftest import FakeEmbedder
from web import create_app  # noqa: F401  (likewise for the server)

READY = "fake-model-kb: ready"


def fake_embedder(settings: object) -> FakeEmbedder:
    return FakeEmbedder()


def main() -> None:
    kb.index.embedder.make_embedder = fake_embedder  # type: ignore[assignment]  # what create_app calls
    kb_cli.main.make_embedder = fake_embedder  # type: ignore[assignment]  # what `kb index` calls
    print(READY, file=sys.stderr, flush=True)
    kb_cli.main.cli(prog_name="kb")


if __name__ == "__main__":
    main()
