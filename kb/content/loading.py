"""Load a folder of articles: every valid article, and a located problem for everything else."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import yaml

from kb.content.articles import KNOWN_KEYS, UNKNOWN_KEY_MESSAGE, Article, Visibility, asks_to_hide, read_article
from kb.content.problems import Problem, Severity
from kb.content.safe_yaml import describe_error, load_yaml
from kb.errors import ArticleError

CATEGORY_FILE = "_category.yml"
LAST_GOOD_NOTE = "the last good version stays published until the errors above are fixed"
HIDDEN_NOTE = "hidden from customers at once, as this edit asks; the rest of it waits until the errors above are fixed"


@dataclass
class LoadResult:
    """Every valid article of a folder, and every problem met on the way."""

    articles: list[Article]
    problems: list[Problem]
    hiding: set[str] = field(default_factory=set)  # files left out (invalid, or a clash) that ask to hide theirs

    @property
    def errors(self) -> list[Problem]:
        return [problem for problem in self.problems if problem.is_error]


class PublishedVersion(Protocol):
    """What the link resolver and the last-good rule need of an article as the live build has it."""

    @property
    def path(self) -> str: ...
    @property
    def slug(self) -> str: ...
    @property
    def aliases(self) -> Sequence[str]: ...
    @property
    def visibility(self) -> str: ...
    @property
    def draft(self) -> bool: ...


@dataclass(frozen=True)
class KeptVersion:
    """The live build's version of an article whose file is now invalid, kept until the file is fixed."""

    path: str
    slug: str
    aliases: tuple[str, ...]
    visibility: Visibility  # internal when the invalid edit asks to hide the article
    draft: bool

    @property
    def is_public(self) -> bool:
        return self.visibility == Visibility.PUBLIC and not self.draft


def keep_published_versions(
    loaded: LoadResult, published: Mapping[str, PublishedVersion]
) -> tuple[list[KeptVersion], list[Problem]]:
    """The published version of each article whose file is now invalid, with a note for each.

    A half-finished save never unpublishes an article, but an edit that asks to hide one (any
    visibility but public, any draft but false) hides it from customers at once, errors or not.
    """
    taken = {name for article in loaded.articles for name in (article.slug, *article.aliases)}
    present = {article.path for article in loaded.articles}
    kept: list[KeptVersion] = []
    notes: list[Problem] = []
    for path in sorted({problem.path for problem in loaded.errors} - present):
        previous = published.get(path)
        if previous is None or previous.slug in taken:
            continue
        hidden = path in loaded.hiding
        visibility = Visibility(previous.visibility)
        if hidden and visibility == Visibility.PUBLIC:
            visibility = Visibility.INTERNAL
        kept.append(KeptVersion(path, previous.slug, tuple(previous.aliases), visibility, previous.draft))
        taken.add(previous.slug)
        first_error = min((problem.line or 0 for problem in loaded.errors if problem.path == path), default=0)
        notes.append(Problem(path, first_error or None, Severity.WARNING, HIDDEN_NOTE if hidden else LAST_GOOD_NOTE))
    return kept, notes


def article_files(root: Path) -> list[Path]:
    """Markdown files under `root`, skipping hidden files and folders, in a stable order."""
    return [Path(file) for _, file in article_paths(root)]


def article_paths(root: Path) -> list[tuple[str, str]]:
    """(path relative to `root` with "/", the file's own path) of each Markdown file under `root`, by the first.

    Hidden files and folders (".", "_") are skipped, and folders that cannot be read; links to folders
    are not followed. Read with `os.scandir`, whose entries know their type without a `stat` each.
    """
    found: list[tuple[str, str]] = []

    def visit(folder: str, prefix: str) -> None:
        try:
            with os.scandir(folder) as entries:
                listed = list(entries)
        except OSError:
            return
        for entry in listed:
            if entry.name.startswith((".", "_")):
                continue
            if entry.is_dir(follow_symlinks=False):
                visit(entry.path, f"{prefix}{entry.name}/")
            elif entry.name.endswith(".md") and entry.is_file():
                found.append((prefix + entry.name, entry.path))

    visit(str(root), "")
    return sorted(found)


Signature = tuple[int, int, int, int]
SETTLED_NANOSECONDS = 2_000_000_000  # file times tick coarsely: a file changed this recently may change unseen


def file_signature(file: Path | str) -> Signature:
    """What changes whenever a file's text may have: its size, inode, and modification and change times (ns)."""
    status = os.stat(file)
    return (status.st_size, status.st_ino, status.st_mtime_ns, status.st_ctime_ns)


def settled(signature: Signature) -> bool:
    """Whether a file with this signature was last changed long enough ago that a change since would show in it.

    Two writes within one tick of the file-system clock, of the same size, leave the same signature
    (git's "racily clean" files): such a file's text is read again until it has settled.
    """
    return max(signature[2], signature[3]) < time.time_ns() - SETTLED_NANOSECONDS


