"""Turn a folder of articles into rendered articles and search chunks, with every problem found."""

from __future__ import annotations

import hashlib
import html
import os
import posixpath
import re
import stat
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import quote, unquote, urlsplit

from kb.config import Settings
from kb.content.articles import Article
from kb.content.chunking import Chunk, chunk_article, find_section
from kb.content.dialects import SITE_LINK
from kb.content.generators import last_path_segment
from kb.content.loading import KeptVersion, ParseCache, PublishedVersion, keep_published_versions, load_articles
from kb.content.problems import Problem, Severity
from kb.content.rendering import RenderedBody, Section, render_markdown
from kb.content.slugs import SLUG_PATTERN, slugify
from kb.urls import article_url, category_url, media_url

IMAGE_SOURCE = re.compile(r'<img\b[^>]*?\bsrc="([^"]*)"')
MEDIA_SUFFIXES = frozenset(
    {
        ".png",
        ".jpg",
        ".jpeg",
        ".gif",
        ".webp",
        ".avif",
        ".svg",
        ".pdf",
        ".txt",
        ".csv",
        ".json",
        ".zip",
        ".mp4",
        ".webm",
    }
)


@dataclass
class CompiledArticle:
    article: Article
    rendered: RenderedBody
    chunks: list[Chunk]
    related: list[str]  # slugs of existing articles, aliases resolved
    problems: list[Problem] = field(default_factory=list)  # found while rendering: broken links and images
    media: list[str] = field(default_factory=list)  # the images and attachments it shows, relative to the root


@dataclass
class CompiledHelpCenter:
    articles: list[CompiledArticle]
    problems: list[Problem]
    kept: list[KeptVersion] = field(default_factory=list)  # published versions standing in for invalid files

    @property
    def errors(self) -> list[Problem]:
        return [problem for problem in self.problems if problem.is_error]


@dataclass
class CompileCache:
    """What an unchanged article needs no second time: its parse, its rendering and its chunks."""

    parsed: ParseCache = field(default_factory=dict)
    last_good: dict[str, Article] = field(default_factory=dict)
    compiled: dict[tuple[str, str, str], CompiledArticle] = field(default_factory=dict)


def media_file(root: Path, relative: str) -> Path | None:
    """The file at `relative` (a path below `root`) if the site may serve it, else None.

    It must have a media suffix, lie outside `_` and `.` folders, and be a regular file reached
    without any symbolic link: a link could lead anywhere on the machine (`/etc/passwd`).
    """
    path = PurePosixPath(relative)
    if path.is_absolute() or not path.parts or path.suffix.lower() not in MEDIA_SUFFIXES:
        return None
    if any(part.startswith((".", "_")) for part in path.parts):
        return None
    current = root
    for part in path.parts:
        current = current / part
        try:
            mode = os.lstat(current).st_mode
        except (OSError, ValueError):
            return None
        if stat.S_ISLNK(mode):
            return None
    return current if stat.S_ISREG(mode) else None


def media_files(root: Path) -> frozenset[str]:
    """Paths (relative to `root`) of the images and attachments the site may serve (see `media_file`)."""
    found = set()
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = [name for name in subfolders if not name.startswith((".", "_"))]
        prefix = Path(folder).relative_to(root).as_posix()
        for name in names:
            if os.path.splitext(name)[1].lower() in MEDIA_SUFFIXES:  # the others need no look at the disk
                relative = name if prefix == "." else f"{prefix}/{name}"
                if media_file(root, relative) is not None:
                    found.add(relative)
    return frozenset(found)


@dataclass
class References:
    """What one article's links and images point at, gathered while it is rendered."""

    media: list[str] = field(default_factory=list)  # media files it shows or links to
    hidden_links: list[tuple[str, str]] = field(default_factory=list)  # (href, "internal" or "draft") left out


