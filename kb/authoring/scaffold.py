"""`kb new`: a new article file with front matter and a body skeleton that passes `kb check`."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from pathlib import Path

import yaml

from kb.content.loading import load_articles
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

FRONT_MATTER = """\
---
{title}# summary: One sentence that answers the question; search results and lists show it.
tags: []
# questions:  # how customers ask for this in their own words; each one is searchable
#   - the problem as a customer would type it
updated: {today}
---
"""


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


def article_text(title: str, today: datetime.date, questions: Sequence[str] = ()) -> str:
    """The new article's text; `questions` (customers' phrasings, from a content gap) fill its `questions:` list."""
    title_line = yaml.safe_dump({"title": title}, allow_unicode=True, default_flow_style=False, width=10_000)
    text = FRONT_MATTER.format(title=title_line, today=today.isoformat()) + SKELETON
    phrasings = [" ".join(question.split()) for question in questions if question.strip()]
    if phrasings:
        listed = yaml.safe_dump({"questions": phrasings}, allow_unicode=True, default_flow_style=False, width=10_000)
        text = text.replace(
            COMMENTED_QUESTIONS, "# how customers ask for this in their own words; each one is searchable\n" + listed, 1
        )
    return text


def create_article(
    root: Path,
    title: str,
    category: str | None = None,
    today: datetime.date | None = None,
    questions: Sequence[str] = (),
) -> Path:
    """Write a new article for `title` under `root` (in the folder of `category`) and return its path.

    `questions` become the article's `questions:` list (`kb new --from-gap` passes a gap's phrasings).

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
    folder = root
    if category is not None:
        category_slug = slugify(category)
        if not category_slug:
            raise NewArticleError(f"the category {category!r} gives no folder name: use some letters or digits")
        folder = root / category_slug
    slug = free_slug(title_slug, taken_names(root), folder)
    folder.mkdir(parents=True, exist_ok=True)
    file = folder / f"{slug}.md"
    with file.open("x", encoding="utf-8") as output:  # never overwrite: "x" fails on an existing file
        output.write(article_text(title, today or datetime.date.today(), questions))
    return file
