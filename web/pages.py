"""The HTML site: home, search results, articles, categories, and the health check."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, jsonify, redirect, render_template, request, url_for
from markupsafe import escape

from kb.errors import IndexFormatError, KbError, QueryError
from kb.help_center import HelpCenter
from kb.index.format import ArticleRecord
from kb.search.service import Audience
from kb.urls import article_url, category_url
from web.errors import public_message
from web.popular import POPULAR_SHOWN, popular_slugs
from web.search_logging import log_search, record_article_view
from web.state import help_center, live_help_center, settings
from web.theme import html_lang

blueprint = Blueprint("pages", __name__)
RECENT_ARTICLES = 6
RELATED_WITHOUT_ANSWER = 3  # closest articles shown when no result is confident


@blueprint.app_context_processor
def site_globals() -> dict[str, object]:
    return {"site_name": settings().site_name, "max_query_length": settings().max_query_length}


@blueprint.get("/")
def home() -> str:
    center = help_center()
    return render_template(
        "home.html",
        categories=center.categories(),
        popular=center.listed_among(popular_slugs())[:POPULAR_SHOWN],
        recent=center.recently_updated(RECENT_ARTICLES),
    )


@blueprint.get("/search")
def search() -> str:
    query = request.args.get("q", "")
    if not query.strip():
        return render_template("search.html", query="", response=None, error=None)
    try:
        response = help_center().search(query, settings().default_results)
    except QueryError as error:
        return render_template("search.html", query=query, response=None, error=str(error)), 400  # type: ignore[return-value]
    token = log_search(response, "site")
    return render_template(
        "search.html",
        query=query,
        response=response,
        error=None,
        search_token=token,
        related_count=RELATED_WITHOUT_ANSWER,
    )


@blueprint.get("/articles/<slug>")
def article(slug: str) -> str | Response:
    center = help_center()
    record = center.article(slug)
    if record is None:
        current = center.renamed_to(slug)
        if current is not None:
            return redirect(url_for("pages.article", slug=current), code=301)  # type: ignore[return-value]
        abort(404, description="We couldn't find that article. It may have been moved or removed.")
    record_article_view(record.slug)
    return render_template("article.html", **article_page(center, record))


def article_page(center: HelpCenter, record: ArticleRecord, audience: Audience = Audience.PUBLIC) -> dict[str, Any]:
    """What article.html needs besides the record: its category, contents, neighbours, related articles, lang."""
    siblings = center.in_category(record.category, audience)
    position = next((index for index, item in enumerate(siblings) if item.slug == record.slug), None)
    return {
        "article": record,
        "category": center.category(record.category, audience),
        "toc": [heading for heading in record.headings if heading["level"] in (2, 3)],
        "related": center.related(record, audience),
        "previous": siblings[position - 1] if position else None,
        "next": siblings[position + 1] if position is not None and position + 1 < len(siblings) else None,
        "lang": html_lang(record.locale),
    }


@blueprint.get("/categories/<slug>")
def category(slug: str) -> str:
    center = help_center()
    found = center.category(slug)
    if found is None:
        abort(404, description="We couldn't find that category.")
    return render_template("category.html", category=found, articles=center.in_category(slug))


@blueprint.get("/healthz")
def health() -> tuple[Response, int]:
    """200 while a build answers (`degraded` with a warning when it is not the published one), else 503.

    Also checks that the served build's files are still on disk, so monitoring notices a deleted
    index before a restart would.
    """
    live = live_help_center()
    try:
        manifest = live.get().index.manifest
        live.check_files()
    except KbError as error:
        message = public_message(error, 503)
        return jsonify({"status": "unavailable", "error": {"code": error.code, "message": message}}), 503
    body: dict[str, object] = {
        "status": "degraded" if live.fallback_note else "ok",
        "build": manifest.build_id,
        "built_at": manifest.built_at,
        "model": manifest.model_name,
    }
    if live.fallback_note:
        body["warning"] = {"code": IndexFormatError.code, "message": live.fallback_note}
    return jsonify(body), 200


@blueprint.get("/sitemap.xml")
def sitemap() -> Response:
    """Public articles and categories for search engines; internal articles and drafts never appear."""
    center = help_center()
    base = (settings().public_url or request.host_url).rstrip("/")
    urls: list[tuple[str, str | None]] = [(f"{base}/", None)]
    urls += [(f"{base}{category_url(category.slug)}", None) for category in center.categories()]
    urls += [(f"{base}{article_url(record.slug)}", record.updated) for record in center.listed()]
    entries = "".join(
        f"<url><loc>{escape(location)}</loc>{f'<lastmod>{updated}</lastmod>' if updated else ''}</url>"
        for location, updated in urls
    )
    body = f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>\n'
    return Response(body, mimetype="application/xml")
