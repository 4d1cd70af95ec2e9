"""Read Markdown articles with YAML front matter, validating every field in one place."""

from __future__ import annotations

import datetime
import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import frontmatter
import yaml

from kb.errors import ArticleError

PUBLIC = "public"
INTERNAL = "internal"
VISIBILITIES = (PUBLIC, INTERNAL)
DEFAULT_CATEGORY = "general"
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
LOCALE_PATTERN = re.compile(r"^[a-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$")
KNOWN_KEYS = frozenset({
    "title", "slug", "category", "tags", "summary", "aliases", "questions",
    "visibility", "draft", "locale", "updated", "related",
})
FRONT_MATTER = frontmatter.YAMLHandler()
CATEGORY_FILE = "_category.yml"
LAST_GOOD_NOTE = "the last good version stays published until the errors above are fixed"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an article file, located by path and line."""

    path: str
    line: int | None
    severity: str  # "error" or "warning"
    message: str

    def __str__(self) -> str:
        location = f"{self.path}:{self.line}" if self.line else self.path
        return f"{location}: {self.severity}: {self.message}"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


@dataclass
class Article:
    """A valid article as written: metadata from the front matter and the Markdown body."""

    path: str  # relative to the articles folder, with forward slashes
    slug: str
    title: str
    body: str
    body_start_line: int  # file line on which `body` begins
    category: str
    category_name: str
    tags: list[str] = field(default_factory=list)
    summary: str = ""
    aliases: list[str] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)
    visibility: str = PUBLIC
    draft: bool = False
    locale: str = "en"
    updated: datetime.date | None = None
    related: list[str] = field(default_factory=list)
    content_hash: str = ""
    key_lines: dict[str, int] = field(default_factory=dict)

    @property
    def is_public(self) -> bool:
        """Customers may see it: public and not a draft."""
        return self.visibility == PUBLIC and not self.draft

    def line_of(self, key: str) -> int:
        """The file line of a front-matter key, or 1 when the key is absent."""
        return self.key_lines.get(key, 1)


@dataclass
class LoadResult:
    """Every valid article of a folder, and every problem met on the way."""

    articles: list[Article]
    problems: list[Problem]

    @property
    def errors(self) -> list[Problem]:
        return [problem for problem in self.problems if problem.is_error]


def slugify(text: str) -> str:
    """Lowercase ASCII words joined by hyphens: 'Reset your Password!' -> 'reset-your-password'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def humanize(slug: str) -> str:
    """'account-and-login' -> 'Account and login'."""
    words = slug.replace("_", "-").split("-")
    text = " ".join(word for word in words if word)
    return text[:1].upper() + text[1:]


