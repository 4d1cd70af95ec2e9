"""Live updates: rebuild the index whenever an article, category file or image changes on disk."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from indexer.build import BuildReport, IndexBuilder
from kb.config import Settings
from kb.content.compiler import MEDIA_SUFFIXES
from kb.errors import KbError
from kb.index.embedder import Embedder

logger = logging.getLogger(__name__)
WATCHED_SUFFIXES = frozenset({".md", ".yml"}) | MEDIA_SUFFIXES
ReportHandler = Callable[[BuildReport, set[str]], None]


def is_watched(path: str) -> bool:
    """Articles, `_category.yml` files and media; never editor swap files or hidden folders."""
    file = Path(path)
    if any(part.startswith(".") for part in file.parts[-3:]):
        return False
    return file.suffix.lower() in WATCHED_SUFFIXES


def watch_articles(
    settings: Settings,
    embedder: Embedder,
    on_build: ReportHandler,
    stop: threading.Event | None = None,
    ready: threading.Event | None = None,
) -> None:
    """Build once, then rebuild after each batch of changes until `stop` is set.

    `on_build` gets each build's report and the paths (relative to the articles folder) that changed.
    A build that fails, for whatever reason, is logged and leaves the last published index in place;
    the next change tries again. Only an unusable articles or index folder at the start stops it.
    """
    import watchfiles

    builder = IndexBuilder(settings, embedder)
    try:
        on_build(builder.build(show_progress=False), set())
    except KbError:
        raise  # the articles folder or the index folder is unusable: nothing to watch
    except Exception:
        logger.exception("the first build failed; the last published index stays live")
    root = settings.articles.resolve()
    changes_seen = watchfiles.watch(
        root,
        watch_filter=lambda _change, path: is_watched(path),
        debounce=1600,
        step=50,
        stop_event=stop,
        rust_timeout=500,
        yield_on_timeout=True,
    )
    for changes in changes_seen:
        if ready is not None:
            ready.set()  # the first batch (or timeout) arrives once the file-system watch is running
        if not changes:
            continue
        changed = {
            Path(path).resolve().relative_to(root).as_posix()
            for _, path in changes
            if Path(path).resolve().is_relative_to(root)
        }
        rebuild(builder, on_build, changed)


def rebuild(builder: IndexBuilder, on_build: ReportHandler, changed: set[str]) -> None:
    """Build after `changed` and report it; a failure of any kind is logged and the watching goes on,
    with the last published index still live, so that one bad save never stops live updates."""
    try:
        on_build(builder.build(show_progress=False), changed)
    except KbError as error:
        logger.error("rebuild after changes to %s failed: %s", ", ".join(sorted(changed)), error)
    except Exception:
        logger.exception("rebuild after changes to %s failed", ", ".join(sorted(changed)))
