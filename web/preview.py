"""Articles as writers and agents see them: drafts and internal ones too, with banners for their state."""

from __future__ import annotations

from flask import Blueprint, abort, render_template

from kb.search.service import Audience
from web.state import help_center

blueprint = Blueprint("preview", __name__)


def render_any_article(slug: str) -> str:
    """Any article, draft or internal, with a banner for its state and for each problem in its file."""
    center = help_center()
    record = center.article_or_renamed(slug, Audience.PREVIEW)
    if record is None:
        abort(404, description="We couldn't find that article.")
    problems = [problem for problem in center.index.problems if problem.path == record.path]
    toc = [heading for heading in record.headings if heading["level"] in (2, 3)]
    return render_template(
        "article.html",
        article=record,
        category=center.category(record.category),
        toc=toc,
        related=center.related(record, Audience.PREVIEW),
        preview=True,
        problems=problems,
    )


@blueprint.get("/<slug>")
def article(slug: str) -> str:
    """Writer preview (KB_PREVIEW, for a writer's own machine)."""
    return render_any_article(slug)
