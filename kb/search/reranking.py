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
    """sentence-transformers' CrossEncoder over (query, passage) pairs, loaded offline on first use."""

    def __init__(self, directory: str) -> None:
        self.directory = Path(directory).expanduser()
        if not (self.directory / "config.json").is_file():
            raise ModelLoadError(f"KB_RERANKER {directory!r} is not a local cross-encoder model folder")
        self._model: Any = None
        self._lock = threading.Lock()

    def load(self) -> Any:
        with self._lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                from sentence_transformers import CrossEncoder

                self._model = CrossEncoder(str(self.directory), device="cpu")
            return self._model

    def score(self, query: str, passages: list[str]) -> list[float]:
        scores = self.load().predict([(query, passage) for passage in passages], show_progress_bar=False)
        return [float(value) for value in scores]


def make_reranker(directory: str) -> Reranker | None:
    """The configured re-ranker, or None when KB_RERANKER is empty."""
    return CrossEncoderReranker(directory) if directory else None
