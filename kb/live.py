"""Keeps a process on the newest published index, switching when a new build is published.

A damaged live build never stops the site: the newest earlier build that loads is served instead,
and the log and `fallback_note` say so, until a sound build is published.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from kb.config import Settings
from kb.errors import IndexFormatError, IndexNotFoundError, KbError
from kb.help_center import HelpCenter
from kb.index.embedder import Embedder
from kb.index.format import CURRENT_LINK, candidate_builds, check_build_files, load_build
from kb.search.reranking import make_reranker
from kb.search.service import QueryVectorCache, SearchService

logger = logging.getLogger(__name__)
Loaded = TypeVar("Loaded")


def first_loadable_build(index_dir: Path, load: Callable[[Path], Loaded]) -> tuple[Loaded, Path, str | None]:
    """`load` of the live build, else of the newest earlier build it succeeds on.

    Returns the loaded value, its build folder, and a note (build ids only, no paths) when that
    build is not the live one; each damaged build is logged.

    Raises:
        IndexNotFoundError: no build was ever published here.
        IndexFormatError: every build is damaged (the live one's error).
        ModelMismatchError: a build was made with another model (no fallback: every build would be).
    """
    candidates = candidate_builds(index_dir)
    if not candidates:
        raise IndexNotFoundError(f"no search index in {index_dir}: run 'kb index' first")
    has_link = (index_dir / CURRENT_LINK).is_symlink()
    damaged: list[tuple[Path, IndexFormatError]] = []
    for build_dir in candidates:
        try:
            loaded = load(build_dir)
        except IndexFormatError as error:
            logger.warning("%s", error)
            damaged.append((build_dir, error))
            continue
        note = None
        if not has_link:
            note = f"the index has no '{CURRENT_LINK}' link; serving the newest build {build_dir.name}"
        elif damaged:
            note = f"the published build {damaged[0][0].name} is damaged; serving the earlier build {build_dir.name}"
        if note:
            logger.warning("%s (run 'kb index' to publish a sound build)", note)
        return loaded, build_dir, note
    raise damaged[0][1]


class LiveHelpCenter:
    """Hands out the HelpCenter of the build `current` points at, reloading after each publish."""

    def __init__(self, settings: Settings, embedder: Embedder) -> None:
        self.settings = settings
        self.index_dir = settings.index
        self.link_path = os.fspath(settings.index / CURRENT_LINK)  # read on every request: joined once
        self.embedder = embedder
        self.query_vectors = QueryVectorCache(embedder)
        self.reranker = make_reranker(settings.reranker)
        self.fallback_note: str | None = None  # why the build served is not the published one
        self._target: str | None = None
        self._help_center: HelpCenter | None = None
        self._lock = threading.Lock()

    def published_target(self) -> str | None:
        try:
            return os.readlink(self.link_path)
        except OSError:
            return None

    def get(self) -> HelpCenter:
        """The current help center; a cheap link check per call, a reload only after a publish.

        A published build that fails to load leaves the process on the newest earlier build that
        loads, or on the build it already serves, until the next publish.

        Raises:
            IndexNotFoundError: nothing is published yet. IndexFormatError: no build can be read.
        """
        target = self.published_target()
        if self._help_center is None or target != self._target:
            with self._lock:
                if self._help_center is None or target != self._target:
                    self._help_center = self.load(target)
                    self._target = target
        return self._help_center

    def load(self, target: str | None) -> HelpCenter:
        def open_build(build_dir: Path) -> HelpCenter:
            index = load_build(build_dir, self.embedder.model_name, self.embedder.model_fingerprint, self.index_dir)
            return HelpCenter(
                index,
                SearchService(index, self.embedder, self.settings, self.query_vectors, self.reranker),
                self.settings.result_cache_size,
            )

        try:
            center, _, self.fallback_note = first_loadable_build(self.index_dir, open_build)
        except IndexFormatError:
            if self._help_center is None:
                raise
            center = self._help_center  # a publish that cannot be read, and no earlier build: keep the one in memory
            self.fallback_note = f"no build on disk can be read; still serving build {center.build_id} from memory"
            logger.warning("%s (run 'kb index' to publish a sound build)", self.fallback_note)
        return center

    def check_files(self) -> None:
        """Raise IndexFormatError when the files of the build served are no longer on disk or readable."""
        check_build_files(self.get().index.directory)

    def warm_up(self) -> None:
        """Load the model and the index before the first request needs them."""
        self.embedder.encode(["warm up"])
        try:
            self.get().search_service.warm_up()
        except KbError as error:  # serving starts anyway and answers 503 until an index loads
            logger.warning("no index to serve yet: %s", error)
