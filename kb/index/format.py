"""The published index directory: its files, its records, and reading it back.

<index>/current            -> builds/<build id>   (symlink, switched atomically)
<index>/builds/<build id>/ manifest.json, vectors.faiss, chunks.jsonl, articles.json, problems.json,
                           lexical/<audience>/ (BM25 and spelling vocabulary of what that audience may see)
<index>/builds/.<build id>.partial/  a build being written; renamed to its id once complete
"""

from __future__ import annotations

import enum
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from kb.content.articles import Visibility
from kb.content.chunking import ChunkKind
from kb.content.problems import Problem
from kb.errors import IndexFormatError, IndexNotFoundError, ModelMismatchError
from kb.index.approximate import IvfVectorIndex
from kb.index.lexical import LexicalIndex
from kb.index.vectors import FaissVectorIndex, VectorIndex

FORMAT_VERSION = 5  # 5: vectors.faiss may hold an approximate (IVF) index
OLDEST_READABLE = 4  # 4: the same files, vectors always exact: read as a build of exact vectors
CURRENT_LINK = "current"
BUILDS_FOLDER = "builds"
MANIFEST_FILE = "manifest.json"
VECTORS_FILE = "vectors.faiss"
CHUNKS_FILE = "chunks.jsonl"
ARTICLES_FILE = "articles.json"
PROBLEMS_FILE = "problems.json"
LEXICAL_FOLDER = "lexical"
EXACT = "exact"
APPROXIMATE = "ivf"
BUILD_FILES = (MANIFEST_FILE, VECTORS_FILE, CHUNKS_FILE, ARTICLES_FILE, PROBLEMS_FILE)
T = TypeVar("T")


@dataclass
class Manifest:
    format_version: int
    build_id: str
    built_at: str
    model_name: str
    model_fingerprint: str
    dimension: int
    article_count: int
    chunk_count: int
    chunk_words: int
    chunk_overlap_words: int
    article_hashes: dict[str, str] = field(default_factory=dict)
    vector_index: str = EXACT  # EXACT or APPROXIMATE, the kind vectors.faiss holds
    centroids_trained_on: int = 0  # chunks the approximate index's centroids were trained on; 0 when exact


@dataclass
class ArticleRecord:
    """Everything the site shows of one article, rendered at build time."""

    slug: str
    path: str
    title: str
    summary: str
    category: str
    category_name: str
    tags: list[str]
    aliases: list[str]
    questions: list[str]
    visibility: Visibility
    draft: bool
    locale: str
    updated: str | None  # ISO date
    related: list[str]
    html: str
    headings: list[dict[str, Any]]  # {"level", "anchor", "title"}
    content_hash: str
    media: list[str]  # images and attachments it shows, relative to the articles folder
    # Defaults: builds written before these fields existed still load.
    order: float | None = None  # place in its category's list; by title when None
    unlisted: bool = False  # left off the home and category pages, still reachable and searchable
    category_order: int | None = None
    category_description: str = ""
    category_icon: str = ""

    def __post_init__(self) -> None:
        self.visibility = Visibility(self.visibility)  # read back from JSON as a plain string

    @property
    def is_public(self) -> bool:
        return self.visibility == Visibility.PUBLIC and not self.draft


class Audience(enum.StrEnum):
    """Who is reading decides which articles may be shown, searched, and counted in search statistics."""

    PUBLIC = "public"  # customers: public, published articles only
    AGENT = "agent"  # support agents: internal articles too
    PREVIEW = "preview"  # writers: drafts too

    def may_see(self, article: ArticleRecord) -> bool:
        if self is Audience.PUBLIC:
            return article.is_public
        if self is Audience.AGENT:
            return not article.draft
        return True


CHUNK_KINDS = {kind.value: kind for kind in ChunkKind}  # a lookup; ChunkKind(...) costs microseconds per chunk


@dataclass
class ChunkRecord:
    """One indexed passage; its position in chunks.jsonl is its vector id."""

    id: int
    slug: str
    anchor: str
    section: str
    heading_path: list[str]
    text: str
    kind: ChunkKind
    text_hash: str
    keywords: str = ""

    def __post_init__(self) -> None:
        self.kind = CHUNK_KINDS.get(self.kind) or ChunkKind(self.kind)  # read back from JSON as a plain string


