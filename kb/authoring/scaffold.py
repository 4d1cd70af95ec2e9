"""`kb new`: a new article file with front matter and a body skeleton that passes `kb check`."""

from __future__ import annotations

import datetime
import difflib
from collections.abc import Sequence
from pathlib import Path

import yaml

from kb.content.loading import article_files, load_articles, read_category_names
from kb.content.slugs import slugify
from kb.errors import NewArticleError

SKELETON = """\
Replace this paragraph with one or two sentences that say who this article is for and what it
helps them do.

## Steps

Replace this section with the steps that solve the problem, one numbered step per action.
Name buttons and menus exactly as the app shows them, in **bold**. Search links each result to
the section that answers it, so give every section a heading that says what it does.

## If it does not work

Replace this section with the usual reasons the steps fail and what to do about each one. Link
to related articles by file name, for example `[compare plans](../billing/compare-plans.md)`.
"""

# Text of the skeleton that must never reach customers: `kb check` fails on it in a published article.
PLACEHOLDERS = ("Replace this paragraph", "Replace this section")
FRONT_MATTER = """\
---
{title}{summary}{tags}# questions:  # how customers ask for this in their own words; each one is searchable
#   - the problem as a customer would type it
{draft}updated: {today}
---
"""
DRAFT_LINE = "draft: true  # only the preview shows it; delete this line to publish\n"
SUMMARY_HINT = "# summary: One sentence that answers the question; search results and lists show it.\n"


def taken_names(root: Path) -> set[str]:
    """Slugs and aliases of the articles under `root`, and the slugs their file names give."""
    articles = load_articles(root).articles
    names = {slugify(file.stem) for file in root.rglob("*.md")}
    for article in articles:
        names.update((article.slug, *article.aliases))
    return names


def free_slug(title_slug: str, taken: set[str], folder: Path) -> str:
    """`title_slug`, or the first of `title_slug-2`, `-3`, … that no article or file uses."""
    candidate, number = title_slug, 1
    while candidate in taken or (folder / f"{candidate}.md").exists():
        number += 1
        candidate = f"{title_slug}-{number}"
    return candidate


COMMENTED_QUESTIONS = """\
# questions:  # how customers ask for this in their own words; each one is searchable
#   - the problem as a customer would type it
"""


def yaml_line(key: str, value: object) -> str:
    return yaml.safe_dump({key: value}, allow_unicode=True, default_flow_style=True, width=10_000).strip("{}\n") + "\n"


def article_text(
    title: str,
    today: datetime.date,
    questions: Sequence[str] = (),
    *,
    summary: str | None = None,
    tags: list[str] | None = None,
    draft: bool = True,
) -> str:
    """The new file's text: a draft unless `draft` is false, so its placeholder text is never published.

    `questions` (customers' phrasings, from a content gap) fill its `questions:` list.
    """
    text = (
        FRONT_MATTER.format(
            title=yaml_line("title", title),
            summary=yaml_line("summary", summary) if summary else SUMMARY_HINT,
            tags=yaml_line("tags", tags or []),
            draft=DRAFT_LINE if draft else "",
            today=today.isoformat(),
        )
        + SKELETON
    )
    phrasings = [" ".join(question.split()) for question in questions if question.strip()]
    if phrasings:
        listed = yaml.safe_dump({"questions": phrasings}, allow_unicode=True, default_flow_style=False, width=10_000)
        text = text.replace(
            COMMENTED_QUESTIONS, "# how customers ask for this in their own words; each one is searchable\n" + listed, 1
        )
    return text


def existing_categories(root: Path) -> dict[str, str]:
    """Folder slug -> display name of each category folder under `root` that holds articles."""
    names, _ = read_category_names(root)
    folders = {file.relative_to(root).parts[0] for file in article_files(root) if len(file.relative_to(root).parts) > 1}
    return {folder: names.get(folder, folder) for folder in sorted(folders)}


def category_folder(root: Path, category: str) -> tuple[str, list[str]]:
    """The folder for `category` (an existing category's folder or display name), and a warning if it is new.

    Raises:
        NewArticleError: the category gives no folder name.
    """
    existing = existing_categories(root)
    wanted = slugify(category)
    if not wanted:
        raise NewArticleError(f"the category {category!r} gives no folder name: use some letters or digits")
    if wanted in existing:
        return wanted, []
    for folder, name in existing.items():
        if slugify(name) == wanted:
            return folder, []  # the display name of `_category.yml`: `--category FAQ` for faq/
    near = [folder for folder in existing if folder.startswith(f"{wanted}-") or wanted in folder.split("-")]
    near += difflib.get_close_matches(wanted, list(existing), n=1, cutoff=0.6)
    hint = f": did you mean {near[0]}?" if near else f" (existing: {', '.join(existing) or 'none'})"
    return wanted, [f"category '{wanted}' is new and gets a folder of its own{hint}"]


def same_titles(root: Path, title: str) -> list[str]:
    """A warning for each article that already has this title (in any case)."""
    return [
        f"an article titled {article.title!r} already exists: {article.path}"
        for article in load_articles(root).articles
        if article.title.casefold() == title.casefold()
    ]


def create_article(
    root: Path,
    title: str,
    category: str | None = None,
    today: datetime.date | None = None,
    summary: str | None = None,
    tags: list[str] | None = None,
    draft: bool = True,
    questions: Sequence[str] = (),
) -> Path:
    """Write a new article for `title` under `root` (in the folder of `category`) and return its path.

    The article is a draft unless `draft` is false (see `new_article_warnings` for what to tell the writer);
    `questions` become its `questions:` list (`kb new --from-gap` passes a gap's phrasings).

    Raises:
        NewArticleError: the title is empty, or neither it nor the category gives a usable slug.
        ArticleError: `root` is not a folder.
    """
    title = " ".join(title.split())
    if not title:
        raise NewArticleError('the title is empty: kb new "How to reset your password"')
    title_slug = slugify(title)
    if not title_slug:
        raise NewArticleError(f"the title {title!r} gives no slug: use some letters or digits")
    folder = root if category is None else root / category_folder(root, category)[0]
    slug = free_slug(title_slug, taken_names(root), folder)
    folder.mkdir(parents=True, exist_ok=True)
    file = folder / f"{slug}.md"
    with file.open("x", encoding="utf-8") as output:  # never overwrite: "x" fails on an existing file
        output.write(
            article_text(title, today or datetime.date.today(), questions, summary=summary, tags=tags, draft=draft)
        )
    return file


def new_article_warnings(root: Path, title: str, category: str | None) -> list[str]:
    """What the writer should know before `kb new` writes: a new category, a title already used."""
    if not root.is_dir():
        return []
    warnings = category_folder(root, category)[1] if category is not None and slugify(category) else []
    return warnings + same_titles(root, " ".join(title.split()))
