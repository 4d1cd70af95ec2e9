"""The data folder: what cannot be rebuilt (the SQLite agents database), private to its owner.

The index folder holds only builds that `kb index` can make again; a database left there by an
older kb is moved here once.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
from pathlib import Path

from sqlalchemy.engine import make_url

from kb.config import Settings

logger = logging.getLogger("kb.store")

DATABASE_FILE = "kb.sqlite3"
# A hot rollback journal or a write-ahead log holds data the database file does not have yet.
SIDE_FILE_SUFFIXES = ("-wal", "-journal")


def database_url(settings: Settings) -> str:
    """KB_DATABASE_URL, else the SQLite file in the data folder (moving one an older kb left in the index)."""
    if settings.database_url:
        return settings.database_url
    old, target = settings.index / DATABASE_FILE, settings.data / DATABASE_FILE
    try:
        move_old_database(old, target)
    except OSError as error:
        logger.error("could not move the agents database %s to %s (%s); using it where it is", old, target, error)
        return f"sqlite:///{old.resolve()}"
    return f"sqlite:///{target.resolve()}"


def move_old_database(old: Path, new: Path) -> bool:
    """Move `old` (with its side files) to `new` unless `new` exists; True when it moved."""
    if not old.is_file():
        return False
    if new.exists():
        logger.warning("%s is ignored: the agents database is %s (delete the old file once unneeded)", old, new)
        return False
    make_private_folder(new.parent)
    moved: list[tuple[Path, Path]] = []
    try:
        # Side files first: a process stopped halfway leaves the database file behind, so the next start
        # moves it to join them. A move that fails puts the side files back beside it.
        for suffix in SIDE_FILE_SUFFIXES:
            side = old.with_name(old.name + suffix)
            if side.is_file():
                shutil.move(side, new.with_name(new.name + suffix))
                moved.append((side, new.with_name(new.name + suffix)))
        shutil.move(old, new)
    except OSError:
        if new.exists() and not old.exists():
            return False  # another process moved it a moment ago
        for side, target in reversed(moved):
            shutil.move(target, side)
        raise
    make_private_file(new)
    logger.warning(
        "moved the agents database from %s to %s: the index folder holds only builds that can be made again", old, new
    )
    return True


def make_private_folder(folder: Path) -> None:
    """Create `folder` readable by its owner only (mode 0700); an existing folder is left as it is."""
    if not folder.is_dir():
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)


def make_private_file(path: Path) -> None:
    """Create `path` if missing with mode 0600, and take group and other access away if it has any."""
    descriptor = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
    os.close(descriptor)
    if path.stat().st_mode & 0o077:
        with contextlib.suppress(PermissionError):  # someone else's file: theirs to protect
            path.chmod(0o600)


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL; None for other databases and in-memory SQLite."""
    parsed = make_url(url)
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database)


def prepare_sqlite_file(url: str) -> None:
    """For a SQLite file URL: its folder private (0700 when made) and the file created 0600 before SQLite opens it.

    The database holds password and token hashes; SQLite itself would create it 0644.
    """
    path = sqlite_path(url)
    if path is not None:
        make_private_folder(path.parent)
        make_private_file(path)
