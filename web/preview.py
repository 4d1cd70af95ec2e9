"""Articles as writers see them: drafts and internal ones too, banners for their state and their file's
problems, an article that cannot be built shown as its errors, and a reload after every build."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, url_for

from kb.content.problems import Problem
from kb.content.slugs import slugify
from kb.search.service import Audience
from web.pages import article_page
from web.state import help_center, live_help_center, settings

blueprint = Blueprint("preview", __name__)
SLUG_LINE = re.compile(r"^slug:\s*['\"]?([a-z0-9-]+)['\"]?\s*(?:#.*)?$", re.MULTILINE)


def render_any_article(slug: str) -> str:
    """Any article, draft or internal, with a banner for its state and for each problem in its file."""
    center = help_center()
    record = center.article_or_renamed(slug, Audience.PREVIEW)
    if record is None:
        abort(404, description="We couldn't find that article.")
    problems = [problem for problem in center.index.problems if problem.path == record.path]
    return render_template(
        "article.html",
        **article_page(center, record, Audience.PREVIEW),
        preview=True,
        build_id=center.build_id,
        preview_events=events_url(),
        problems=problems,
    )


def events_url() -> str | None:
    """Where the page listens for new builds: only the writers' preview reloads itself, not agents' pages."""
    return url_for("preview.build") if blueprint.name in current_app.blueprints else None


def problems_of_unbuilt_file(slug: str, problems: list[Problem]) -> list[Problem]:
    """The problems of the files that would have the slug `slug`: by file name, or by a `slug:` line."""
    paths = {problem.path for problem in problems}
    root = settings().articles
    matching = set()
    for path in paths:
        if slugify(PurePosixPath(path).stem) == slug:
            matching.add(path)
            continue
        try:
            written = SLUG_LINE.search((root / path).read_text(encoding="utf-8")[:4000])
        except (OSError, UnicodeDecodeError):
            continue
        if written is not None and written.group(1) == slug:
            matching.add(path)
    return [problem for problem in problems if problem.path in matching]


@blueprint.get("/<slug>")
def article(slug: str) -> str | tuple[str, int]:
    """Writer preview (KB_PREVIEW, for a writer's own machine)."""
    center = help_center()
    if center.article_or_renamed(slug, Audience.PREVIEW) is None:
        problems = problems_of_unbuilt_file(slug, center.index.problems)
        if problems:
            # A file that never built (a new file with broken front matter) has no page: its errors are the page.
            page = render_template(
                "preview_problems.html",
                slug=slug,
                problems=problems,
                build_id=center.build_id,
                preview_events=events_url(),
            )
            return page, 404
    return render_any_article(slug)


@blueprint.get("/build")
def build() -> Response:
    """The id of the published build, which the preview pages poll to reload themselves after a save."""
    response = jsonify({"build": live_help_center().get().build_id})
    response.headers["Cache-Control"] = "no-store"
    return response
