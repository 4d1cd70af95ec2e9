"""`kb new` (a draft article from a template) and `kb import zendesk` (a Zendesk Guide export as articles)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from kb.config import Settings
from kb_cli.options import location_options
from kb_cli.report_command import from_gap_options, gap_for_new_article


@click.command()
@click.argument("title", required=False)
@click.option(
    "--category",
    metavar="NAME",
    default=None,
    help="Category to create the article in: an existing category's folder or name; the articles folder by default.",
)
@click.option("--summary", metavar="TEXT", default=None, help="The article's one-sentence summary.")
@click.option("--tag", "tags", metavar="WORD", multiple=True, help="A tag; repeat for several.")
@click.option("--published", is_flag=True, help="Write it published at once instead of as a draft.")
@location_options
@from_gap_options
def new(
    title: str | None,
    category: str | None,
    summary: str | None,
    tags: tuple[str, ...],
    published: bool,
    articles: Path | None,
    index: Path | None,
    model: str | None,
    gap: str | None,
    **gap_source: Any,
) -> None:
    """Create a draft article for TITLE from a template, and print its path.

    The draft shows only in the preview until its `draft: true` line is deleted; `kb check` fails
    on the template's placeholder text left in a published article. With --from-gap ID the content
    gap's most central phrasing is the title (unless TITLE is given) and its other phrasings fill
    the `questions:` list.
    """
    from kb.authoring.scaffold import create_article, new_article_warnings

    settings = Settings.from_env(articles=articles, index=index, model=model)
    questions: list[str] = []
    if gap is not None:
        found = gap_for_new_article(gap, **gap_source)
        title, questions = title or found.title, found.questions
    if title is None:
        raise click.UsageError("give the article's TITLE, or --from-gap ID")
    for warning in new_article_warnings(settings.articles, title, category):
        click.echo(f"Warning: {warning}", err=True)
    created = create_article(
        settings.articles, title, category, summary=summary, tags=list(tags), draft=not published, questions=questions
    )
    click.echo(str(created))


@click.group(name="import")
def import_command() -> None:
    """Turn another help center's export into kb articles."""


@import_command.command(name="zendesk")
@click.argument("export", type=click.Path(exists=True, path_type=Path))
@location_options
def import_zendesk(export: Path, articles: Path | None, index: Path | None, model: str | None) -> None:
    """Write the articles of a Zendesk Guide export (a folder or a JSON file) into the articles folder.

    EXPORT holds the Help Center API's JSON: `categories.json`, `sections.json` and
    `articles.json` in a folder, or one file with the three lists. Categories and sections become
    folders, labels tags, drafts drafts, restricted articles internal, and each old URL an alias.
    Existing files are never overwritten. The attachments the articles use are listed to fetch.
    """
    from kb.authoring.zendesk import import_export

    settings = Settings.from_env(articles=articles, index=index, model=model)
    report = import_export(export, settings.articles)
    for path in report.written:
        click.echo(str(path))
    for path in report.skipped:
        click.echo(f"Warning: {path} exists and was left as it is", err=True)
    if report.attachments:
        click.echo(f"{len(report.attachments)} attachment(s) to fetch and put beside the articles:", err=True)
        for url, target in report.attachments:
            click.echo(f"  {url} -> {target}", err=True)
    articles_written = sum(path.suffix == ".md" for path in report.written)
    click.echo(f"{articles_written} article(s) written to {settings.articles}; run `kb check` and `kb index`", err=True)
