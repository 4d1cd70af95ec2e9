"""Old help-center URLs: a Zendesk Guide article URL redirects to the article imported from it."""

from __future__ import annotations

from flask import Blueprint, Response, abort, redirect, url_for

from kb.content.slugs import slugify
from web.state import help_center

blueprint = Blueprint("legacy", __name__)


@blueprint.get("/hc/<locale>/articles/<name>")
@blueprint.get("/hc/articles/<name>", defaults={"locale": ""})
def zendesk_article(locale: str, name: str) -> Response:
    """`/hc/en-us/articles/360001234-Reset-password` -> the article whose aliases keep that URL's name or id."""
    center = help_center()
    number = name.split("-", 1)[0]
    for candidate in (slugify(name), number if number.isdigit() else ""):  # Zendesk's ids are numbers
        slug = center.renamed_to(candidate) or (candidate if center.article(candidate) else None)
        if candidate and slug is not None:
            return redirect(url_for("pages.article", slug=slug), code=301)  # type: ignore[return-value]
    abort(404, description="We couldn't find that article.")