@dataclass(frozen=True)
class ParsedFile:
    """One file's parse, kept between loads; its signature and category tell whether it still holds."""

    signature: Signature
    settled: bool  # the signature alone says whether the file changed (see `settled`)
    category: str  # its category's settings, which it is read with
    text_hash: str  # of its text and category, which decide its parse
    article: Article | None
    problems: list[Problem]
    asks_to_hide: bool

    def holds_for(self, signature: Signature, category: str) -> bool:
        return self.settled and self.signature == signature and self.category == category


ParseCache = dict[str, ParsedFile]  # by path


def load_articles(
    root: Path,
    cache: ParseCache | None = None,
    last_good: dict[str, Article] | None = None,
    established: Collection[str] = (),
) -> LoadResult:
    """Read every article under `root`; invalid ones are reported and skipped, the rest kept.

    `cache` keeps each file's parse between calls, so an unchanged file is not parsed again.
    `last_good` remembers each file's last valid version: a file that turns invalid is reported
    and its last valid version used instead, so a half-finished edit never unpublishes an article.
    When two articles claim the same slug or alias, the established one keeps it (a path in
    `established`: the live build's articles; else the first path) and the other one is reported.

    Raises:
        ArticleError: `root` is not a folder.
    """
    if not root.is_dir():
        raise ArticleError(str(root), None, "articles folder not found")
    categories, problems = read_categories(root)
    category_names = {folder: info.name for folder, info in categories.items()}
    owners: dict[str, str] = {}  # slug or alias -> path of the article that claimed it first
    candidates: list[Article] = []  # valid articles, before their names are claimed
    seen: set[str] = set()
    hiding: set[str] = set()
    for path, file in article_paths(root):
        seen.add(path)
        category_text = repr(categories.get(path.split("/")[0]))
        cached = cache.get(path) if cache is not None else None
        try:
            signature = file_signature(file)
            if cached is None or not cached.holds_for(signature, category_text):
                cached = parse_file(Path(file), path, signature, category_text, categories, category_names, cached)
        except UnicodeDecodeError as error:
            problems.append(Problem(path, None, Severity.ERROR, f"not UTF-8 text ({error.reason})"))
            continue
        except OSError as error:
            problems.append(Problem(path, None, Severity.ERROR, f"cannot be read: {error.strerror}"))
            continue
        if cache is not None:
            cache[path] = cached
        article, article_problems = cached.article, cached.problems
        problems.extend(article_problems)
        if cached.asks_to_hide:
            hiding.add(path)
        if last_good is not None:
            if article is not None:
                last_good[path] = article
            elif path in last_good:
                article = last_good[path]
                if path in hiding and article.is_public:
                    article = dataclasses.replace(article, visibility=Visibility.INTERNAL)
                problems.append(
                    Problem(
                        path,
                        min((problem.line or 0 for problem in article_problems), default=0) or None,
                        Severity.WARNING,
                        HIDDEN_NOTE if path in hiding else LAST_GOOD_NOTE,
                    )
                )
        if article is None:
            continue
        candidates.append(article)
    claimed: set[str] = set()
    for article in sorted(candidates, key=lambda article: (article.path not in established, article.path)):
        clashes = claim_names(article, owners)
        if clashes:
            problems.extend(clashes)
            if not article.is_public:
                hiding.add(article.path)  # the published version must not stay public because of this error
            continue
        claimed.add(article.path)
    articles = [article for article in candidates if article.path in claimed]
    for remembered in (cache, last_good):
        for gone in set(remembered or ()) - seen:
            del remembered[gone]  # type: ignore[union-attr]
    return LoadResult(articles, fold_unknown_keys(problems), hiding)


def parse_file(
    file: Path,
    path: str,
    signature: Signature,
    category_text: str,
    categories: dict[str, CategoryInfo],
    category_names: dict[str, str],
    previous: ParsedFile | None,
) -> ParsedFile:
    """Read one article file and parse it, unless its text is that of the `previous` parse (see `load_articles`).

    Raises:
        OSError, UnicodeDecodeError: the file cannot be read as UTF-8 text.
    """
    text = file.read_text(encoding="utf-8")
    text_hash = hashlib.sha256(f"{text}\0{category_text}".encode()).hexdigest()
    if previous is not None and previous.text_hash == text_hash:
        return dataclasses.replace(previous, signature=signature, settled=settled(signature))
    article, problems = read_article(text, path, category_names)
    if article is not None:
        article = with_category(article, categories.get(article.category))
    hides = article is None and asks_to_hide(text)
    return ParsedFile(signature, settled(signature), category_text, text_hash, article, problems, hides)


UNKNOWN_KEY = re.compile("^" + re.escape(UNKNOWN_KEY_MESSAGE).replace(re.escape("{key}"), "(.+)") + "$")


