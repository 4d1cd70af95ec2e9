"""What the `kb` command loads before it runs a command: a `kb index` after a writer's save starts quickly."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPOSITORY


def test_the_command_and_the_indexer_load_no_database_or_torch_code() -> None:
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, kb_cli.main, indexer.build; print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))",
        ],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert "click" in loaded and "numpy" in loaded
    assert {"sqlalchemy", "torch", "sentence_transformers", "flask"}.isdisjoint(loaded)