class LinkResolver:
    """Resolves links and images written in one article to the URLs of what they name."""

    def __init__(self, articles: Sequence[Article | KeptVersion], media: frozenset[str]) -> None:
        self.by_path = {article.path: article.slug for article in articles}
        self.by_name = {name: article.slug for article in articles for name in (article.slug, *article.aliases)}
        self.by_slug = {article.slug: article for article in articles}
        self.categories = {category for article in articles if (category := getattr(article, "category", None))}
        self.media = media
        state = sorted((article.path, article.slug, article.is_public, *article.aliases) for article in articles)
        self.fingerprint = hashlib.sha256(repr((state, sorted(media))).encode()).hexdigest()

    def for_article(self, article: Article, references: References) -> Callable[[str], str | None]:
        """Link targets of `article`: article URLs, media URLs, `""` for a link customers must not see."""
        folder = posixpath.dirname(article.path)

        def to_article(slug: str, href: str, anchor: str) -> str:
            target = self.by_slug[slug]
            if article.is_public and not target.is_public:
                # Customers would meet a 404, and the URL itself names the hidden article.
                references.hidden_links.append((href, "draft" if target.draft else target.visibility))
                return ""
            return article_url(slug, anchor)

        def resolve(href: str) -> str | None:
            parts = urlsplit(href)
            target, anchor = parts.path, parts.fragment
            if href.startswith(SITE_LINK):
                return site_link(href, unquote(href[len(SITE_LINK) :]).split("#", 1)[0], anchor)
            if parts.scheme or parts.netloc or href.startswith("#"):
                return href
            if href.startswith("/"):
                # A page of the site this help center came from: an article when its name is one.
                slug = self.page_named(target)
                return href if slug is None else to_article(slug, href, anchor)
            if target.endswith((".md", ".mdx")):
                slug = self.by_path.get(posixpath.normpath(posixpath.join(folder, target)))
                return None if slug is None else to_article(slug, href, anchor)
            if "/" not in target and "." not in target:
                if target in self.by_name:
                    return to_article(self.by_name[target], href, anchor)
                if SLUG_PATTERN.match(target):
                    return None  # written as an article's slug, but no article or alias has it
            if posixpath.splitext(target)[1].lower() in MEDIA_SUFFIXES:
                return self.for_image(folder, references)(href)
            slug = self.page_named(target) if "/" in target else None  # Hugo's `../other-page/`
            return href if slug is None else to_article(slug, href, anchor)

        def site_link(href: str, path: str, anchor: str) -> str | None:
            """`{{site.baseurl}}/article/name/`, `{% link _articles/a.md %}`, `{{< ref "a" >}}`."""
            if posixpath.splitext(path)[1].lower() in MEDIA_SUFFIXES:
                return self.for_image(folder, references)(href)
            if not path.strip("/"):
                return "/"
            slug = self.file_named(path) or self.page_named(path)
            if slug is not None:
                return to_article(slug, href, anchor)
            category = slugify(last_path_segment(path))
            return category_url(category) if category in self.categories else None

        return resolve

    def for_image(self, folder: str, references: References) -> Callable[[str], str | None]:
        def resolve(source: str) -> str | None:
            parts = urlsplit(source)
            if source.startswith(SITE_LINK) or (source.startswith("/") and not parts.netloc):
                # Written for the old site's root (`{% image x.png %}`, `/img/x.png`): the file of
                # that name under the articles folder; an absolute path kb cannot place stays as it is.
                found = self.media_named(unquote(source.removeprefix(SITE_LINK)).split("#", 1)[0])
                if found is None:
                    return None if source.startswith(SITE_LINK) else source
                references.media.append(found)
                return media_url(quote(found))
            if parts.scheme or parts.netloc:
                return source
            path = posixpath.normpath(posixpath.join(folder, parts.path))
            if path not in self.media:
                return None
            references.media.append(path)
            return media_url(quote(path))

        return resolve

    def file_named(self, path: str) -> str | None:
        """The slug of the article file `path` names from the old site's root (`_articles/a/b.md`, `a/b`)."""
        parts = [part for part in path.strip("/").split("/") if part]
        while parts:
            candidate = "/".join(parts)
            for name in (
                candidate,
                f"{candidate}.md",
                f"{candidate}.mdx",
                f"{candidate}/index.md",
                f"{candidate}/_index.md",
            ):
                if name in self.by_path:
                    return self.by_path[name]
            parts = parts[1:]
        return None

    def page_named(self, path: str) -> str | None:
        """The slug of the article a site path names by its last segment (`/article/about-sso/`)."""
        name = slugify(last_path_segment(path))
        return self.by_name.get(name) if name else None

    def media_named(self, path: str) -> str | None:
        """The media file at `path` from the articles folder, else the one file whose path ends with it."""
        path = re.sub(r"^(?:\.{1,2}/)+", "", path.strip("/"))  # `../images/x.png` written for the old URL
        if path in self.media:
            return path
        endings = sorted((file.count("/"), file) for file in self.media if file.endswith(f"/{path}"))
        if len(endings) == 1 or (len(endings) > 1 and endings[0][0] < endings[1][0]):
            return endings[0][1]  # the one nearest the articles folder: `images/cli.png`, not `images/x/cli.png`
        return None


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


