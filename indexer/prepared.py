"""What a build keeps of each article for the next one, so that a rebuild after one edit pays for one article.

An article's records are serialized, its chunks counted for BM25 and its vectors gathered once, when
it is compiled; the files of a build are then joined from these pieces. The pieces are exactly what
serializing the whole build at once writes, byte for byte.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from kb.content.chunking import Chunk
from kb.index.format import ArticleRecord, ChunkRecord
from kb.index.lexical import TermBlock, TermTable, analyse

ID_PLACEHOLDER = '{"id": 0'  # how a chunk line starts before its id (its position in the build) is known
WRITE_BUFFER = 1 << 20  # pieces are small: one write call per megabyte


@dataclass
class PublishedArticle:
    """An article as the live build holds it, kept so a broken save can leave it published."""

    record: ArticleRecord
    chunks: list[Chunk]


@dataclass
class PreparedArticle(PublishedArticle):
    """An article with every piece of the build files that comes from it alone."""

    source: object  # what it was prepared from (a compiled article): reused while the compiler returns that
    vectors: np.ndarray  # one row per chunk
    record_json: bytes  # its entry in articles.json, indented as in the list, in UTF-8
    chunk_lines: list[bytes]  # its lines of chunks.jsonl, each from after the id to the newline, in UTF-8
    text_hashes: list[str]  # of its chunks, in order
    terms: TermBlock  # its chunks' terms, for BM25 and the spelling vocabulary


def prepare_article(
    source: object, article: PublishedArticle, vectors: np.ndarray, table: TermTable
) -> PreparedArticle:
    """The pieces of `article`, whose chunks (questions placed) have `vectors`, row for row."""
    text_hashes = [chunk.text_hash for chunk in article.chunks]
    return PreparedArticle(
        article.record,
        article.chunks,
        source,
        vectors,
        article_json(article.record).encode("utf-8"),
        [
            (chunk_line(chunk, text_hash) + "\n").encode("utf-8")
            for chunk, text_hash in zip(article.chunks, text_hashes, strict=True)
        ],
        text_hashes,
        TermBlock.of([table.terms(item) for item in analyse([chunk.lexical_text for chunk in article.chunks])]),
    )


def article_json(record: ArticleRecord) -> str:
    """`record` as `json.dumps` writes it as an item of a list indented by 1."""
    text = json.dumps(asdict(record), ensure_ascii=False, indent=1)
    return "\n".join(f" {line}" for line in text.split("\n"))  # strings escape their newlines: lines are layout


def chunk_line(chunk: Chunk, text_hash: str) -> str:
    """The chunks.jsonl line of `chunk` from just after its id: `{"id": <position>` goes before it."""
    record = ChunkRecord(
        id=0,
        slug=chunk.slug,
        anchor=chunk.anchor,
        section=chunk.section,
        heading_path=list(chunk.heading_path),
        text=chunk.text,
        kind=chunk.kind,
        text_hash=text_hash,
        keywords=chunk.keywords,
    )
    return json.dumps(asdict(record), ensure_ascii=False).removeprefix(ID_PLACEHOLDER)


def write_articles_json(path: Path, articles: list[PreparedArticle]) -> None:
    """articles.json: what `json.dumps(records, ensure_ascii=False, indent=1)` writes, in UTF-8.

    Written piece by piece from the articles' encoded entries: nothing of the whole file is built or encoded.
    """
    with open(path, "wb", buffering=WRITE_BUFFER) as handle:
        if not articles:
            handle.write(b"[]")
            return
        handle.write(b"[\n")
        handle.writelines(piece for index, article in enumerate(articles) for piece in entry(index, article))
        handle.write(b"\n]")


def entry(index: int, article: PreparedArticle) -> tuple[bytes, ...]:
    return (article.record_json,) if index == 0 else (b",\n", article.record_json)


def write_chunks_jsonl(path: Path, articles: list[PreparedArticle]) -> None:
    """chunks.jsonl: one line per chunk, numbered by position, in UTF-8."""
    lines = (line for article in articles for line in article.chunk_lines)
    with open(path, "wb", buffering=WRITE_BUFFER) as handle:
        handle.writelines(piece for position, line in enumerate(lines) for piece in (b'{"id": %d' % position, line))
