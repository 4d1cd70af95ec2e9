"""Atomic publishing: a build is written in its own folder, then `current` is switched to it in one step.

A build is written under a hidden temporary name (`.<build id>.partial`) and renamed to its id only
once complete, so a build killed halfway is never listed, served or kept in place of a whole one.
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Any

from kb.index.format import BUILDS_FOLDER, CURRENT_LINK, MANIFEST_FILE, complete_builds

PARTIAL_SUFFIX = ".partial"
FLUSH_THREADS = 8  # fsyncs wait on the disk, not the processor: several at once let it write them together


def new_build_directory(index_dir: Path) -> Path:
    """A fresh, empty folder for the next build, under its temporary name (see `build_id_of`)."""
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    directory = index_dir / BUILDS_FOLDER / f".{stamp}-{uuid.uuid4().hex[:6]}{PARTIAL_SUFFIX}"
    directory.mkdir(parents=True)
    return directory


def build_id_of(build_dir: Path) -> str:
    """The id of the build being written in `build_dir`: its folder name once published, named by time."""
    return build_dir.name.removeprefix(".").removesuffix(PARTIAL_SUFFIX)


def is_partial(path: Path) -> bool:
    return path.name.startswith(".") and path.name.endswith(PARTIAL_SUFFIX)


def publish(index_dir: Path, build_dir: Path, keep_builds: int = 2) -> Path:
    """Give the written `build_dir` its id, point `current` at it atomically, then delete all but the
    `keep_builds` builds before it. Returns the published folder.

    A reader resolves `current` once and reads one build folder, so it sees either the old build
    or the new one, never a mixture. The link target is relative, so the folder can be moved.
    """
    flush_all([build_dir, *build_dir.rglob("*")])
    published = build_dir.with_name(build_id_of(build_dir))
    os.rename(build_dir, published)
    try:
        flush_to_disk(published.parent)  # the rename itself survives a power cut
        temporary_link = index_dir / f".{CURRENT_LINK}-{uuid.uuid4().hex[:8]}"
        os.symlink(os.path.relpath(published, index_dir), temporary_link)
        os.replace(temporary_link, index_dir / CURRENT_LINK)  # rename(2) is atomic on POSIX
    except BaseException:
        discard_build(published)  # never switched to: no reader has it
        raise
    prune_builds(index_dir, published, keep_builds)
    return published


def flush_all(paths: list[Path]) -> None:
    """fsync `paths` (files and folders) several at a time; returns once all are on disk, or raises."""
    with ThreadPoolExecutor(FLUSH_THREADS) as pool:
        list(pool.map(flush_to_disk, paths))


def flush_to_disk(path: Path) -> None:
    """fsync a file, or a folder (which makes the names in it durable)."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def prune_builds(index_dir: Path, live_build: Path, keep_builds: int) -> None:
    """Remove builds no reader can be using; the live one and the `keep_builds` newest before it stay.

    Builds killed while writing go too (they never had a reader), and never count among those kept:
    folders still under their temporary name, and folders without a manifest (written last) that an
    older kb left behind. Called under the build lock, so no build is being written meanwhile.
    """
    builds_dir = index_dir / BUILDS_FOLDER
    for path in builds_dir.iterdir():
        unfinished = is_partial(path) or (
            not path.name.startswith(".") and path.name < live_build.name and not (path / MANIFEST_FILE).exists()
        )
        if unfinished and path.is_dir():
            discard_build(path)
    older = [path for path in complete_builds(index_dir) if path.name < live_build.name]  # newest first
    for stale in older[keep_builds:]:
        discard_build(stale)


def discard_build(build_dir: Path) -> None:
    shutil.rmtree(build_dir, ignore_errors=True)


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")


def records_to_json(records: list[Any]) -> list[dict[str, Any]]:
    return [asdict(record) for record in records]
