"""The JSON API under /api: search, articles and categories; public readers only."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, jsonify, redirect, request, url_for

from kb.errors import QueryError
from kb.help_center import HelpCenter
from kb.index_format import ArticleRecord
from kb.urls import article_url, category_url
from web.state import help_center, settings

blueprint = Blueprint("api", __name__)


def result_count() -> int:
    raw = request.args.get("k")
    if raw is None or raw == "":
        return settings().default_results
    if not (raw.isascii() and raw.isdigit()):
        raise QueryError(f"'k' must be a whole number, got {raw!r}")
    return int(raw)


@blueprint.get("/search")
def search() -> Response:
    response = help_center().search(request.args.get("q", ""), result_count())
    return jsonify(response.to_json())


def article_json(record: ArticleRecord, center: HelpCenter) -> dict[str, Any]:
    return {
        "slug": record.slug,
        "title": record.title,
        "url": article_url(record.slug),
        "summary": record.summary,
        "category": {"slug": record.category, "name": record.category_name,
                     "url": category_url(record.category)},
        "tags": record.tags,
        "updated": record.updated,
        "sections": [{"anchor": heading["anchor"], "title": heading["title"], "level": heading["level"],
                      "url": article_url(record.slug, heading["anchor"])}
                     for heading in record.headings if heading["level"] in (2, 3)],
        "related": [{"slug": item.slug, "title": item.title, "url": article_url(item.slug)}
                    for item in center.related(record)],
        "html": record.html,
    }


@blueprint.get("/articles/<slug>")
def article(slug: str) -> Response:
    center = help_center()
    record = center.article(slug)
    if record is None:
        current = center.renamed_to(slug)
        if current is not None:
            return redirect(url_for("api.article", slug=current), code=301)  # type: ignore[return-value]
        abort(404, description=f"no article '{slug}'")
    return jsonify(article_json(record, center))


@blueprint.get("/categories")
def categories() -> Response:
    center = help_center()
    return jsonify({"categories": [
        {"slug": category.slug, "name": category.name, "articles": category.article_count,
         "url": category_url(category.slug)}
        for category in center.categories()
    ]})
