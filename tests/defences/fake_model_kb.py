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


def fake_embedder(settings: object, batch: bool = False) -> FakeEmbedder:
    return FakeEmbedder()


def use_the_fake_embedder() -> None:
    """Replace `make_embedder` where it is defined and wherever a loaded module imported it by name."""
    real = kb.index.embedder.make_embedder
    for module in list(sys.modules.values()):
        if getattr(module, "make_embedder", None) is real:
            module.make_embedder = fake_embedder  # type: ignore[attr-defined]


def main() -> None:
    use_the_fake_embedder()
    print(READY, file=sys.stderr, flush=True)
    kb_cli.main.cli(prog_name="kb")


if __name__ == "__main__":
    main()
