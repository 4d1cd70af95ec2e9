"""Place each front-matter question on the section that answers it, by meaning, when the writer named none."""

from __future__ import annotations

import dataclasses

import numpy as np

from kb.content.chunking import Chunk, ChunkKind

# How much closer (in cosine similarity) a question must be to its nearest section than to any other
# part of the article to land there. Below it, two parts answer it about equally: the article does.
SECTION_MARGIN = 0.03


def place_questions(chunks: list[Chunk], vectors: np.ndarray, margin: float = SECTION_MARGIN) -> list[Chunk]:
    """One article's chunks, with each question the writer did not place landing on its section.

    The article's parts are its introduction (anchor "", which carries the summary) and its
    sections; each part scores a question by its closest chunk. The question lands on the closest
    part when that is a section and it beats every other part by `margin`; otherwise the whole
    article answers it and it keeps the article's top (anchor ""). `vectors` are the chunks'
    normalized embeddings, row for row.
    """
    parts: dict[str, tuple[str, list[int]]] = {}  # anchor -> (heading, rows of its chunks)
    for row, chunk in enumerate(chunks):
        if chunk.kind == ChunkKind.SECTION:
            parts.setdefault(chunk.anchor, (chunk.section, []))[1].append(row)
    if not any(anchor for anchor in parts):
        return chunks
    anchors = list(parts)
    part_rows = [row for _, rows in parts.values() for row in rows]
    placed = list(chunks)
    for row, chunk in enumerate(chunks):
        if chunk.kind != ChunkKind.QUESTION or chunk.anchor:
            continue
        similarities = vectors[part_rows] @ vectors[row]
        scores, position = [], 0
        for anchor in anchors:
            count = len(parts[anchor][1])
            scores.append(float(similarities[position : position + count].max()))
            position += count
        order = np.argsort(scores)[::-1]
        best = anchors[order[0]]
        runner_up = scores[order[1]] if len(order) > 1 else -np.inf
        if best and scores[order[0]] - runner_up >= margin:
            placed[row] = dataclasses.replace(chunk, anchor=best, section=parts[best][0])
    return placed
