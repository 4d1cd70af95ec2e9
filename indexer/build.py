"""Index builds: compile the articles, embed what changed, write a new build, switch it in.

`IndexBuilder` keeps what an unchanged article needs no second time (its parse, rendering, chunk
vectors and BM25 tokens), so a watcher that rebuilds after every save only pays for the change.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import fcntl
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from indexer.embed import embed_chunks
from indexer.joined_terms import JoinedTerms
from indexer.prepared import (
    PreparedArticle,
    PublishedArticle,
    prepare_article,
    write_articles_json,
    write_chunks_jsonl,
)
from indexer.publish import build_id_of, discard_build, new_build_directory, publish, records_to_json, write_json
from indexer.questions import place_questions
from indexer.vector_index import Centroids, centroids_of, make_vector_index
from kb.config import Settings
from kb.content.chunking import Chunk
from kb.content.compiler import CompileCache, CompiledArticle, CompiledHelpCenter, compile_help_center
from kb.content.problems import Problem
from kb.errors import KbError
from kb.index.embedder import Embedder
from kb.index.format import (
    APPROXIMATE,
    ARTICLES_FILE,
    CHUNKS_FILE,
    EXACT,
    FORMAT_VERSION,
    LEXICAL_FOLDER,
    MANIFEST_FILE,
    PROBLEMS_FILE,
    VECTORS_FILE,
    ArticleRecord,
    Audience,
    ChunkRecord,
    Manifest,
    load_published_index,
)
from kb.index.lexical import LexicalIndex, TermTable

LOCK_FILE = ".build.lock"


@dataclass
class BuildReport:
    build_id: str
    article_count: int
    chunk_count: int
    embedded_count: int  # chunks sent to the model
    reused_count: int  # chunks whose vectors came from an earlier build
    problems: list[Problem]
    seconds: float

    @property
    def errors(self) -> list[Problem]:
        return [problem for problem in self.problems if problem.is_error]


def article_record(compiled: CompiledArticle) -> ArticleRecord:
    article, rendered = compiled.article, compiled.rendered
    return ArticleRecord(
        slug=article.slug,
        path=article.path,
        title=article.title,
        summary=article.summary,
        category=article.category,
        category_name=article.category_name,
        tags=article.tags,
        aliases=article.aliases,
        questions=article.questions,
        visibility=article.visibility,
        draft=article.draft,
        locale=article.locale,
        updated=article.updated.isoformat() if article.updated else None,
        related=compiled.related,
        html=rendered.html,
        headings=[
            {"level": heading.level, "anchor": heading.anchor, "title": heading.title} for heading in rendered.headings
        ],
        content_hash=article.content_hash,
        media=compiled.media,
        order=article.order,
        unlisted=article.unlisted,
        category_order=article.category_order,
        category_description=article.category_description,
        category_icon=article.category_icon,
    )


def chunk_from_record(record: ChunkRecord) -> Chunk:
    return Chunk(
        record.slug,
        record.anchor,
        record.section,
        tuple(record.heading_path),
        record.text,
        record.kind,
        record.keywords,
    )


@contextlib.contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
    """One build at a time per index folder, across processes (a watcher and a manual `kb index`)."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / LOCK_FILE, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class IndexBuilder:
    """Builds and publishes indexes of one articles folder, remembering what it has done."""

    def __init__(self, settings: Settings, embedder: Embedder) -> None:
        self.settings = settings
        self.embedder = embedder
        self.compile_cache = CompileCache()
        self.terms = TermTable()
        self.joined_terms = JoinedTerms()  # the last build's terms and postings, patched by the next
        self.vectors: dict[str, np.ndarray] = {}  # by text hash: every vector a build may take again
        self.published: dict[str, PublishedArticle] | None = None  # by path; None until read
        self.prepared: dict[str, PreparedArticle] = {}  # by path: the pieces of each article of the last build
        self.centroids: Centroids | None = None  # the live build's, when its vector index is approximate
        self.lists: dict[str, int] = {}  # by text hash: the list each chunk of the live build has under them

    def load_previous_build(self) -> None:
        """Take vectors and articles from the live build, if it was made with the same model."""
        self.published = {}
        try:
            previous = load_published_index(self.settings.index)
        except KbError:
            return
        if previous.manifest.model_fingerprint != self.embedder.model_fingerprint:
            return
        self.centroids = centroids_of(previous)
        ids = np.array([chunk.id for chunk in previous.chunks], dtype=np.int64)
        self.vectors = {
            chunk.text_hash: vector
            for chunk, vector in zip(previous.chunks, previous.vectors.vectors(ids), strict=True)
        }
        chunks_by_slug: dict[str, list[Chunk]] = {}
        for chunk in previous.chunks:
            chunks_by_slug.setdefault(chunk.slug, []).append(chunk_from_record(chunk))
        self.published = {
            record.path: PublishedArticle(record, chunks_by_slug.get(record.slug, []))
            for record in previous.articles.values()
        }

    def build(self, show_progress: bool | None = None) -> BuildReport:
        """Index the articles folder into the index folder; invalid articles are reported and left out,
        except that a published article whose file became invalid stays published as it was (hidden from
        customers when the invalid edit asks to hide it)."""
        started = time.perf_counter()
        with build_lock(self.settings.index):
            if self.published is None:
                self.load_previous_build()
            published = {path: article.record for path, article in (self.published or {}).items()}
            compiled = compile_help_center(self.settings.articles, self.settings, self.compile_cache, published)
            articles, embedded = self.prepare(compiled, show_progress)
            build_id = self.write_and_publish(articles, compiled.problems)
            self.published = {article.record.path: article for article in articles}
            self.prepared = {article.record.path: article for article in articles}
        chunk_count = sum(len(article.chunks) for article in articles)
        return BuildReport(
            build_id,
            len(articles),
            chunk_count,
            embedded,
            chunk_count - embedded,
            compiled.problems,
            time.perf_counter() - started,
        )

    def prepare(self, compiled: CompiledHelpCenter, show_progress: bool | None) -> tuple[list[PreparedArticle], int]:
        """Every article of the build with its pieces, and how many chunks were embedded.

        An article the compiler returned unchanged keeps the pieces it had; the others (and the kept
        versions of invalid files) have their new chunks embedded, their questions placed, and their
        pieces made.
        """
        articles: list[PreparedArticle | None] = []
        fresh: list[tuple[int, object, PublishedArticle]] = []  # (position, source, article) to prepare
        for item in compiled.articles:
            known = self.prepared.get(item.article.path)
            if known is not None and known.source is item:
                articles.append(known)
                continue
            fresh.append((len(articles), item, PublishedArticle(article_record(item), item.chunks)))
            articles.append(None)
        for version in self.kept_versions(compiled):
            fresh.append((len(articles), version, version))
            articles.append(None)
        chunks = [chunk for _, _, article in fresh for chunk in article.chunks]
        vectors, embedded = embed_chunks(
            chunks, self.embedder, self.vectors, self.settings.embed_batch_size, show_progress
        )
        start = 0
        for position, source, article in fresh:
            rows = vectors[start : start + len(article.chunks)]
            start += len(article.chunks)
            article.chunks = place_questions(article.chunks, rows)
            prepared = articles[position] = prepare_article(source, article, rows, self.terms)
            self.vectors.update(zip(prepared.text_hashes, rows, strict=True))
        ready = [article for article in articles if article is not None]
        self.forget_stale_vectors(ready)
        return ready, embedded

    def forget_stale_vectors(self, articles: list[PreparedArticle]) -> None:
        """Drop the vectors of chunks no longer in the build once they are as many as those that are."""
        chunk_count = sum(len(article.chunks) for article in articles)
        if len(self.vectors) > 2 * chunk_count + 1000:
            self.vectors = {
                text_hash: vector
                for article in articles
                for text_hash, vector in zip(article.text_hashes, article.vectors, strict=True)
            }

    def kept_versions(self, compiled: CompiledHelpCenter) -> list[PublishedArticle]:
        """The live build's version of each article whose file is now invalid, hidden when the edit asks."""
        assert self.published is not None
        kept = []
        for version in compiled.kept:
            previous = self.published[version.path]
            record = dataclasses.replace(previous.record, visibility=version.visibility)
            kept.append(PublishedArticle(record, previous.chunks))
        return kept

    def write_and_publish(self, articles: list[PreparedArticle], problems: list[Problem]) -> str:
        settings = self.settings
        build_dir = new_build_directory(settings.index)
        try:
            vectors = (
                np.concatenate([article.vectors for article in articles])
                if articles
                else np.zeros((0, self.embedder.dimension), dtype=np.float32)
            )
            text_hashes = [text_hash for article in articles for text_hash in article.text_hashes]
            known_lists = np.array([self.lists.get(text_hash, -1) for text_hash in text_hashes], dtype=np.int64)
            vector_index, centroids, lists = make_vector_index(vectors, settings, self.centroids, known_lists)
            vector_index.save(build_dir / VECTORS_FILE)
            self.write_lexical_indexes(build_dir / LEXICAL_FOLDER, articles)
            write_chunks_jsonl(build_dir / CHUNKS_FILE, articles)
            write_articles_json(build_dir / ARTICLES_FILE, articles)
            write_json(build_dir / PROBLEMS_FILE, records_to_json(problems))
            manifest = Manifest(
                format_version=FORMAT_VERSION,
                build_id=build_id_of(build_dir),
                built_at=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
                model_name=self.embedder.model_name,
                model_fingerprint=self.embedder.model_fingerprint,
                dimension=self.embedder.dimension,
                article_count=len(articles),
                chunk_count=len(vectors),
                chunk_words=settings.chunk_words,
                chunk_overlap_words=settings.chunk_overlap_words,
                article_hashes={article.record.path: article.record.content_hash for article in articles},
                vector_index=EXACT if centroids is None else APPROXIMATE,
                centroids_trained_on=0 if centroids is None else centroids.trained_on,
            )
            write_json(build_dir / MANIFEST_FILE, records_to_json([manifest])[0])
            published = publish(settings.index, build_dir, settings.keep_builds)
        except BaseException:
            discard_build(build_dir)
            raise
        self.centroids = centroids
        self.lists = {} if lists is None else dict(zip(text_hashes, lists.tolist(), strict=True))
        return published.name

    def write_lexical_indexes(self, folder: Path, articles: list[PreparedArticle]) -> None:
        """One BM25 index and spelling vocabulary per audience, over the chunks that audience may see."""
        terms, postings = self.joined_terms.update([article.terms for article in articles])
        chunk_counts = [len(article.chunks) for article in articles]
        built: dict[bytes, LexicalIndex] = {}  # audiences that see the same chunks share one
        for audience in Audience:
            sees = np.array([audience.may_see(article.record) for article in articles], dtype=bool)
            visible = np.flatnonzero(np.repeat(sees, chunk_counts))
            key = visible.tobytes()
            if key not in built:
                built[key] = LexicalIndex.assemble(terms, visible, self.terms, postings)
            built[key].save(folder / audience.value)


def build_index(settings: Settings, embedder: Embedder, show_progress: bool | None = None) -> BuildReport:
    """Index `settings.articles` into `settings.index` once, reusing the live build's vectors."""
    return IndexBuilder(settings, embedder).build(show_progress)
