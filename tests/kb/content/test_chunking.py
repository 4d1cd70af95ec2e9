"""Chunking: one chunk per section, long sections split with overlap, questions as their own chunks."""

from __future__ import annotations

from kb.content.chunking import Chunk, ChunkKind, chunk_article, split_words
from kb.content.rendering import render_markdown


def chunks_for(
    body: str, summary: str = "", questions: list[str] | None = None, max_words: int = 150, overlap: int = 30
) -> list[Chunk]:
    sections = render_markdown(body).sections
    return chunk_article("pay-invoices", "Pay invoices", summary, questions or [], sections, max_words, overlap)


def test_one_chunk_per_section_with_title_and_heading_path_as_context() -> None:
    chunks = chunks_for("Intro.\n\n## By card\n\nEnter the card.\n\n### Declined cards\n\nCall your bank.\n")
    assert [(chunk.anchor, chunk.section, chunk.heading_path) for chunk in chunks] == [
        ("", "", ("Pay invoices",)),
        ("by-card", "By card", ("Pay invoices", "By card")),
        ("declined-cards", "Declined cards", ("Pay invoices", "By card", "Declined cards")),
    ]
    assert chunks[2].embedding_text == "Pay invoices > By card > Declined cards\nCall your bank."
    assert all(chunk.slug == "pay-invoices" for chunk in chunks)


def test_summary_joins_the_introduction_and_questions_become_chunks() -> None:
    chunks = chunks_for(
        "Intro.\n\n## Steps\n\nDo it.\n", summary="Pay by card.", questions=["how do I pay", "card declined"]
    )
    assert chunks[0].text == "Pay by card. Intro."
    assert [(chunk.kind, chunk.text, chunk.anchor) for chunk in chunks[2:]] == [
        (ChunkKind.QUESTION, "how do I pay", ""),
        (ChunkKind.QUESTION, "card declined", ""),
    ]
    assert chunks[2].embedding_text == "how do I pay"


def test_long_sections_are_split_with_overlap() -> None:
    words = " ".join(f"w{number}" for number in range(25))
    chunks = chunks_for(f"## Long\n\n{words}\n", max_words=10, overlap=3)
    assert [chunk.text.split()[0] for chunk in chunks] == ["w0", "w7", "w14", "w21"]
    assert all(len(chunk.text.split()) <= 10 for chunk in chunks)
    assert {chunk.anchor for chunk in chunks} == {"long"}
    assert chunks[0].text.split()[-3:] == chunks[1].text.split()[:3]


def test_split_words_keeps_short_text_whole() -> None:
    assert split_words("a b c", 5, 2) == ["a b c"]
    assert split_words("a b c d e f", 4, 1) == ["a b c d", "d e f"]


def test_an_article_with_only_a_title_still_has_a_chunk() -> None:
    chunks = chunk_article("empty", "Empty article", "", [], [], 150, 30)
    assert [(chunk.text, chunk.anchor) for chunk in chunks] == [("Empty article", "")]


def test_text_hash_changes_with_the_embedded_text_only() -> None:
    first = chunks_for("## Steps\n\nDo it.\n")[0]
    same = chunks_for("## Steps\n\nDo it.\n")[0]
    changed = chunks_for("## Steps\n\nDo it now.\n")[0]
    assert first.text_hash == same.text_hash != changed.text_hash
