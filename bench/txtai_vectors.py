"""txtai's encoder in bench/load.py: the kb build's own vectors for its chunks, the same model for anything else.

txtai's "external" vectors call a transform function to turn texts into vectors. This one answers the
chunk texts of a kb build from that build's vectors (saved by `save`), so txtai indexes exactly the
vectors kb serves without embedding 90,000 chunks again (an hour on 2 cores), and encodes every
other text, each search query among them, with the same all-MiniLM-L6-v2 model, normalised as kb's
vectors are: the query path is the one txtai's sentence-transformers vectors take.

The server finds the saved vectors through the `TXTAI_KB_VECTORS` variable (a `.npz` file).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

VECTORS_VARIABLE = "TXTAI_KB_VECTORS"


def save(path: Path, texts: list[str], vectors: np.ndarray) -> None:
    """Keep `texts` and their `vectors` (one row each) for `Transform` to answer from."""
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, texts=np.array(texts, dtype=object), vectors=np.asarray(vectors, dtype=np.float32))


class Transform:
    """texts -> vectors: saved ones for known texts, the model for the rest."""

    def __init__(self) -> None:
        saved = np.load(os.environ[VECTORS_VARIABLE], allow_pickle=True)
        self.rows = {str(text): row for row, text in enumerate(saved["texts"])}
        self.vectors = saved["vectors"]
        self.model: Any = None

    def __call__(self, texts: list[str]) -> np.ndarray:
        rows = [self.rows.get(text) for text in texts]
        missing = [text for text, row in zip(texts, rows, strict=True) if row is None]
        encoded = iter(self.encode(missing)) if missing else iter(())
        return np.vstack([self.vectors[row] if row is not None else next(encoded) for row in rows])

    def encode(self, texts: list[str]) -> np.ndarray:
        if self.model is None:
            from sentence_transformers import SentenceTransformer

            from kb.index.embedder import SentenceTransformerEmbedder

            self.model = SentenceTransformer(str(SentenceTransformerEmbedder().directory), device="cpu")
        return np.asarray(self.model.encode(texts, normalize_embeddings=True), dtype=np.float32)


_transform: Transform | None = None


def transform(texts: list[str]) -> np.ndarray:
    """What txtai calls (a plain function: txtai would call a class or an instance to make one)."""
    global _transform
    if _transform is None:
        _transform = Transform()
    return _transform(texts)
