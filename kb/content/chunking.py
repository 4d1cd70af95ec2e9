"""Cut a rendered article into search chunks: one per section, long sections split with overlap."""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from kb.content.rendering import Section


class ChunkKind(enum.StrEnum):
    """What a chunk holds: a passage of a section, or a customer phrasing from the front matter."""

    SECTION = "section"
    QUESTION = "question"


@dataclass(frozen=True)
class Chunk:
    """One searchable passage of an article, with the context it is embedded with."""

    slug: str
    anchor: str  # "" for the top of the article
    section: str  # the section's heading, "" for the introduction
    heading_path: tuple[str, ...]
    text: str  # the passage as a reader sees it
    kind: ChunkKind = ChunkKind.SECTION
    keywords: str = ""  # the article's tags, matched by the lexical ranker on its first chunk

    @property
    def embedding_text(self) -> str:
        """What the model embeds: the title and heading path give the passage its context."""
        if self.kind == ChunkKind.QUESTION:
            return self.text
        return f"{' > '.join(self.heading_path)}\n{self.text}"

    @property
    def lexical_text(self) -> str:
        """What BM25 matches: the title counts twice (it names the problem), then headings and text."""
        title, headings = self.heading_path[0], " ".join(self.heading_path[1:])
        return f"{title} {title} {headings} {self.keywords} {self.text}"

    @property
    def text_hash(self) -> str:
        return hashlib.sha256(self.embedding_text.encode("utf-8")).hexdigest()


def split_words(text: str, size: int, overlap: int) -> list[str]:
    """Windows of at most `size` words, consecutive windows sharing `overlap` words."""
    words = text.split(" ")
    if len(words) <= size:
        return [text]
    pieces = []
    step = size - overlap
    for start in range(0, len(words), step):
        pieces.append(" ".join(words[start : start + size]))
        if start + size >= len(words):
            break
    return pieces


def chunk_article(
    slug: str,
    title: str,
    summary: str,
    questions: list[str],
    sections: list[Section],
    max_words: int,
    overlap_words: int,
    tags: list[str] | None = None,
    question_sections: Mapping[str, str] | None = None,
) -> list[Chunk]:
    """Chunks for one article: its sections (split when longer than `max_words`) and its questions.

    A question whose section is named in `question_sections` (by anchor or heading) lands on that
    section; the others have the anchor "" until the indexer places them (see `indexer.questions`).
    """
    chunks: list[Chunk] = []
    has_introduction = bool(sections) and sections[0].anchor == ""
    if summary and not has_introduction:
        chunks.append(Chunk(slug, "", "", (title,), summary))
    for section in sections:
        text = section.text.replace("\n", " ")
        if section.anchor == "" and summary:
            text = f"{summary} {text}"
        for piece in split_words(text, max_words, overlap_words):
            chunks.append(Chunk(slug, section.anchor, section.title, (title, *section.heading_path), piece))
    if not chunks:
        chunks.append(Chunk(slug, "", "", (title,), title))
    if tags:
        first = chunks[0]
        chunks[0] = Chunk(
            first.slug, first.anchor, first.section, first.heading_path, first.text, first.kind, keywords=" ".join(tags)
        )
    named = question_sections or {}
    for question in questions:
        answer = find_section(sections, named[question]) if question in named else None
        anchor, heading = (answer.anchor, answer.title) if answer is not None else ("", "")
        # The heading path stays the title's alone: a question is embedded and matched in its own words.
        chunks.append(Chunk(slug, anchor, heading, (title,), question, kind=ChunkKind.QUESTION))
    return chunks


def find_section(sections: list[Section], name: str) -> Section | None:
    """The section `name` designates: its anchor (with or without "#"), or its heading in any case."""
    name = name.strip()
    anchor = name.removeprefix("#")
    for section in sections:
        if section.anchor and section.anchor == anchor:
            return section
    for section in sections:
        if section.anchor and section.title.casefold() == name.casefold():
            return section
    return None