def parse_article_text(text: str, path: str) -> tuple[dict[str, Any], dict[str, int], str, int]:
    """Split an article into (metadata, line of each key, Markdown body, first line of the body).

    Raises:
        ArticleError: the front matter is missing, is not valid YAML, or is not a mapping.
    """
    text = text.lstrip("\ufeff")
    if not FRONT_MATTER.detect(text):
        raise ArticleError(path, 1, "missing front matter: the file must start with a '---' line")
    try:
        front_matter, body = FRONT_MATTER.split(text)
    except ValueError:
        raise ArticleError(path, 1, "front matter is not closed by a '---' line") from None
    # The front matter text starts with the rest of line 1, so YAML line n is file line n + 1.
    try:
        node = yaml.compose(front_matter, Loader=yaml.SafeLoader)
        metadata = yaml.load(front_matter, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        context = getattr(error, "context_mark", None)
        if context is not None and context.line + 1 != line:
            problem += f" ({getattr(error, 'context', None) or 'opened'} on line {context.line + 1})"
        raise ArticleError(path, line, f"invalid YAML in front matter: {problem}") from None
    if node is None:
        raise ArticleError(path, 1, "front matter is empty: it needs at least a title")
    if not isinstance(node, yaml.MappingNode) or not isinstance(metadata, dict):
        raise ArticleError(path, node.start_mark.line + 1, "front matter must be a mapping of keys to values")
    key_lines: dict[str, int] = {}
    for key_node, _ in node.value:
        key = str(key_node.value)
        if key in key_lines:
            raise ArticleError(path, key_node.start_mark.line + 1, f"key {key!r} appears twice")
        key_lines[key] = key_node.start_mark.line + 1
    body_start_line = text[: len(text) - len(body)].count("\n") + 1
    return metadata, key_lines, body, body_start_line


class FieldReader:
    """Reads typed front-matter fields, recording a located problem for each wrong one."""

    def __init__(self, metadata: dict[str, Any], key_lines: dict[str, int], path: str) -> None:
        self.metadata = metadata
        self.key_lines = key_lines
        self.path = path
        self.problems: list[Problem] = []

    def fail(self, key: str, message: str, severity: str = "error") -> None:
        self.problems.append(Problem(self.path, self.key_lines.get(key, 1), severity, message))

    def string(self, key: str, default: str = "") -> str:
        value = self.metadata.get(key)
        if value is None:
            return default
        if isinstance(value, (dict, list, bool)):
            self.fail(key, f"'{key}' must be text, got {type_name(value)}")
            return default
        return str(value).strip()

    def string_list(self, key: str) -> list[str]:
        value = self.metadata.get(key)
        if value is None:
            return []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            self.fail(key, f"'{key}' must be a list of text, got {type_name(value)}")
            return []
        items = []
        for item in value:
            if isinstance(item, (dict, list)) or item is None:
                self.fail(key, f"'{key}' must be a list of text; one item is {type_name(item)}")
                continue
            text = str(item).strip()
            if text:
                items.append(text)
        return items

    def slug_list(self, key: str) -> list[str]:
        slugs = []
        for item in self.string_list(key):
            if SLUG_PATTERN.match(item):
                slugs.append(item)
            else:
                self.fail(key, f"'{key}' entry {item!r} is not a slug (lowercase letters, digits, hyphens)")
        return slugs

    def boolean(self, key: str) -> bool:
        value = self.metadata.get(key, False)
        if isinstance(value, bool):
            return value
        self.fail(key, f"'{key}' must be true or false, got {value!r}")
        return False

    def date(self, key: str) -> datetime.date | None:
        value = self.metadata.get(key)
        if value is None:
            return None
        if isinstance(value, datetime.datetime):
            return value.date()
        if isinstance(value, datetime.date):
            return value
        try:
            return datetime.date.fromisoformat(str(value).strip())
        except ValueError:
            self.fail(key, f"'{key}' must be a date like 2026-01-31, got {value!r}")
            return None


def type_name(value: Any) -> str:
    names = {dict: "a mapping", list: "a list", bool: "true/false", type(None): "nothing"}
    return names.get(type(value), f"{type(value).__name__} {value!r}")


def read_article(text: str, path: str, category_names: dict[str, str] | None = None
                 ) -> tuple[Article | None, list[Problem]]:
    """Parse and validate one article; returns None with the problems when it cannot be used.

    `category_names` maps a top-level folder to the display name its `_category.yml` gives.
    """
    try:
        metadata, key_lines, body, body_start_line = parse_article_text(text, path)
    except ArticleError as error:
        return None, [Problem(error.path, error.line, "error", error.message)]
    fields = FieldReader(metadata, key_lines, path)
    for key in metadata:
        if key not in KNOWN_KEYS:
            fields.fail(str(key), f"unknown key '{key}' is ignored (known keys: {', '.join(sorted(KNOWN_KEYS))})",
                        severity="warning")

    title = fields.string("title")
    if "title" not in metadata:
        fields.fail("title", "missing required key 'title'")
    elif not title:
        fields.fail("title", "'title' must not be empty")

    file_stem = Path(path).stem
    slug = fields.string("slug", default=slugify(file_stem))
    if not SLUG_PATTERN.match(slug):
        if "slug" in metadata:
            fields.fail("slug", f"'slug' {slug!r} must use lowercase letters, digits and single hyphens")
        else:
            fields.fail("title", f"file name {file_stem!r} gives no usable slug; add a 'slug' key")

    folder_parts = Path(path).parts[:-1]
    folder_name = (category_names or {}).get(folder_parts[0]) if folder_parts else None
    category_name = (fields.string("category") or folder_name
                     or (humanize(folder_parts[0]) if folder_parts else "General"))
    category_source = fields.string("category") or (folder_parts[0] if folder_parts else "")
    category = slugify(category_source) or DEFAULT_CATEGORY

    visibility = fields.string("visibility", default=PUBLIC).lower()
    if visibility not in VISIBILITIES:
        fields.fail("visibility", f"'visibility' must be one of {', '.join(VISIBILITIES)}, got {visibility!r}")
        visibility = INTERNAL  # fail closed: never publish what the writer may have meant to hide

    locale = fields.string("locale", default="en")
    if not LOCALE_PATTERN.match(locale):
        fields.fail("locale", f"'locale' must be a language tag like en or pt-BR, got {locale!r}")

    article = Article(
        path=path,
        slug=slug,
        title=title,
        body=body,
        body_start_line=body_start_line,
        category=category,
        category_name=category_name,
        tags=fields.string_list("tags"),
        summary=fields.string("summary"),
        aliases=fields.slug_list("aliases"),
        questions=fields.string_list("questions"),
        visibility=visibility,
        draft=fields.boolean("draft"),
        locale=locale,
        updated=fields.date("updated"),
        related=fields.slug_list("related"),
        content_hash=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        key_lines=key_lines,
    )
    problems = sorted(fields.problems, key=lambda problem: problem.line or 0)
    if any(problem.is_error for problem in problems):
        return None, problems
    return article, problems


def article_files(root: Path) -> list[Path]:
    """Markdown files under `root`, skipping hidden files and folders, in a stable order."""
    files = []
    for file in root.rglob("*.md"):
        relative = file.relative_to(root)
        if any(part.startswith((".", "_")) for part in relative.parts):
            continue
        if file.is_file():
            files.append(file)
    return sorted(files, key=lambda file: file.relative_to(root).as_posix())


ParseCache = dict[str, tuple[str, "Article | None", list[Problem]]]  # path -> (text hash, article, problems)


def load_articles(root: Path, cache: ParseCache | None = None, last_good: dict[str, Article] | None = None
                  ) -> LoadResult:
    """Read every article under `root`; invalid ones are reported and skipped, the rest kept.

    `cache` keeps each file's parse between calls, so an unchanged file is not parsed again.
    `last_good` remembers each file's last valid version: a file that turns invalid is reported
    and its last valid version used instead, so a half-finished edit never unpublishes an article.

    Raises:
        ArticleError: `root` is not a folder.
    """
    if not root.is_dir():
        raise ArticleError(str(root), None, "articles folder not found")
    articles: list[Article] = []
    category_names, problems = read_category_names(root)
    owners: dict[str, str] = {}  # slug or alias -> path of the article that claimed it first
    seen: set[str] = set()
    for file in article_files(root):
        path = file.relative_to(root).as_posix()
        seen.add(path)
        try:
            text = file.read_text(encoding="utf-8")
        except UnicodeDecodeError as error:
            problems.append(Problem(path, None, "error", f"not UTF-8 text ({error.reason})"))
            continue
        except OSError as error:
            problems.append(Problem(path, None, "error", f"cannot be read: {error.strerror}"))
            continue
        text_hash = hashlib.sha256(f"{text}\0{category_names.get(path.split('/')[0], '')}".encode()).hexdigest()
        cached = cache.get(path) if cache is not None else None
        if cached is not None and cached[0] == text_hash:
            article, article_problems = cached[1], cached[2]
        else:
            article, article_problems = read_article(text, path, category_names)
            if cache is not None:
                cache[path] = (text_hash, article, article_problems)
        problems.extend(article_problems)
        if last_good is not None:
            if article is not None:
                last_good[path] = article
            elif path in last_good:
                article = last_good[path]
                problems.append(Problem(path, min((problem.line or 0 for problem in article_problems), default=0)
                                        or None, "warning", LAST_GOOD_NOTE))
        if article is None:
            continue
        clashes = claim_names(article, owners)
        if clashes:
            problems.extend(clashes)
            continue
        articles.append(article)
    for remembered in (cache, last_good):
        for gone in set(remembered or ()) - seen:
            del remembered[gone]  # type: ignore[union-attr]
    return LoadResult(articles, problems)


def read_category_names(root: Path) -> tuple[dict[str, str], list[Problem]]:
    """Display names from each top-level folder's optional `_category.yml` (`title: FAQ`)."""
    names: dict[str, str] = {}
    problems: list[Problem] = []
    for file in sorted(root.glob(f"*/{CATEGORY_FILE}")):
        path = file.relative_to(root).as_posix()
        try:
            data = yaml.safe_load(file.read_text(encoding="utf-8"))
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            problems.append(Problem(path, mark.line + 1 if mark else 1, "error", f"invalid YAML: {error}"))
            continue
        except (OSError, UnicodeDecodeError) as error:
            problems.append(Problem(path, None, "error", f"cannot be read: {error}"))
            continue
        title = data.get("title") if isinstance(data, dict) else None
        if not isinstance(title, str) or not title.strip():
            problems.append(Problem(path, 1, "error", "a category file needs a non-empty 'title'"))
            continue
        names[file.parent.name] = title.strip()
    return names, problems


def claim_names(article: Article, owners: dict[str, str]) -> list[Problem]:
    """Reserve the article's slug and aliases; report any already taken by an earlier file."""
    clashes = []
    if article.slug in owners:
        key = "slug" if "slug" in article.key_lines else "title"
        clashes.append(Problem(article.path, article.line_of(key), "error",
                               f"duplicate slug '{article.slug}': already used by {owners[article.slug]}"))
    seen_aliases = set()
    for alias in article.aliases:
        if alias in owners or alias == article.slug or alias in seen_aliases:
            owner = owners.get(alias, article.path)
            clashes.append(Problem(article.path, article.line_of("aliases"), "error",
                                   f"duplicate alias '{alias}': already used by {owner}"))
        seen_aliases.add(alias)
    if not clashes:
        for name in (article.slug, *article.aliases):
            owners[name] = article.path
    return clashes
