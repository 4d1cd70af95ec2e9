"""Questions that name no section land on the section closest in meaning, or on the article when none stands out."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from indexer.build import build_index
from indexer.questions import place_questions
from kb.config import Settings
from kb.content.chunking import Chunk, ChunkKind
from kb.index.format import load_published_index
from kb.search.service import SearchService
from tests.conftest import FakeEmbedder

ARTICLE = """---
title: Parcels
summary: Track parcels and return parcels.
questions:
  - where is my courier parcel today
  - track or return parcels
  - {question: zebra, section: returns}
---
Track parcels and return parcels here.

## Tracking

The courier scans each parcel. Tracking shows where the courier is today.

## Returns

Print the label, pack the box and drop it off within 30 days.
"""


def build(tmp_path: Path, embedder: FakeEmbedder) -> Settings:
    (tmp_path / "articles").mkdir()
    (tmp_path / "articles" / "parcels.md").write_text(ARTICLE)
    settings = Settings(articles=tmp_path / "articles", index=tmp_path / "index", data=tmp_path / "data")
    build_index(settings, embedder, show_progress=False)
    return settings


def test_questions_land_on_the_closest_section_or_the_article(tmp_path: Path, fake_embedder: FakeEmbedder) -> None:
    settings = build(tmp_path, fake_embedder)
    index = load_published_index(settings.index)
    placed = [(chunk.text, chunk.anchor, chunk.section) for chunk in index.chunks if chunk.kind == ChunkKind.QUESTION]
    assert placed == [
        ("where is my courier parcel today", "tracking", "Tracking"),  # shares courier, today, where with it
        ("track or return parcels", "", ""),  # the summary's own words: the whole article answers it
        ("zebra", "returns", "Returns"),  # named by the writer, whatever its words
    ]


def test_a_result_found_through_a_question_opens_its_section_with_its_text(
    tmp_path: Path, fake_embedder: FakeEmbedder
) -> None:
    settings = build(tmp_path, fake_embedder)
    service = SearchService(load_published_index(settings.index), fake_embedder, settings)
    [result] = service.search("zebra", k=1).results
    assert result.url == "/articles/parcels#returns"
    assert result.section == "Returns"
    assert result.snippet == "Print the label, pack the box and drop it off within 30 days."


def chunk(anchor: str, kind: ChunkKind = ChunkKind.SECTION) -> Chunk:
    return Chunk("a", anchor, anchor.title(), ("A",), f"text of {anchor}", kind)


def test_a_section_must_beat_every_other_part_by_the_margin() -> None:
    chunks = [chunk(""), chunk("first"), chunk("second"), chunk("", ChunkKind.QUESTION)]
    question = np.array([0.6, 0.8, 0.0])

    def placed(first: np.ndarray, second: np.ndarray) -> str:
        vectors = np.array([[1.0, 0.0, 0.0], first, second, question])
        return place_questions(chunks, vectors, margin=0.05)[3].anchor

    # The introduction scores 0.6; the first section 0.8 (ahead by 0.2), 0.62 (by 0.02, too little).
    assert placed(np.array([0.0, 1.0, 0.0]), np.array([0.0, 0.0, 1.0])) == "first"
    assert placed(np.array([0.32, 0.535, 0.78]), np.array([0.0, 0.0, 1.0])) == ""
    # Two sections about equally close: the article answers it.
    assert placed(np.array([0.0, 1.0, 0.0]), np.array([0.0, 0.99, 0.14])) == ""
