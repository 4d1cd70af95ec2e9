"""The writers' lint rules run by `kb check` on a compiled help center, each a located Problem."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import numpy as np

from kb.authoring.scaffold import PLACEHOLDERS
from kb.authoring.slug_history import historical_slugs
from kb.content.articles import Article
from kb.content.chunking import Chunk, ChunkKind
from kb.content.compiler import CompiledArticle, CompiledHelpCenter
from kb.content.problems import Problem, Severity
from kb.errors import KbError
from kb.index.embedder import Embedder
from kb.index.format import load_published_index
from kb.urls import article_url

ARTICLE_PATH_PREFIX = article_url("")


class AnchorCollector(HTMLParser):
    """Every element id of a rendered article, and the href of every link in it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if attributes.get("id"):
            self.ids.add(str(attributes["id"]))
        if tag == "a" and attributes.get("href"):
            self.links.append(str(attributes["href"]))


def collect_anchors(html: str) -> AnchorCollector:
    collector = AnchorCollector()
    collector.feed(html)
    collector.close()
    return collector


def anchor_lines(article: Article, anchor: str) -> list[int]:
    """File lines of the body that hold `#anchor` (as written, or percent-encoded) as a whole fragment."""
    spellings = {re.escape(anchor), re.escape(quote(anchor))}
    pattern = re.compile(rf"#(?:{'|'.join(spellings)})(?![\w-])")
    return [
        article.body_start_line + offset for offset, line in enumerate(article.body.split("\n")) if pattern.search(line)
    ]


def missing_sections(compiled: CompiledHelpCenter) -> list[Problem]:
    """Links to a heading or footnote that the target article does not have."""
    collected = {item.article.slug: collect_anchors(item.rendered.html) for item in compiled.articles}
    problems = []
    for item in compiled.articles:
        article = item.article
        seen: dict[str, int] = {}  # how often each broken anchor was met, to report its nth line
        for href in collected[article.slug].links:
            parts = urlsplit(href)
            if href.startswith("#"):
                slug, label = article.slug, ""
            elif href.startswith(ARTICLE_PATH_PREFIX) and not parts.scheme and not parts.netloc:
                slug = unquote(parts.path[len(ARTICLE_PATH_PREFIX) :])
                label = slug
            else:
                continue
            anchor = unquote(parts.fragment)
            target = collected.get(slug)
            if not anchor or target is None or anchor in target.ids:
                continue  # the top of a page, or a missing article the compiler reports already
            occurrence = seen.get(anchor, 0)
            seen[anchor] = occurrence + 1
            lines = anchor_lines(article, anchor) or [article.body_start_line]
            problems.append(
                Problem(
                    article.path,
                    lines[min(occurrence, len(lines) - 1)],
                    Severity.ERROR,
                    f"link to missing section '{label}#{anchor}'",
                )
            )
    return problems


def body_text(item: CompiledArticle) -> str:
    return " ".join(" ".join(section.text.split()) for section in item.rendered.sections).strip()


def empty_articles(compiled: CompiledHelpCenter) -> list[Problem]:
    """Articles with no text at all under the title (a lone heading repeating the title counts as none)."""
    problems = []
    for item in compiled.articles:
        article = item.article
        text = body_text(item)
        if not text or text.lower() == " ".join(article.title.split()).lower():
            problems.append(
                Problem(article.path, article.line_of("title"), Severity.ERROR, "article has no text below its title")
            )
    return problems


def missing_summaries(compiled: CompiledHelpCenter) -> list[Problem]:
    return [
        Problem(
            item.article.path,
            item.article.line_of("title"),
            Severity.WARNING,
            "no summary: search results and lists show the first sentence instead",
        )
        for item in compiled.articles
        if not item.article.summary
    ]


def renamed_without_alias(compiled: CompiledHelpCenter, root: Path) -> list[Problem]:
    """Slugs an article had in git history that its `aliases` do not keep alive.

    An old slug that another article now uses (as slug or alias) is left alone: its links already
    lead somewhere, and the writer chose that. Nothing is reported outside a git repository.
    """
    history = historical_slugs(root, [item.article.path for item in compiled.articles])
    owners = {
        name: item.article.path for item in compiled.articles for name in (item.article.slug, *item.article.aliases)
    }
    problems = []
    for item in compiled.articles:
        article = item.article
        for old in history.get(article.path, []):
            if old in owners:
                continue  # the current slug, one of the aliases, or another article's name
            key = "slug" if "slug" in article.key_lines else "title"
            problems.append(
                Problem(
                    article.path,
                    article.line_of(key),
                    Severity.WARNING,
                    f"slug changed from '{old}' to '{article.slug}' in git history: "
                    f"add '{old}' to aliases so old links keep working",
                )
            )
    return problems


