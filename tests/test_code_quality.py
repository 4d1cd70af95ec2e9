"""Lint and type checks run with the suite, so CI enforces them."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from tests.conftest import REPOSITORY


def run_tool(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *arguments], cwd=REPOSITORY, capture_output=True, text=True, timeout=300
    )


@pytest.mark.skipif(
    shutil.which("ruff") is None and not (REPOSITORY / ".venv/bin/ruff").exists(),
    reason="ruff is installed with the test extra",
)
def test_ruff_finds_nothing() -> None:
    result = run_tool("ruff", "check", "kb", "indexer", "web", "kb_cli", "tests", "bench")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_finds_nothing_in_the_core_and_indexer() -> None:
    pytest.importorskip("mypy")
    result = run_tool("mypy", "kb", "indexer")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_core_never_imports_flask() -> None:
    code = "import sys, kb.search.service, kb.help_center, kb.live, kb.content.compiler; print('flask' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=REPOSITORY, capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr
    heavy = "import sys, kb.search.service, kb.live; print(sorted({'torch', 'faiss'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", heavy], cwd=REPOSITORY, capture_output=True, text=True)
    assert result.stdout.strip() == "[]", result.stderr
