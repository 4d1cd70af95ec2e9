"""Agent authentication: server-side sessions for pages (CSRF-protected forms), Bearer tokens for the API."""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Flask, current_app, g, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFProtect
from itsdangerous import URLSafeTimedSerializer
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import Unauthorized

from kb.config import Settings
from kb.store.data_folder import database_url
from kb.store.database import Agent, Storage
from kb.store.resilience import DatabaseGuard
from kb.store.schema import display_url
from web.sign_in_limit import FailedSignIns, failed_sign_ins

F = TypeVar("F", bound=Callable[..., Any])
csrf = CSRFProtect()
SESSION_TOKEN = "agent_session"  # the key of the session token inside Flask's signed cookie


def storage() -> Storage:
    return current_app.extensions["kb_storage"]


def failed_sign_in_counter() -> FailedSignIns:
    return current_app.extensions["kb_failed_sign_ins"]


def session_lifetime(settings: Settings) -> datetime.timedelta:
    """How long a sign-in lasts, for the session row and the cookie alike."""
    return datetime.timedelta(hours=settings.session_hours)


def signed_in_agent() -> Agent | None:
    """The agent whose live session this request's cookie names, if any (cached for the request).

    The cookie holds only a random token; the session itself is a database row, so signing out,
    removing the agent or the session's expiry ends it for every copy of the cookie.
    """
    if "agent" not in g:
        token = session.get(SESSION_TOKEN)
        g.agent = storage().agent_for_session(token) if isinstance(token, str) and token else None
    return g.agent


def start_agent_session(agent: Agent) -> None:
    """Sign `agent` in with a fresh session (and a fresh CSRF token): nothing from before survives."""
    end_agent_session()
    session[SESSION_TOKEN] = storage().start_session(agent.id, session_lifetime(current_app.config["KB_SETTINGS"]))
    session.permanent = True
    g.agent = agent


def end_agent_session() -> None:
    """Sign out: the session row is deleted, so a copy of the cookie taken earlier stops working too."""
    token = session.get(SESSION_TOKEN)
    if isinstance(token, str) and token:
        storage().end_session(token)
    session.clear()
    g.pop("agent", None)


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


class SessionCookies(SecureCookieSessionInterface):
    """Flask's signed session cookie, its signing serializer built once per key instead of on every request.

    Flask builds it anew for each request, public ones included, and its constructor encodes a
    sample value: about a sixth of a cached search's time. It holds nothing but the keys.
    """

    def __init__(self) -> None:
        self.serializers: dict[tuple[object, ...], URLSafeTimedSerializer] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, *(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        serializer = self.serializers.get(keys)
        if serializer is None:
            serializer = super().get_signing_serializer(app)
            if serializer is not None:
                self.serializers[keys] = serializer
        return serializer


def init_app(app: Flask) -> None:
    config = app.config["KB_SETTINGS"]
    app.session_interface = SessionCookies()
    url = database_url(config)
    # At most half of a worker's threads wait on the database, so the other half always serve public pages;
    # and nothing connects here: the public site starts whatever state the database is in.
    guard = DatabaseGuard(display_url(url), concurrent_calls=max(1, config.threads // 2))
    app.extensions["kb_storage"] = Storage(url, guard)
    app.extensions["kb_failed_sign_ins"] = failed_sign_ins(config, app.extensions["kb_storage"])
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # valid for the session's life
    csrf.init_app(app)
