"""The Flask site and JSON API: an app factory, the `pages` and `api` blueprints, one error handler."""

from __future__ import annotations

import datetime
import secrets
from typing import Any

from flask import Flask

from kb.config import Settings, unknown_variable_warnings
from kb.content.articles import Visibility
from kb.errors import ModelLoadError
from kb.live import LiveHelpCenter
from kb.search.snippets import shown_query
from web.state import UnavailableHelpCenter


def create_app(test_config: dict[str, Any] | None = None, settings: Settings | None = None) -> Flask:
    """Build the app: defaults, then settings from `KB_*` variables, then `test_config` overrides.

    `test_config` may hold `KB_SETTINGS` (a Settings) and `KB_EMBEDDER` (any Embedder) for tests.
    """
    app = Flask(__name__, static_folder=None)  # web/assets.py serves static files under fingerprinted names
    test_config = dict(test_config or {})
    settings = test_config.pop("KB_SETTINGS", None) or settings
    if settings is None:
        settings = Settings.from_env()
        for warning in unknown_variable_warnings():
            app.logger.warning(warning)
    # Assigned, not setdefault: Flask's own defaults (no Secure flag, 31-day sessions) are already in app.config.
    app.config.from_mapping(
        SECRET_KEY=settings.secret_key or secrets.token_hex(32),
        MAX_CONTENT_LENGTH=settings.max_request_bytes,
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=datetime.timedelta(hours=settings.session_hours),
        KB_SETTINGS=settings,
    )
    app.config.update(test_config)
    if settings.trusted_proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Behind a proxy every visitor arrives from its address: the sign-in limit needs the client's.
        hops = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    app.json.sort_keys = False  # type: ignore[attr-defined]  # keep the documented key order
    app.jinja_env.globals["Visibility"] = Visibility
    app.jinja_env.filters["shown_query"] = shown_query
    embedder = app.config.get("KB_EMBEDDER")
    try:
        if embedder is None:
            from kb.index.embedder import make_embedder

            embedder = make_embedder(settings)
        app.extensions["kb"] = LiveHelpCenter(settings, embedder)
    except ModelLoadError as error:
        app.logger.error("%s", error)
        app.extensions["kb"] = UnavailableHelpCenter(error)

    from web import (
        agent,
        api,
        auth,
        contact,
        errors,
        feedback,
        insights,
        legacy,
        media,
        pages,
        popular,
        preview,
        search_logging,
        security,
        theme,
        visitors,
    )

    theme.init_app(app, settings)
    auth.init_app(app)
    feedback.init_app(app)
    popular.init_app(app)
    visitors.init_app(app, app.extensions["kb_customer_storage"])
    search_logging.init_app(app)
    auth.csrf.exempt(api.blueprint)  # the API takes Bearer tokens only, never cookies: nothing to forge
    app.register_blueprint(pages.blueprint)
    auth.csrf.exempt(contact.blueprint)  # checks its own token, so that an expired form keeps what was typed
    app.register_blueprint(contact.blueprint)
    contact.init_app(app)
    app.register_blueprint(agent.blueprint, url_prefix="/agent")
    app.register_blueprint(insights.blueprint, url_prefix="/insights")
    app.register_blueprint(media.blueprint)
    app.register_blueprint(legacy.blueprint)
    if settings.preview:
        app.register_blueprint(preview.blueprint, url_prefix="/preview")
    app.register_blueprint(api.blueprint, url_prefix="/api")
    errors.init_app(app)
    security.init_app(app)
    return app
