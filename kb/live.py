"""Keeps a process on the newest published index, switching when a new build is published.

A damaged live build never stops the site: the newest earlier build that loads is served instead,
and the log and `fallback_note` say so, until a sound build is published.
"""

from __future__ import annotations

import gc
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
WARM_QUERY_LENGTH = 100  # characters of an article title searched to warm a build, within any query limit


def warmed(center: HelpCenter) -> HelpCenter:
    """`center` once what its first search would build lazily is built: the switch to it costs no request a wait.

    `SearchService.warm_up` computes what it knows the first queries wait for; one real search (not
    cached) then runs every step of ranking. A failing warm-up search does not stop the switch:
    loading, not warming, decides whether a build is sound.
    """
    service = center.search_service
    service.warm_up()
    titles = [record.title[:WARM_QUERY_LENGTH] for record in center.index.articles.values() if record.title.strip()]
    try:
        if titles:
            service.search(titles[0], 1)
    except Exception:  # best effort: a search that fails (a re-ranker that cannot load) fails for requests too
        logger.warning("build %s could not be warmed with a search", center.build_id, exc_info=True)
    return center


def settle_heap() -> None:
    """Take what this process holds now out of the cyclic garbage collector's walks, for a long-running server.

    A worker holds a build's hundreds of thousands of objects for as long as it serves it, and every
    full collection walked them all: about 200 ms at 10,000 articles, during which the worker answers
    nothing. Frozen objects are still freed by reference counting; unfreezing first lets this
    collection free the cycles of a build no longer served.
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()


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
    """Hands out the HelpCenter of the build `current` points at, switching after each publish.

    A newly published build is loaded and warmed by a background thread while requests go on
    getting the build already in memory; the switch is one assignment once the new build has
    answered a search. Only the very first load, with nothing yet to serve, happens on the request.
    """

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
        self._lock = threading.Lock()  # the first load, and who starts the background loader
        self._loader: threading.Thread | None = None
        self.settles_heap = False  # set by a server: `settle_heap` after each build is loaded and switched to

    def published_target(self) -> str | None:
        try:
            return os.readlink(self.link_path)
        except OSError:
            return None

    def get(self) -> HelpCenter:
        """The current help center: a cheap link check per call, never a wait once one build is served.

        After a publish the build in memory is returned until the new one is loaded and warmed in
        the background (see `switch_in_background`). A published build that fails to load leaves
        the process on the newest earlier build that loads, or on the build it already serves,
        until the next publish.

        Raises:
            IndexNotFoundError: nothing is published yet. IndexFormatError: no build can be read.
        """
        target = self.published_target()
        center = self._help_center
        if center is None:
            with self._lock:
                if self._help_center is None:
                    center, note = self.load(target)
                    self._help_center, self._target, self.fallback_note = warmed(center), target, note
                    if self.settles_heap:
                        settle_heap()
            return self._help_center
        if target != self._target:
            self.switch_in_background()
        return center

    def switch_in_background(self) -> None:
        """Start this process's loader thread unless it is already running; it loads until it is on the newest."""
        with self._lock:
            if self._loader is not None and self._loader.is_alive():
                return
            self._loader = threading.Thread(target=self.follow_publishes, name="kb-build-loader", daemon=True)
            self._loader.start()

    def follow_publishes(self) -> None:
        """Load and warm each newly published build, then switch to it; on any failure keep the one served.

        Loops so that a build published during a load is picked up too; a target is tried once (as
        `get` did inline before), so a damaged build is not reloaded on every request.
        """
        while (target := self.published_target()) != self._target:
            try:
                center, note = self.load(target)
                warmed(center)
            except Exception:  # a background thread has no caller to raise to: log, keep serving the old build
                logger.exception("the build published as %s cannot be served; keeping the one in memory", target)
                self._target = target
                continue
            self._help_center, self._target, self.fallback_note = center, target, note  # readers see old or new
            logger.info("now serving build %s", center.build_id)
            if self.settles_heap:
                del center  # the old build, once no request holds it, is this collection's to free
                settle_heap()

    def settled(self, timeout: float | None = None) -> HelpCenter:
        """The help center once the switch to the published build (if one is due) is done.

        For tools and tests that publish and then read at once; requests use `get`, which never waits.
        """
        self.get()
        loader = self._loader
        if loader is not None:
            loader.join(timeout)
        return self.get()

    def load(self, target: str | None) -> tuple[HelpCenter, str | None]:
        """The newest loadable build (see `first_loadable_build`) and why it is not the published one, if not.

        `target` is the link's text when read; the link is read again here, so a later publish wins.
        """

        def open_build(build_dir: Path) -> HelpCenter:
            index = load_build(build_dir, self.embedder.model_name, self.embedder.model_fingerprint, self.index_dir)
            return HelpCenter(
                index,
                SearchService(index, self.embedder, self.settings, self.query_vectors, self.reranker),
                self.settings.result_cache_size,
            )

        try:
            center, _, note = first_loadable_build(self.index_dir, open_build)
        except IndexFormatError:
            if self._help_center is None:
                raise
            center = self._help_center  # a publish that cannot be read, and no earlier build: keep the one in memory
            note = f"no build on disk can be read; still serving build {center.build_id} from memory"
            logger.warning("%s (run 'kb index' to publish a sound build)", note)
        return center, note

    def check_files(self) -> None:
        """Raise IndexFormatError when the files of the build served are no longer on disk or readable."""
        check_build_files(self.get().index.directory)

    def warm_up(self) -> None:
        """Load the model and the index before the first request needs them."""
        self.embedder.encode_queries(["warm up"])
        try:
            self.get()  # the first load is warmed (see `warmed`)
        except KbError as error:  # serving starts anyway and answers 503 until an index loads
            logger.warning("no index to serve yet: %s", error)