def fold_unknown_keys(problems: list[Problem]) -> list[Problem]:
    """One warning per unknown key for the whole folder, on its first file, instead of one per article.

    A key kb does not know and that looks like none of its keys is usually a theme's setting that
    every article repeats: one line says so, where a warning per article would drown real problems.
    """
    files: dict[str, list[Problem]] = {}
    for problem in problems:
        match = UNKNOWN_KEY.match(problem.message)
        if match is not None:
            files.setdefault(match.group(1), []).append(problem)
    if not files:
        return problems
    folded = []
    for problem in problems:
        match = UNKNOWN_KEY.match(problem.message)
        if match is None:
            folded.append(problem)
            continue
        same = files[match.group(1)]
        if problem is not same[0]:
            continue
        others = f" (and in {len(same) - 1} other article(s))" if len(same) > 1 else ""
        message = f"{problem.message}{others}; known keys: {', '.join(sorted(KNOWN_KEYS))}"
        folded.append(Problem(problem.path, problem.line, problem.severity, message))
    return folded


@dataclass(frozen=True)
class CategoryInfo:
    """What a category's `_category.yml` says: `title` (required), `description`, `icon`, `order`."""

    name: str
    description: str = ""
    icon: str = ""  # a short text such as an emoji, shown before the name
    order: int | None = None  # place on the home page; unordered categories follow by name


MAX_ICON_CHARACTERS = 8


def read_category_names(root: Path) -> tuple[dict[str, str], list[Problem]]:
    """Display names from each top-level folder's optional `_category.yml` (`title: FAQ`)."""
    categories, problems = read_categories(root)
    return {folder: info.name for folder, info in categories.items()}, problems


def read_categories(root: Path) -> tuple[dict[str, CategoryInfo], list[Problem]]:
    """Each top-level folder's optional `_category.yml`, by folder name, with the problems found."""
    categories: dict[str, CategoryInfo] = {}
    problems: list[Problem] = []
    for file in sorted(root.glob(f"*/{CATEGORY_FILE}")):
        path = file.relative_to(root).as_posix()
        try:
            _, data = load_yaml(file.read_text(encoding="utf-8"))
        except yaml.YAMLError as error:
            line, problem = describe_error(error)
            problems.append(Problem(path, line, Severity.ERROR, f"invalid YAML: {problem}"))
            continue
        except (OSError, UnicodeDecodeError) as error:
            problems.append(Problem(path, None, Severity.ERROR, f"cannot be read: {error}"))
            continue
        data = data if isinstance(data, dict) else {}
        title = data.get("title")
        if not isinstance(title, str) or not title.strip():
            problems.append(Problem(path, 1, Severity.ERROR, "a category file needs a non-empty 'title'"))
            continue
        description, icon, order = data.get("description", ""), data.get("icon", ""), data.get("order")
        if not isinstance(description, str):
            problems.append(Problem(path, 1, Severity.WARNING, "'description' must be text; it is ignored"))
            description = ""
        if not isinstance(icon, str) or len(icon.strip()) > MAX_ICON_CHARACTERS:
            message = (
                f"'icon' must be text of at most {MAX_ICON_CHARACTERS} characters, such as an emoji; it is ignored"
            )
            problems.append(Problem(path, 1, Severity.WARNING, message))
            icon = ""
        if order is not None and (isinstance(order, bool) or not isinstance(order, int)):
            problems.append(Problem(path, 1, Severity.WARNING, "'order' must be a whole number; it is ignored"))
            order = None
        categories[file.parent.name] = CategoryInfo(title.strip(), description.strip(), icon.strip(), order)
    return categories, problems


def with_category(article: Article, info: CategoryInfo | None) -> Article:
    """The article with its category's order, description and icon (its name is read with the article)."""
    if info is None:
        return article
    return dataclasses.replace(
        article, category_order=info.order, category_description=info.description, category_icon=info.icon
    )


def claim_names(article: Article, owners: dict[str, str]) -> list[Problem]:
    """Reserve the article's slug and aliases; one error for each already taken by an established file."""
    clashes = []
    if article.slug in owners:
        key = "slug" if "slug" in article.key_lines else "title"
        clashes.append(
            Problem(
                article.path,
                article.line_of(key),
                Severity.ERROR,
                f"duplicate slug '{article.slug}': already used by {owners[article.slug]}; "
                "this article stays unpublished until its slug changes",
            )
        )
    seen_aliases = set()
    for alias in article.aliases:
        if alias in owners or alias == article.slug or alias in seen_aliases:
            owner = owners.get(alias, article.path)
            clashes.append(
                Problem(
                    article.path,
                    article.line_of("aliases"),
                    Severity.ERROR,
                    f"duplicate alias '{alias}': already used by {owner}",
                )
            )
        seen_aliases.add(alias)
    if not clashes:
        for name in (article.slug, *article.aliases):
            owners[name] = article.path
    return clashes
