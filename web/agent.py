"""The agent workspace: sign-in, search across public and internal articles, suggest for a ticket."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, redirect, render_template, request, url_for

from kb.errors import QueryError
from kb.search.service import Audience, SearchResponse
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
from web.preview import render_any_article
from web.search_logging import log_search, record_article_view
from web.sign_in_limit import refuse_when_exhausted
from web.state import help_center, settings
from web.visitors import address_key

blueprint = Blueprint("agent", __name__)


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
                response = help_center().search_service.suggest(message)
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


@blueprint.get("/articles/<slug>")
@agent_page
def article(slug: str) -> str:
    """Internal playbooks and drafts, which the public site does not show, read by a signed-in agent."""
    page = render_any_article(slug)
    record_article_view(slug, count_view=False)  # the click from an agent's search; views count customers'
    return page


@blueprint.post("/track")
@agent_page
def track() -> tuple[Response, int]:
    """Records a copied link or a used suggestion (called by the workspace's buttons, CSRF header required)."""
    agent = signed_in_agent()
    storage().record_link(agent.id if agent else None, *link_event(json_body()))
    return jsonify({"recorded": True}), 201
