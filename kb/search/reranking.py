"""The optional second stage: a cross-encoder from a local folder re-orders the top results."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any, Protocol

from kb.errors import ModelLoadError


class Reranker(Protocol):
    def score(self, query: str, passages: list[str]) -> list[float]: ...


class CrossEncoderReranker:
    """sentence-transformers' CrossEncoder over (query, passage) pairs, loaded offline on first use.

    Nothing is checked or loaded on construction, so a broken KB_RERANKER fails the searches that
    need it (a 503 on the site) and never the start of the site or the pages that need no search.
    """

    def __init__(self, directory: str) -> None:
        self.setting = directory
        self.directory = Path(directory).expanduser()
        self._model: Any = None
        self._lock = threading.Lock()

    def check_folder(self) -> None:
        """Cheap check that loads nothing.

        Raises:
            ModelLoadError: the folder holds no cross-encoder model.
        """
        if not (self.directory / "config.json").is_file():
            raise ModelLoadError(f"KB_RERANKER {self.setting!r} is not a local cross-encoder model folder")

    def load(self) -> Any:
        """The cross-encoder; after a failure the next call tries again (the folder may have been fixed).

        Raises:
            ModelLoadError: the folder holds no cross-encoder, or the library cannot load it.
        """
        with self._lock:
            if self._model is None:
                self.check_folder()
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                try:
                    from sentence_transformers import CrossEncoder

                    self._model = CrossEncoder(str(self.directory), device="cpu")
                except Exception as error:  # the library raises many kinds; all mean "unusable"
                    raise ModelLoadError(f"cannot load the re-ranker from {self.directory}: {error}") from error
            return self._model

    def score(self, query: str, passages: list[str]) -> list[float]:
        scores = self.load().predict([(query, passage) for passage in passages], show_progress_bar=False)
        return [float(value) for value in scores]


def make_reranker(directory: str) -> Reranker | None:
    """The configured re-ranker, or None when KB_RERANKER is empty."""
    return CrossEncoderReranker(directory) if directory else None
