"""The JSON API under /api: search, articles and categories; public readers only."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, abort, g, jsonify, redirect, request, url_for

from kb.errors import QueryError
from kb.help_center import HelpCenter
from kb.index.format import ArticleRecord
from kb.search.service import Audience
from kb.store.database import LINK_ACTIONS
from kb.store.redaction import redact
from kb.urls import article_url, category_url
from web.auth import agent_api, storage
from web.openapi import openapi_document
from web.search_logging import log_search
from web.state import help_center, settings

blueprint = Blueprint("api", __name__)
MAX_JSON_DEPTH = 16  # every body the API takes is flat; deeper nesting is never a real client


def result_count() -> int:
    raw = request.args.get("k")
    if raw is None:
        return settings().default_results
    if not (raw.isascii() and raw.isdigit()):
        raise QueryError(f"'k' must be a whole number, got {raw!r}")
    return int(raw)


SEARCH_SOURCES = ("api", "instant")  # `source=instant`: the site's search-as-you-type


@blueprint.get("/search")
def search() -> Response:
    source = request.args.get("source", "api")
    if source not in SEARCH_SOURCES:
        raise QueryError(f"'source' must be one of {', '.join(SEARCH_SOURCES)}, got {source!r}")
    answer = help_center().search_answer(request.args.get("q", ""), result_count())
    body = answer.json_with("search_token", log_search(answer.response, source))  # logged even when cached
    return Response(body + "\n", mimetype="application/json")


def article_json(record: ArticleRecord, center: HelpCenter) -> dict[str, Any]:
    return {
        "slug": record.slug,
        "title": record.title,
        "url": article_url(record.slug),
        "summary": record.summary,
        "category": {"slug": record.category, "name": record.category_name, "url": category_url(record.category)},
        "tags": record.tags,
        "updated": record.updated,
        "sections": [
            {
                "anchor": heading["anchor"],
                "title": heading["title"],
                "level": heading["level"],
                "url": article_url(record.slug, heading["anchor"]),
            }
            for heading in record.headings
            if heading["level"] in (2, 3)
        ],
        "related": [
            {"slug": item.slug, "title": item.title, "url": article_url(item.slug)} for item in center.related(record)
        ],
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


@blueprint.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3.1 document of this API, with the limits of the running configuration."""
    return jsonify(openapi_document(settings()))


@blueprint.get("/categories")
def categories() -> Response:
    """The categories in the home page's order: those with an `order` first, by it, then the rest by name."""
    center = help_center()
    return jsonify(
        {
            "categories": [
                {
                    "slug": category.slug,
                    "name": category.name,
                    "description": category.description,
                    "icon": category.icon,
                    "order": category.order,
                    "articles": category.article_count,
                    "url": category_url(category.slug),
                }
                for category in center.categories()
            ]
        }
    )


def json_body() -> dict[str, Any]:
    """The request's JSON object.

    Parsed here rather than with Flask's lenient `get_json`, so that nesting deep enough to exhaust
    the parser and strings no UTF-8 can carry (`"\\ud800"` is legal JSON) are bad input, not a 500.

    Raises:
        QueryError: the body is not a JSON object, is nested too deeply, or holds a lone surrogate.
    """
    if not request.is_json:
        raise QueryError("send a JSON object with Content-Type: application/json")
    try:
        data = json.loads(request.get_data())
    except RecursionError:
        raise QueryError(f"the JSON body is nested too deeply (more than {MAX_JSON_DEPTH} levels)") from None
    except ValueError:
        raise QueryError("the body is not valid JSON: send a JSON object with Content-Type: application/json") from None
    if not isinstance(data, dict):
        raise QueryError("send a JSON object with Content-Type: application/json")
    check_json_text(data)
    return data


def check_json_text(data: dict[str, Any]) -> None:
    """Refuse nesting beyond MAX_JSON_DEPTH and lone surrogates, naming the top-level field they are in.

    Walks with a stack instead of recursing, so no body can exhaust Python's recursion limit here.
    """
    stack: list[tuple[Any, str, int]] = [(data, "", 0)]
    while stack:
        value, field, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise QueryError(f"the JSON body is nested too deeply (more than {MAX_JSON_DEPTH} levels)")
        if isinstance(value, str) and not is_unicode_text(value):
            raise QueryError(f"{field} holds a lone UTF-16 surrogate, which is no character: send valid Unicode text")
        if isinstance(value, dict):
            for key, item in value.items():
                if not is_unicode_text(key):
                    raise QueryError("a field name holds a lone UTF-16 surrogate: send valid Unicode text")
                stack.append((item, field or repr(key), depth + 1))
        elif isinstance(value, list):
            stack.extend((item, field, depth + 1) for item in value)


def is_unicode_text(text: str) -> bool:
    """False for strings holding a lone surrogate (from a JSON escape), which UTF-8 cannot encode."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@blueprint.post("/suggest")
@agent_api
def suggest() -> Response:
    """Articles to send for a customer's message; internal articles included and marked."""
    data = json_body()
    text, count = data.get("text"), data.get("k", settings().suggest_results)
    if not isinstance(text, str) or not text.strip():
        raise QueryError("'text' must be the customer's message as a non-empty string")
    if len(text) > settings().max_message_length:
        raise QueryError(f"'text' is {len(text)} characters long; the limit is {settings().max_message_length}")
    if isinstance(count, float) and count.is_integer():
        count = int(count)  # JSON has one number type: 5.0 is the integer 5
    if not isinstance(count, int) or isinstance(count, bool):
        raise QueryError(f"'k' must be a whole number, got {count!r}")
    response = help_center().suggest(text, count)
    log_search(response, "suggest")
    return jsonify({"results": response.to_json(include_visibility=True)["results"], "confident": response.confident})


@blueprint.post("/links")
@agent_api
def record_link() -> tuple[Response, int]:
    """Records that an agent sent a link (or used a suggestion), for the most-linked report."""
    event = link_event(json_body())
    storage().record_link(g.agent.id, *event)
    return jsonify({"recorded": True}), 201


def link_event(data: dict[str, Any]) -> tuple[str, str, str, str]:
    """(action, current slug, section, query) of a link event an agent reports.

    Raises:
        QueryError: a field is missing or of the wrong type. NotFound: no such article for agents.
    """
    action = data.get("action")
    if action not in LINK_ACTIONS:
        raise QueryError(f"'action' must be one of {', '.join(LINK_ACTIONS)}")
    slug = text_field(data, "slug", 200)
    section = text_field(data, "section", 200, default="")
    query = redact(text_field(data, "query", 2000, default=""))  # a customer's words may hold their details
    record = help_center().article_or_renamed(slug, Audience.AGENT)
    if record is None:
        abort(404, description=f"no article {slug!r}")
    return action, record.slug, section, query


def text_field(data: dict[str, Any], name: str, limit: int, default: str | None = None) -> str:
    """The text field `name` of a JSON body, at most `limit` characters; required unless it has a default.

    Raises:
        QueryError: the field is missing, not text, or too long.
    """
    value = data.get(name, default)
    if not isinstance(value, str) or len(value) > limit:
        raise QueryError(f"'{name}' must be text of at most {limit} characters")
    return value
