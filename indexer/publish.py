"""Atomic publishing: a build is written in its own folder, then `current` is switched to it in one step."""

from __future__ import annotations

import datetime
import json
import os
import shutil
import uuid
from dataclasses import asdict
from pathlib import Path
from typing import Any

from kb.index.format import BUILDS_FOLDER, CURRENT_LINK


def new_build_directory(index_dir: Path) -> Path:
    """A fresh, empty folder for the next build, named by time so builds sort in order."""
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    directory = index_dir / BUILDS_FOLDER / f"{stamp}-{uuid.uuid4().hex[:6]}"
    directory.mkdir(parents=True)
    return directory


def publish(index_dir: Path, build_dir: Path, keep_builds: int = 2) -> None:
    """Point `current` at `build_dir` atomically, then delete all but the `keep_builds` builds before it.

    A reader resolves `current` once and reads one build folder, so it sees either the old build
    or the new one, never a mixture. The link target is relative, so the folder can be moved.
    """
    for file in build_dir.rglob("*"):
        if file.is_file():
            flush_to_disk(file)
    temporary_link = index_dir / f".{CURRENT_LINK}-{uuid.uuid4().hex[:8]}"
    os.symlink(os.path.relpath(build_dir, index_dir), temporary_link)
    os.replace(temporary_link, index_dir / CURRENT_LINK)  # rename(2) is atomic on POSIX
    prune_builds(index_dir, build_dir, keep_builds)


def flush_to_disk(file: Path) -> None:
    with open(file, "rb") as handle:
        os.fsync(handle.fileno())


def prune_builds(index_dir: Path, live_build: Path, keep_builds: int) -> None:
    """Remove old builds; the live one and the `keep_builds` newest before it stay for readers in flight."""
    builds_dir = index_dir / BUILDS_FOLDER
    older = sorted(path for path in builds_dir.iterdir() if path.is_dir() and path.name < live_build.name)
    for stale in older[: max(0, len(older) - keep_builds)]:
        shutil.rmtree(stale, ignore_errors=True)


def discard_build(build_dir: Path) -> None:
    shutil.rmtree(build_dir, ignore_errors=True)


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")


def records_to_json(records: list[Any]) -> list[dict[str, Any]]:
    return [asdict(record) for record in records]