@dataclass
class PublishedIndex:
    directory: Path
    manifest: Manifest
    articles: dict[str, ArticleRecord]
    chunks: list[ChunkRecord]
    vectors: VectorIndex
    lexical: dict[Audience, LexicalIndex]  # each audience's BM25 over the chunks it may see
    problems: list[Problem]
    aliases: dict[str, str] = field(default_factory=dict)  # old slug -> current slug

    def __post_init__(self) -> None:
        self.aliases = {alias: record.slug for record in self.articles.values() for alias in record.aliases}


def current_build(index_dir: Path) -> Path:
    """The build folder the `current` link points at.

    Raises:
        IndexNotFoundError: nothing has been published in `index_dir` yet.
    """
    link = index_dir / CURRENT_LINK
    if not link.exists():
        raise IndexNotFoundError(f"no search index in {index_dir}: run 'kb index' first")
    return link.resolve()


def read_manifest(build_dir: Path) -> Manifest:
    try:
        data = json.loads((build_dir / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise IndexFormatError(f"{build_dir / MANIFEST_FILE}: unreadable manifest ({error})") from None
    version = data.get("format_version")
    if not isinstance(version, int) or not OLDEST_READABLE <= version <= FORMAT_VERSION:
        raise IndexFormatError(
            f"{build_dir}: index format {version!r}, this kb reads {OLDEST_READABLE} to {FORMAT_VERSION}: "
            "run 'kb index' to rebuild it"
        )
    try:
        return Manifest(**data)
    except TypeError as error:
        raise IndexFormatError(f"{build_dir / MANIFEST_FILE}: {error}") from None


def check_model(manifest: Manifest, model_name: str, model_fingerprint: str, location: Path) -> None:
    """Refuse an index whose vectors came from another model than the one that embeds queries."""
    if manifest.model_fingerprint != model_fingerprint:
        raise ModelMismatchError(
            f"the index in {location} was built with model '{manifest.model_name}' "
            f"({manifest.model_fingerprint}), but KB_MODEL and KB_ENCODER give '{model_name}' ({model_fingerprint}): "
            "rebuild it with 'kb index' or set KB_MODEL and KB_ENCODER to those it was built with"
        )


def complete_builds(index_dir: Path) -> list[Path]:
    """Build folders that were written whole, newest first (build ids sort by time).

    Folders being written have names starting with "." and are never listed.
    """
    try:
        entries = list((index_dir / BUILDS_FOLDER).iterdir())
    except OSError:
        return []
    return sorted(
        (path for path in entries if not path.name.startswith(".") and path.is_dir()),
        key=lambda path: path.name,
        reverse=True,
    )


def candidate_builds(index_dir: Path) -> list[Path]:
    """The builds a server may serve, in order of preference: the live one, then the earlier ones, newest first.

    Without a `current` link every complete build is a candidate, newest first.
    """
    builds = complete_builds(index_dir)
    link = index_dir / CURRENT_LINK
    if not link.is_symlink():
        return builds
    live = link.resolve()
    return [live] + [build for build in builds if build.name < live.name]


def check_build_files(build_dir: Path) -> None:
    """Check cheaply (no reading) that every file of a build is still there and readable.

    Raises:
        IndexFormatError: a file is missing or cannot be read.
    """
    lexical_files: list[str] = []
    for audience in Audience:
        try:
            lexical_files += [entry.path for entry in os.scandir(build_dir / LEXICAL_FOLDER / audience.value)]
        except OSError:
            raise IndexFormatError(
                f"{build_dir}: {LEXICAL_FOLDER}/{audience.value}/ is missing or unreadable"
            ) from None
    for path in [*(str(build_dir / name) for name in BUILD_FILES), *lexical_files]:
        if not (os.path.isfile(path) and os.access(path, os.R_OK)):
            raise IndexFormatError(f"{path}: missing or unreadable: run 'kb index' to rebuild the index")


def load_published_index(
    index_dir: Path, model_name: str | None = None, model_fingerprint: str | None = None
) -> PublishedIndex:
    """Read the live build of `index_dir`, checking it was made with the given model.

    Raises:
        IndexNotFoundError: nothing is published. For the others, see `load_build`.
    """
    return load_build(current_build(index_dir), model_name, model_fingerprint, index_dir)


def load_build(
    build_dir: Path, model_name: str | None = None, model_fingerprint: str | None = None, location: Path | None = None
) -> PublishedIndex:
    """Read one build folder, checking it was made with the given model.

    Raises:
        IndexFormatError: the build is of another format version, a file of it is damaged (the error
        names the file), or its files disagree on the number of chunks. ModelMismatchError: it was
        built with another model.
    """
    manifest = read_manifest(build_dir)
    if model_fingerprint is not None:
        check_model(manifest, model_name or "?", model_fingerprint, location or build_dir)
    articles = read_part(build_dir / ARTICLES_FILE, read_articles)
    chunks = read_part(build_dir / CHUNKS_FILE, read_chunks)
    problems = read_part(build_dir / PROBLEMS_FILE, read_problems)
    vectors = read_part(build_dir / VECTORS_FILE, read_vectors)
    lexical = {
        audience: read_part(build_dir / LEXICAL_FOLDER / audience.value, LexicalIndex.load) for audience in Audience
    }
    if not vectors.size == len(chunks) == manifest.chunk_count:
        raise IndexFormatError(
            f"{build_dir}: {CHUNKS_FILE} holds {len(chunks)} chunks, {VECTORS_FILE} {vectors.size} vectors "
            f"and {MANIFEST_FILE} counts {manifest.chunk_count}: run 'kb index' to rebuild it"
        )
    for audience, part in lexical.items():
        if not part.covers_only(len(chunks)):
            raise IndexFormatError(
                f"{build_dir / LEXICAL_FOLDER / audience.value}: names chunks beyond the {len(chunks)} of "
                f"{CHUNKS_FILE}: run 'kb index' to rebuild it"
            )
    return PublishedIndex(build_dir, manifest, articles, chunks, vectors, lexical, problems)


def read_part(path: Path, reader: Callable[[Path], T]) -> T:
    """Read one file (or folder) of a build; whatever goes wrong is reported with its path."""
    if not path.exists():
        raise IndexFormatError(f"{path}: missing from the build: run 'kb index' to rebuild it")
    try:
        return reader(path)
    except (OSError, ValueError, TypeError, KeyError, RuntimeError) as error:
        raise IndexFormatError(f"{path}: {damage_of(path, error)}: run 'kb index' to rebuild it") from None


def damage_of(path: Path, error: Exception) -> str:
    if path.name == VECTORS_FILE and isinstance(error, RuntimeError):
        return "not a readable FAISS index"  # FAISS's own text is a C++ signature and a source line
    if isinstance(error, KeyError):
        return f"damaged (a record lacks {error})"
    return f"damaged ({error})"


def read_vectors(path: Path) -> VectorIndex:
    """The exact or the approximate index, whichever the file holds."""
    import faiss

    index = faiss.read_index(str(path))
    if isinstance(index, faiss.IndexIVFFlat):
        return IvfVectorIndex(index)
    if isinstance(index, faiss.IndexIDMap2):
        return FaissVectorIndex(index.d, index)
    raise ValueError(f"a FAISS {type(index).__name__}, neither exact nor IVF")


def read_articles(path: Path) -> dict[str, ArticleRecord]:
    return {item["slug"]: ArticleRecord(**item) for item in json.loads(path.read_text(encoding="utf-8"))}


def read_chunks(path: Path) -> list[ChunkRecord]:
    lines = path.read_text(encoding="utf-8").split("\n")
    try:
        items = json.loads(f"[{','.join(line for line in lines if line.strip())}]")  # one parse: several times faster
    except ValueError:
        for number, line in enumerate(lines, start=1):
            try:
                json.loads(line) if line.strip() else None
            except ValueError as error:
                raise ValueError(f"line {number} is not a JSON record: {error}") from None
        raise  # each line is JSON, but not one record each (two on a line, say)
    return [ChunkRecord(**item) for item in items]


def read_problems(path: Path) -> list[Problem]:
    return [Problem(**item) for item in json.loads(path.read_text(encoding="utf-8"))]