def missing_link_message(href: str) -> str:
    if href.startswith(SITE_LINK):
        return (
            f"link to '{written_link(href)}' on the old site: no article, category or file here has that name "
            "(link to the full URL if the page lives elsewhere)"
        )
    return f"link to missing article '{href}'"


def written_link(href: str) -> str:
    """A link as the writer wrote it, near enough to find its line: `{{site.baseurl}}` became SITE_LINK."""
    return href.removeprefix(SITE_LINK).lstrip("/") if href.startswith(SITE_LINK) else href


def compile_article(article: Article, resolver: LinkResolver, settings: Settings) -> CompiledArticle:
    """Render and chunk one valid article, reporting its broken links, images and related slugs."""
    folder = posixpath.dirname(article.path)
    references = References()
    rendered = render_markdown(
        article.body, resolver.for_article(article, references), resolver.for_image(folder, references)
    )
    problems = [
        Problem(
            article.path,
            line_containing(article, written_link(href)),
            Severity.ERROR,
            missing_link_message(href),
        )
        for href in rendered.unresolved_links
    ]
    problems += [
        Problem(
            article.path,
            line_containing(article, tag),
            Severity.WARNING,
            f"template tag {tag!r} is not understood: it is left out of the page and of search",
        )
        for tag in rendered.left_out
    ]
    problems += [
        Problem(
            article.path,
            line_containing(article, written_link(source)),
            Severity.ERROR,
            f"image not found: '{written_link(source)}'",
        )
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
    problems += [
        Problem(
            article.path,
            line_containing(article, href),
            Severity.ERROR,
            f"link to {kind} article '{href}', which customers cannot see: the link is left out of the page",
        )
        for href, kind in references.hidden_links
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
        article.question_sections,
    )
    problems += missing_question_sections(article, rendered.sections)
    return CompiledArticle(article, rendered, chunks, related, problems, list(dict.fromkeys(references.media)))


def missing_question_sections(article: Article, sections: list[Section]) -> list[Problem]:
    """An error, on the question's line, for each question that names a section the article lacks."""
    anchors = ", ".join(section.anchor for section in sections if section.anchor) or "none"
    problems = []
    for number, question in enumerate(article.questions):
        name = article.question_sections.get(question)
        if name is not None and find_section(sections, name) is None:
            problems.append(
                Problem(
                    article.path,
                    article.line_of(f"questions[{number}]"),
                    Severity.ERROR,
                    f"question {question!r} names section '{name}', which this article does not have "
                    f"(its sections: {anchors})",
                )
            )
    return problems


def compile_help_center(
    root: Path,
    settings: Settings,
    cache: CompileCache | None = None,
    published: Mapping[str, PublishedVersion] | None = None,
    established: Collection[str] = (),
) -> CompiledHelpCenter:
    """Load, validate, render and chunk every article under `root`; bad articles are skipped.

    With a `cache`, only articles whose text (or whose link targets) changed are parsed and rendered.
    `published` (by path) holds the live build's articles: the version of a file that is now
    invalid stays published (see `keep_published_versions`), and links to it still resolve.
    Of two articles that claim one slug or alias, the one published (or in `established`) keeps it.
    """
    loaded = load_articles(
        root,
        cache.parsed if cache is not None else None,
        cache.last_good if cache is not None else None,
        established={*(published or ()), *established},
    )
    kept_versions, notes = keep_published_versions(loaded, published or {})
    problems = loaded.problems + notes
    resolver = LinkResolver([*loaded.articles, *kept_versions], media_files(root))
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
    return CompiledHelpCenter(compiled, problems, kept_versions)
