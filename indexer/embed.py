"""Embed chunks in batches, taking the vectors of unchanged chunks from the previous build."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import numpy as np

from kb.content.chunking import Chunk
from kb.index.embedder import Embedder


def embed_chunks(
    chunks: Sequence[Chunk],
    embedder: Embedder,
    known_vectors: dict[str, np.ndarray],
    batch_size: int = 32,
    show_progress: bool | None = None,
) -> tuple[np.ndarray, int]:
    """Vectors for `chunks` in order, and how many had to be embedded (the rest came from the cache).

    Identical texts are embedded once. `show_progress` defaults to whether stderr is a terminal.
    """
    texts_by_hash = {chunk.text_hash: chunk.embedding_text for chunk in chunks}
    missing = [text_hash for text_hash in texts_by_hash if text_hash not in known_vectors]  # each text once
    missing.sort(key=lambda text_hash: len(texts_by_hash[text_hash]))  # batches of similar length pad less
    fresh = dict(known_vectors)
    if show_progress is None:
        show_progress = sys.stderr.isatty()
    progress = None
    if show_progress and missing:
        from tqdm import tqdm

        progress = tqdm(total=len(missing), unit="chunk", desc="Embedding", file=sys.stderr)
    for start in range(0, len(missing), batch_size):
        batch = missing[start : start + batch_size]
        vectors = embedder.encode([texts_by_hash[text_hash] for text_hash in batch])
        fresh.update(zip(batch, vectors, strict=False))
        if progress is not None:
            progress.update(len(batch))
    if progress is not None:
        progress.close()
    if not chunks:
        return np.zeros((0, embedder.dimension), dtype=np.float32), 0
    return np.vstack([fresh[chunk.text_hash] for chunk in chunks]).astype(np.float32), len(missing)
