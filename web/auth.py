"""Agent authentication: a signed session cookie for pages (CSRF-protected forms), Bearer tokens for the API."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Flask, current_app, g, redirect, request, session, url_for
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import Unauthorized

from kb.store.data_folder import database_url
from kb.store.database import Agent, Storage
from kb.store.resilience import DatabaseGuard
from kb.store.schema import display_url

F = TypeVar("F", bound=Callable[..., Any])
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def storage() -> Storage:
    return current_app.extensions["kb_storage"]


def signed_in_agent() -> Agent | None:
    """The agent of this request's session cookie, if any (cached for the request)."""
    if "agent" not in g:
        agent_id = session.get("agent_id")
        g.agent = storage().agent_by_id(agent_id) if isinstance(agent_id, int) else None
    return g.agent


def token_agent() -> Agent | None:
    """The agent whose `Authorization: Bearer TOKEN` this request carries, if any."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return storage().agent_for_token(token.strip())


def agent_page(view: F) -> F:
    """Pages for agents: visitors without a session are sent to the sign-in page."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if signed_in_agent() is None:
            return redirect(url_for("agent.sign_in", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def agent_api(view: F) -> F:
    """API calls for agents: a valid Bearer token or 401. Cookies are not accepted, so no CSRF is possible."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        agent = token_agent()
        if agent is None:
            raise Unauthorized(
                "send 'Authorization: Bearer TOKEN' with an agent's API token",
                www_authenticate=WWWAuthenticate("Bearer"),
            )
        g.agent = agent
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def safe_next(target: str | None) -> str:
    """Only same-site paths after sign-in: never an open redirect to another host."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("agent.workspace")


def init_app(app: Flask) -> None:
    config = app.config["KB_SETTINGS"]
    url = database_url(config)
    # At most half of a worker's threads wait on the database, so the other half always serve public pages;
    # and nothing connects here: the public site starts whatever state the database is in.
    guard = DatabaseGuard(display_url(url), concurrent_calls=max(1, config.threads // 2))
    app.extensions["kb_storage"] = Storage(url, guard)
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # valid for the session's life
    app.config.setdefault("RATELIMIT_STORAGE_URI", config.rate_limit_storage)
    csrf.init_app(app)
    limiter.init_app(app)
