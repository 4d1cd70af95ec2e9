"""Turn a folder of articles into rendered articles and search chunks, with every problem found."""

from __future__ import annotations

import hashlib
import html
import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

from kb.config import Settings
from kb.content.articles import Article
from kb.content.chunking import Chunk, chunk_article
from kb.content.loading import ParseCache, load_articles
from kb.content.problems import Problem, Severity
from kb.content.rendering import RenderedBody, render_markdown
from kb.urls import article_url, media_url

IMAGE_SOURCE = re.compile(r'<img\b[^>]*?\bsrc="([^"]*)"')
MEDIA_SUFFIXES = frozenset(
    {".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif", ".svg", ".pdf", ".txt", ".csv", ".mp4", ".webm"}
)


@dataclass
class CompiledArticle:
    article: Article
    rendered: RenderedBody
    chunks: list[Chunk]
    related: list[str]  # slugs of existing articles, aliases resolved
    problems: list[Problem] = field(default_factory=list)  # found while rendering: broken links and images


@dataclass
class CompiledHelpCenter:
    articles: list[CompiledArticle]
    problems: list[Problem]

    @property
    def errors(self) -> list[Problem]:
        return [problem for problem in self.problems if problem.is_error]


@dataclass
class CompileCache:
    """What an unchanged article needs no second time: its parse, its rendering and its chunks."""

    parsed: ParseCache = field(default_factory=dict)
    last_good: dict[str, Article] = field(default_factory=dict)
    compiled: dict[tuple[str, str, str], CompiledArticle] = field(default_factory=dict)


def media_files(root: Path) -> frozenset[str]:
    """Paths (relative to `root`) of the images and attachments the site may serve."""
    return frozenset(
        file.relative_to(root).as_posix()
        for file in root.rglob("*")
        if file.suffix.lower() in MEDIA_SUFFIXES
        and file.is_file()
        and not any(part.startswith(".") for part in file.relative_to(root).parts)
    )


class LinkResolver:
    """Resolves links and images written in one article to the URLs of what they name."""

    def __init__(self, articles: list[Article], media: frozenset[str]) -> None:
        self.by_path = {article.path: article.slug for article in articles}
        self.by_name = {name: article.slug for article in articles for name in (article.slug, *article.aliases)}
        self.media = media
        state = sorted((article.path, article.slug, *article.aliases) for article in articles)
        self.fingerprint = hashlib.sha256(repr((state, sorted(media))).encode()).hexdigest()

    def for_article(self, article: Article) -> Callable[[str], str | None]:
        folder = posixpath.dirname(article.path)

        def resolve(href: str) -> str | None:
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or href.startswith(("/", "#")):
                return href
            target, anchor = parts.path, parts.fragment
            if target.endswith(".md"):
                path = posixpath.normpath(posixpath.join(folder, target))
                slug = self.by_path.get(path)
                return None if slug is None else article_url(slug, anchor)
            if "/" not in target and "." not in target and target in self.by_name:
                return article_url(self.by_name[target], anchor)
            if posixpath.splitext(target)[1].lower() in MEDIA_SUFFIXES:
                return self.for_image(folder)(href)
            return href

        return resolve

    def for_image(self, folder: str) -> Callable[[str], str | None]:
        def resolve(source: str) -> str | None:
            parts = urlsplit(source)
            if parts.scheme or parts.netloc or source.startswith("/"):
                return source
            path = posixpath.normpath(posixpath.join(folder, parts.path))
            return media_url(quote(path)) if path in self.media else None

        return resolve


def foreign_images(rendered_html: str, public_url: str) -> list[str]:
    """Sources of the images in `rendered_html` served by another host than the site (`public_url`).

    The Content-Security-Policy lets pages load images from the site only, so these never show.
    """
    own_host = urlsplit(public_url).netloc if public_url else None
    sources = (html.unescape(source) for source in IMAGE_SOURCE.findall(rendered_html))
    return list(dict.fromkeys(source for source in sources if urlsplit(source).netloc not in ("", own_host)))


def line_containing(article: Article, needle: str) -> int:
    """File line of the first body line containing `needle`, else the first body line."""
    for offset, line in enumerate(article.body.split("\n")):
        if needle in line:
            return article.body_start_line + offset
    return article.body_start_line


def compile_article(article: Article, resolver: LinkResolver, settings: Settings) -> CompiledArticle:
    """Render and chunk one valid article, reporting its broken links, images and related slugs."""
    folder = posixpath.dirname(article.path)
    rendered = render_markdown(article.body, resolver.for_article(article), resolver.for_image(folder))
    problems = [
        Problem(article.path, line_containing(article, href), Severity.ERROR, f"link to missing article '{href}'")
        for href in rendered.unresolved_links
    ]
    problems += [
        Problem(article.path, line_containing(article, source), Severity.ERROR, f"image not found: '{source}'")
        for source in rendered.unresolved_images
    ]
    problems += [
        Problem(
            article.path,
            line_containing(article, source),
            Severity.WARNING,
            f"image from another host is not shown: '{source}' "
            "(the site shows only its own images: put the file beside the articles and link it relatively)",
        )
        for source in foreign_images(rendered.html, settings.public_url)
    ]
    related: list[str] = []
    for name in article.related:
        slug = resolver.by_name.get(name)  # an old slug (alias) counts as its article
        if slug is None:
            problems.append(
                Problem(
                    article.path,
                    article.line_of("related"),
                    Severity.ERROR,
                    f"'related' names missing article '{name}'",
                )
            )
        elif slug != article.slug and slug not in related:
            related.append(slug)
    chunks = chunk_article(
        article.slug,
        article.title,
        article.summary,
        article.questions,
        rendered.sections,
        settings.chunk_words,
        settings.chunk_overlap_words,
        article.tags,
    )
    return CompiledArticle(article, rendered, chunks, related, problems)


def compile_help_center(root: Path, settings: Settings, cache: CompileCache | None = None) -> CompiledHelpCenter:
    """Load, validate, render and chunk every article under `root`; bad articles are skipped.

    With a `cache`, only articles whose text (or whose link targets) changed are parsed and rendered.
    """
    loaded = load_articles(
        root, cache.parsed if cache is not None else None, cache.last_good if cache is not None else None
    )
    problems = list(loaded.problems)
    resolver = LinkResolver(loaded.articles, media_files(root))
    chunking = f"{settings.chunk_words}/{settings.chunk_overlap_words}"
    compiled: list[CompiledArticle] = []
    kept: dict[tuple[str, str, str], CompiledArticle] = {}
    for article in loaded.articles:
        key = (article.path, article.content_hash, resolver.fingerprint + chunking)
        item = cache.compiled.get(key) if cache is not None else None
        if item is None or item.article is not article:
            item = compile_article(article, resolver, settings)
        kept[key] = item
        compiled.append(item)
        problems.extend(item.problems)
    if cache is not None:
        cache.compiled = kept
    problems.sort(key=lambda problem: (problem.path, problem.line or 0))
    return CompiledHelpCenter(compiled, problems)
