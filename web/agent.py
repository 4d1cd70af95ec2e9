"""The agent workspace: sign-in, search across public and internal articles, suggest for a ticket."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, abort, jsonify, redirect, render_template, request, url_for

from kb.errors import QueryError
from kb.search.service import Audience, SearchResponse
from kb.urls import article_url
from web.api import json_body, link_event
from web.auth import (
    agent_page,
    end_agent_session,
    failed_sign_in_counter,
    safe_next,
    signed_in_agent,
    start_agent_session,
    storage,
)
from web.pages import article_page
from web.search_logging import log_search, record_article_view
from web.sign_in_limit import refuse_when_exhausted
from web.state import help_center, settings
from web.visitors import address_key

blueprint = Blueprint("agent", __name__)
MOST_LINKED_ROWS = 25


@blueprint.app_context_processor
def agent_globals() -> dict[str, object]:
    return {"current_agent": signed_in_agent}


def public_base() -> str:
    return (settings().public_url or request.host_url).rstrip("/")


@blueprint.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> Any:
    """Only failed attempts count towards the limit, so agents sharing an address are never locked out."""
    error = None
    if request.method == "POST":
        address = address_key()  # the address hashed with the day's salt: no raw address is stored
        counter = failed_sign_in_counter()
        refuse_when_exhausted(counter, address)
        agent = storage().agent_for_password(request.form.get("name", "").strip(), request.form.get("password", ""))
        if agent is not None:
            start_agent_session(agent)
            return redirect(safe_next(request.args.get("next")))
        counter.record(address)
        error = "That name and password do not match an agent account."
    status = 401 if error else 200
    return render_template("agent_sign_in.html", error=error, next=request.args.get("next", "")), status


@blueprint.post("/sign-out")
def sign_out() -> Response:
    end_agent_session()
    return redirect(url_for("agent.sign_in"))  # type: ignore[return-value]


@blueprint.get("/")
@agent_page
def workspace() -> str:
    query = request.args.get("q", "")
    include_drafts = request.args.get("drafts") == "1"
    response, error = None, None
    if query.strip():
        try:
            response = help_center().search(
                query, settings().default_results, Audience.PREVIEW if include_drafts else Audience.AGENT
            )
        except QueryError as problem:
            error = str(problem)
    return render_template(
        "agent_workspace.html",
        search_token=log_search(response, "agent") if response else None,
        query=query,
        response=response,
        error=error,
        include_drafts=include_drafts,
        mode="search",
        base=public_base(),
    )


@blueprint.route("/suggest", methods=["GET", "POST"])
@agent_page
def suggest() -> str:
    message = request.form.get("message", "") if request.method == "POST" else ""
    response: SearchResponse | None = None
    error = None
    if message.strip():
        if len(message) > settings().max_message_length:
            error = f"The message is {len(message)} characters long; the limit is {settings().max_message_length}."
        else:
            try:
                response = help_center().suggest(message)
            except QueryError as problem:
                error = str(problem)
    return render_template(
        "agent_workspace.html",
        message=message,
        response=response,
        error=error,
        mode="suggest",
        search_token=log_search(response, "suggest") if response else None,
        base=public_base(),
        query=response.query if response else "",
    )


# A whole <a ...> start tag of sanitized HTML: its attribute values are double-quoted and hold no '"',
# and text never holds a raw '<', so this matches real tags only.
ANCHOR_TAG = re.compile(r'<a\b(?:[^>"]|"[^"]*")*>')


def agent_links(html: str) -> str:
    """An article's HTML with its links to other articles (`/articles/slug#anchor`, as rendering writes
    them) kept in the agent area, where internal articles exist; text and other links are untouched."""
    return ANCHOR_TAG.sub(lambda tag: tag[0].replace(' href="/articles/', ' href="/agent/articles/', 1), html)


@blueprint.get("/articles/<slug>")
@agent_page
def article(slug: str) -> str:
    """Internal playbooks and drafts, which the public site does not show, read by a signed-in agent."""
    center = help_center()
    record = center.article_or_renamed(slug, Audience.PREVIEW)
    if record is None:
        abort(404, description="We couldn't find that article.")
    problems = [problem for problem in center.index.problems if problem.path == record.path]
    record_article_view(slug, count_view=False)  # the click from an agent's search; views count customers'
    return render_template(
        "agent_article.html",
        **article_page(center, record, Audience.PREVIEW),
        preview=True,
        problems=problems,
        article_html=agent_links(record.html),
        article_view="agent.article",
        public_link=public_base() + article_url(record.slug) if record.is_public else "",
        back_url=safe_back(request.referrer),
    )


def safe_back(referrer: str | None) -> str:
    """The workspace page the agent came from (their search kept), else the workspace."""
    if referrer:
        parts = urlsplit(referrer)
        if parts.netloc == request.host and parts.path in (url_for("agent.workspace"), url_for("agent.suggest")):
            return parts.path + (f"?{parts.query}" if parts.query else "")
    return url_for("agent.workspace")


@blueprint.get("/most-linked")
@agent_page
def most_linked() -> str:
    """The articles agents link most (copy buttons), to see which answers carry the support load."""
    center = help_center()
    rows = [
        {"slug": slug, "uses": uses, "article": center.article(slug, Audience.PREVIEW)}
        for slug, uses in storage().most_linked(MOST_LINKED_ROWS)
    ]
    return render_template("agent_most_linked.html", rows=rows)


@blueprint.post("/track")
@agent_page
def track() -> tuple[Response, int]:
    """Records a copied link or a used suggestion (called by the workspace's buttons, CSRF header required)."""
    agent = signed_in_agent()
    storage().record_link(agent.id if agent else None, *link_event(json_body()))
    return jsonify({"recorded": True}), 201