def placeholder_text(compiled: CompiledHelpCenter) -> list[Problem]:
    """An error for each `kb new` placeholder left in an article that is not a draft."""
    problems = []
    for item in compiled.articles:
        article = item.article
        if article.draft:
            continue
        lines = [
            article.body_start_line + offset
            for offset, line in enumerate(article.body.split("\n"))
            if any(placeholder in line for placeholder in PLACEHOLDERS)
        ]
        if lines:
            problems.append(
                Problem(
                    article.path,
                    lines[0],
                    Severity.ERROR,
                    f"placeholder text from `kb new` in a published article ({len(lines)} place(s), the first "
                    "here): write the real text, or keep it a draft (draft: true)",
                )
            )
    return problems


def writing_problems(compiled: CompiledHelpCenter, root: Path) -> list[Problem]:
    """Every rule that needs no embedding model, for the articles compiled from `root`."""
    return (
        placeholder_text(compiled)
        + missing_sections(compiled)
        + empty_articles(compiled)
        + missing_summaries(compiled)
        + renamed_without_alias(compiled, root)
    )


def published_vectors(index_dir: Path, embedder: Embedder, text_hashes: Iterable[str]) -> dict[str, np.ndarray]:
    """text hash -> vector, for the wanted chunks the live build of `index_dir` holds (same model only)."""
    try:
        index = load_published_index(index_dir)
    except KbError:
        return {}
    if index.manifest.model_fingerprint != embedder.model_fingerprint:
        return {}
    wanted = set(text_hashes)
    ids: dict[str, int] = {}
    for chunk in index.chunks:
        if chunk.text_hash in wanted and chunk.text_hash not in ids:
            ids[chunk.text_hash] = chunk.id
    vectors = index.vectors.vectors(np.array(list(ids.values()), dtype=np.int64))
    return dict(zip(ids, vectors, strict=True))


def article_vectors(
    articles: list[CompiledArticle], chunk_vectors: Mapping[str, np.ndarray], dimension: int
) -> np.ndarray:
    """One unit vector per article: the normalised mean of its section chunks' vectors (by text hash)."""
    rows = np.zeros((len(articles), dimension), dtype=np.float32)
    for row, item in enumerate(articles):
        section_vectors = [chunk_vectors[chunk.text_hash] for chunk in item.chunks if chunk.kind == ChunkKind.SECTION]
        if section_vectors:
            mean = np.mean(section_vectors, axis=0)
            norm = float(np.linalg.norm(mean))
            rows[row] = mean / norm if norm else mean
    return rows


def section_chunks(compiled: CompiledHelpCenter) -> list[Chunk]:
    """The chunks whose vectors near-duplicate detection needs."""
    return [chunk for item in compiled.articles for chunk in item.chunks if chunk.kind == ChunkKind.SECTION]


def near_duplicates(
    compiled: CompiledHelpCenter, chunk_vectors: Mapping[str, np.ndarray], threshold: float
) -> list[Problem]:
    """A warning on the later path of each pair of articles whose vectors' cosine reaches `threshold`.

    `chunk_vectors` maps the text hash of every section chunk (see `section_chunks`) to its vector.
    """
    articles = sorted(compiled.articles, key=lambda item: item.article.path)
    if len(articles) < 2 or not chunk_vectors:
        return []
    dimension = len(next(iter(chunk_vectors.values())))
    vectors = article_vectors(articles, chunk_vectors, dimension)
    problems = []
    for earlier, later, score in similar_pairs(vectors, threshold):
        problems.append(
            Problem(
                articles[later].article.path,
                1,
                Severity.WARNING,
                f"looks like {articles[earlier].article.path} ({min(score, 1.0):.2f})",
            )
        )
    return problems


def similar_pairs(vectors: np.ndarray, threshold: float, block_rows: int = 512) -> list[tuple[int, int, float]]:
    """(earlier row, later row, inner product) of every pair of rows whose inner product reaches `threshold`,
    ordered by the later row, then the earlier.

    Exact, a block of rows at a time against the rows from it on: the whole similarity matrix of
    10,000 articles would take 400 MB and, with its masks, several times that.
    """
    found: list[tuple[int, int, float]] = []
    for start in range(0, len(vectors), block_rows):
        block = vectors[start : start + block_rows] @ vectors[start:].T  # row r, column c: rows start+r, start+c
        rows, columns = np.nonzero(block >= threshold)
        later = columns > rows
        found += [
            (start + row, start + column, float(block[row, column]))
            for row, column in zip(rows[later].tolist(), columns[later].tolist(), strict=True)
        ]
    return sorted(found, key=lambda pair: (pair[1], pair[0]))
