"""One index build: compile the articles, embed what changed, write a new build, switch it in."""

from __future__ import annotations

import datetime
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from indexer.embedding import embed_chunks
from indexer.publish import discard_build, new_build_directory, publish
from kb.articles import Problem
from kb.compiler import CompiledArticle, compile_help_center
from kb.config import Settings
from kb.embedding import Embedder
from kb.errors import KbError
from kb.index_format import (
    ARTICLES_FILE,
    CHUNKS_FILE,
    FORMAT_VERSION,
    LEXICAL_FOLDER,
    MANIFEST_FILE,
    PROBLEMS_FILE,
    VECTORS_FILE,
    ArticleRecord,
    ChunkRecord,
    Manifest,
    load_published_index,
    records_to_json,
    write_json,
)
from kb.lexical import LexicalIndex
from kb.vector_index import FaissVectorIndex


@dataclass
class BuildReport:
    build_id: str
    article_count: int
    chunk_count: int
    embedded_count: int  # chunks sent to the model
    reused_count: int  # chunks whose vectors came from the previous build
    problems: list[Problem]
    seconds: float

    @property
    def errors(self) -> list[Problem]:
        return [problem for problem in self.problems if problem.is_error]


def previous_vectors(index_dir: Path, embedder: Embedder) -> dict[str, np.ndarray]:
    """text hash -> vector of the live build, if it was made with the same model."""
    try:
        previous = load_published_index(index_dir)
    except KbError:
        return {}
    if previous.manifest.model_fingerprint != embedder.model_fingerprint:
        return {}
    vectors = previous.vectors.vectors(np.array([chunk.id for chunk in previous.chunks], dtype=np.int64))
    return {chunk.text_hash: vector for chunk, vector in zip(previous.chunks, vectors, strict=False)}


def article_record(compiled: CompiledArticle) -> ArticleRecord:
    article, rendered = compiled.article, compiled.rendered
    return ArticleRecord(
        slug=article.slug, path=article.path, title=article.title, summary=article.summary,
        category=article.category, category_name=article.category_name, tags=article.tags,
        aliases=article.aliases, questions=article.questions, visibility=article.visibility,
        draft=article.draft, locale=article.locale,
        updated=article.updated.isoformat() if article.updated else None,
        related=article.related, html=rendered.html,
        headings=[{"level": heading.level, "anchor": heading.anchor, "title": heading.title}
                  for heading in rendered.headings],
        content_hash=article.content_hash,
    )


def build_index(settings: Settings, embedder: Embedder, show_progress: bool | None = None) -> BuildReport:
    """Index `settings.articles` into `settings.index`; invalid articles are reported and left out."""
    started = time.perf_counter()
    compiled = compile_help_center(settings.articles, settings)
    chunks = [chunk for item in compiled.articles for chunk in item.chunks]
    known = previous_vectors(settings.index, embedder)
    vectors, embedded = embed_chunks(chunks, embedder, known, settings.embed_batch_size, show_progress)

    settings.index.mkdir(parents=True, exist_ok=True)
    build_dir = new_build_directory(settings.index)
    try:
        vector_index = FaissVectorIndex(embedder.dimension)
        vector_index.add(np.arange(len(chunks), dtype=np.int64), vectors)
        vector_index.save(build_dir / VECTORS_FILE)
        LexicalIndex.build([chunk.lexical_text for chunk in chunks]).save(build_dir / LEXICAL_FOLDER)
        chunk_records = [
            ChunkRecord(id=position, slug=chunk.slug, anchor=chunk.anchor, section=chunk.section,
                        heading_path=list(chunk.heading_path), text=chunk.text, kind=chunk.kind,
                        text_hash=chunk.text_hash)
            for position, chunk in enumerate(chunks)
        ]
        with (build_dir / CHUNKS_FILE).open("w", encoding="utf-8") as output:
            for record in records_to_json(chunk_records):
                output.write(json.dumps(record, ensure_ascii=False) + "\n")
        write_json(build_dir / ARTICLES_FILE, records_to_json([article_record(item) for item in compiled.articles]))
        write_json(build_dir / PROBLEMS_FILE, records_to_json(compiled.problems))
        manifest = Manifest(
            format_version=FORMAT_VERSION,
            build_id=build_dir.name,
            built_at=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            model_name=embedder.model_name,
            model_fingerprint=embedder.model_fingerprint,
            dimension=embedder.dimension,
            article_count=len(compiled.articles),
            chunk_count=len(chunks),
            chunk_words=settings.chunk_words,
            chunk_overlap_words=settings.chunk_overlap_words,
            article_hashes={item.article.path: item.article.content_hash for item in compiled.articles},
        )
        write_json(build_dir / MANIFEST_FILE, records_to_json([manifest])[0])
        publish(settings.index, build_dir, settings.keep_builds)
    except BaseException:
        discard_build(build_dir)
        raise
    return BuildReport(build_dir.name, len(compiled.articles), len(chunks), embedded, len(chunks) - embedded,
                       compiled.problems, time.perf_counter() - started)
