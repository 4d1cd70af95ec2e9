"""Publishing under failure: a build killed while writing never takes the place of a build worth keeping."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import indexer.publish
from indexer.build import build_index
from kb.config import Settings
from kb.index.format import load_published_index
from tests.conftest import REPOSITORY, FakeEmbedder

KILLED_WHILE_WRITING = """
import os, signal, sys
from pathlib import Path

import indexer.build
from kb.config import Settings
from tests.conftest import FakeEmbedder

write_json = indexer.build.write_json


def write_json_then_die(path, data):
    write_json(path, data)
    if path.name == "problems.json":  # vectors, BM25, chunks and articles written; the manifest not yet
        os.kill(os.getpid(), signal.SIGKILL)


indexer.build.write_json = write_json_then_die
settings = Settings(articles=Path(sys.argv[1]), index=Path(sys.argv[2]), keep_builds=1)
indexer.build.build_index(settings, FakeEmbedder(), show_progress=False)
"""


def kill_kb_index_while_writing(settings: Settings) -> None:
    """Run a build in another process that dies by SIGKILL halfway through writing its files."""
    environment = {**os.environ, "PYTHONPATH": str(REPOSITORY)}
    process = subprocess.run(
        [sys.executable, "-c", KILLED_WHILE_WRITING, str(settings.articles), str(settings.index)],
        cwd=REPOSITORY,
        env=environment,
        capture_output=True,
        timeout=120,
    )
    assert process.returncode == -signal.SIGKILL, process.stderr.decode()


def test_a_build_killed_while_writing_takes_no_kept_build_slot(settings: Settings, fake_embedder: FakeEmbedder) -> None:
    settings = dataclasses.replace(settings, keep_builds=1)
    build_index(settings, fake_embedder, show_progress=False)
    first = (settings.index / "current").resolve()
    (settings.articles / "billing" / "invoice-basics.md").unlink()
    kill_kb_index_while_writing(settings)
    assert load_published_index(settings.index).directory == first  # readers never noticed
    assert len(list((settings.index / "builds").iterdir())) == 2  # the killed build's folder is left behind
    build_index(settings, fake_embedder, show_progress=False)
    second = (settings.index / "current").resolve()
    assert sorted(path.name for path in (settings.index / "builds").iterdir()) == sorted([first.name, second.name])
    assert "invoice-basics" not in load_published_index(settings.index).articles


def test_every_file_and_folder_of_a_build_is_on_disk_before_it_takes_its_id(
    settings: Settings, fake_embedder: FakeEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    flushed: set[Path] = set()
    unflushed_at_rename: list[Path] = []
    flush_to_disk, rename = indexer.publish.flush_to_disk, os.rename

    def recorded_flush(path: Path) -> None:
        flush_to_disk(path)
        flushed.add(path)

    def checked_rename(source: Path, target: Path) -> None:
        if Path(source).name.endswith(indexer.publish.PARTIAL_SUFFIX):
            written = [Path(source), *Path(source).rglob("*")]
            unflushed_at_rename.extend(path for path in written if path not in flushed)
        rename(source, target)

    monkeypatch.setattr(indexer.publish, "flush_to_disk", recorded_flush)
    monkeypatch.setattr(indexer.publish.os, "rename", checked_rename)
    build_index(settings, fake_embedder, show_progress=False)
    assert len(flushed) > 10  # the files of every audience's BM25 index among them
    assert unflushed_at_rename == []
