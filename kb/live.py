"""Keeps a process on the newest published index, switching when a new build is published."""

from __future__ import annotations

import contextlib
import os
import threading

from kb.config import Settings
from kb.errors import IndexNotFoundError
from kb.help_center import HelpCenter
from kb.index.embedder import Embedder
from kb.index.format import CURRENT_LINK, load_published_index
from kb.search.reranking import make_reranker
from kb.search.service import QueryVectorCache, SearchService


class LiveHelpCenter:
    """Hands out the HelpCenter of the build `current` points at, reloading after each publish."""

    def __init__(self, settings: Settings, embedder: Embedder) -> None:
        self.settings = settings
        self.index_dir = settings.index
        self.embedder = embedder
        self.query_vectors = QueryVectorCache(embedder)
        self.reranker = make_reranker(settings.reranker)
        self._target: str | None = None
        self._help_center: HelpCenter | None = None
        self._lock = threading.Lock()

    def published_target(self) -> str | None:
        try:
            return os.readlink(self.index_dir / CURRENT_LINK)
        except OSError:
            return None

    def get(self) -> HelpCenter:
        """The current help center; a cheap link check per call, a reload only after a publish.

        Raises:
            IndexNotFoundError: nothing is published yet.
        """
        target = self.published_target()
        if target is None:
            raise IndexNotFoundError(f"no search index in {self.index_dir}: run 'kb index' first")
        if target != self._target or self._help_center is None:
            with self._lock:
                if target != self._target or self._help_center is None:
                    index = load_published_index(
                        self.index_dir, self.embedder.model_name, self.embedder.model_fingerprint
                    )
                    service = SearchService(index, self.embedder, self.settings, self.query_vectors, self.reranker)
                    self._help_center = HelpCenter(index, service)
                    self._target = target
        return self._help_center

    def warm_up(self) -> None:
        """Load the model and the index before the first request needs them."""
        self.embedder.encode(["warm up"])
        with contextlib.suppress(IndexNotFoundError):  # serving starts anyway and reports it per request
            self.get()
