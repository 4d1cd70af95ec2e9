"""Turn a folder of articles into rendered articles and search chunks, with every problem found."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from kb.articles import Article, Problem, load_articles
from kb.chunking import Chunk, chunk_article
from kb.config import Settings
from kb.rendering import RenderedBody, render_markdown
from kb.urls import article_url


@dataclass
class CompiledArticle:
    article: Article
    rendered: RenderedBody
    chunks: list[Chunk]


@dataclass
class CompiledHelpCenter:
    articles: list[CompiledArticle]
    problems: list[Problem]

    @property
    def errors(self) -> list[Problem]:
        return [problem for problem in self.problems if problem.is_error]


class LinkResolver:
    """Resolves links written in one article to the URLs of the articles they name."""

    def __init__(self, articles: list[Article]) -> None:
        self.by_path = {article.path: article.slug for article in articles}
        self.by_name = {name: article.slug for article in articles for name in (article.slug, *article.aliases)}

    def for_article(self, article: Article):  # type: ignore[no-untyped-def]
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
            return href

        return resolve


def line_containing(article: Article, needle: str) -> int:
    """File line of the first body line containing `needle`, else the first body line."""
    for offset, line in enumerate(article.body.split("\n")):
        if needle in line:
            return article.body_start_line + offset
    return article.body_start_line


def compile_help_center(root: Path, settings: Settings) -> CompiledHelpCenter:
    """Load, validate, render and chunk every article under `root`; bad articles are skipped."""
    loaded = load_articles(root)
    problems = list(loaded.problems)
    resolver = LinkResolver(loaded.articles)
    compiled = []
    for article in loaded.articles:
        rendered = render_markdown(article.body, resolver.for_article(article))
        for href in rendered.unresolved_links:
            problems.append(Problem(article.path, line_containing(article, href), "error",
                                    f"link to missing article '{href}'"))
        related = []
        for name in article.related:
            slug = resolver.by_name.get(name)  # an old slug (alias) counts as its article
            if slug is None:
                problems.append(Problem(article.path, article.line_of("related"), "error",
                                        f"'related' names missing article '{name}'"))
            elif slug != article.slug and slug not in related:
                related.append(slug)
        article.related = related
        chunks = chunk_article(article.slug, article.title, article.summary, article.questions,
                               rendered.sections, settings.chunk_words, settings.chunk_overlap_words,
                               article.tags)
        compiled.append(CompiledArticle(article, rendered, chunks))
    problems.sort(key=lambda problem: (problem.path, problem.line or 0))
    return CompiledHelpCenter(compiled, problems)
