"""The agents' session cookie carries the flags the settings ask for, read from the real Set-Cookie header."""

from __future__ import annotations

import dataclasses
import datetime
from email.utils import parsedate_to_datetime

from kb.config import Settings
from tests.web.test_agents import sign_in
from web import create_app


def session_cookie_after_sign_in(settings: Settings, embedder) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The attributes of the session cookie a successful sign-in sets (names lower-cased, flags as '')."""
    app = create_app({"TESTING": True, "KB_SETTINGS": settings, "KB_EMBEDDER": embedder})
    app.extensions["kb_storage"].add_agent("maria", "correct horse battery")
    response = sign_in(app.test_client())
    assert response.status_code == 302
    headers = [value for value in response.headers.getlist("Set-Cookie") if value.startswith("session=")]
    assert len(headers) == 1, response.headers.getlist("Set-Cookie")
    attributes = {}
    for part in headers[0].split(";")[1:]:
        name, _, value = part.strip().partition("=")
        attributes[name.lower()] = value
    return attributes


def test_secure_cookie_setting_sets_the_secure_flag(built_settings: Settings, fake_embedder) -> None:  # type: ignore[no-untyped-def]
    secure = dataclasses.replace(built_settings, secure_cookies=True)
    attributes = session_cookie_after_sign_in(secure, fake_embedder)
    assert "secure" in attributes
    assert "httponly" in attributes
    assert attributes["samesite"] == "Lax"


def test_session_cookie_lasts_the_configured_session_lifetime(built_settings: Settings, fake_embedder) -> None:  # type: ignore[no-untyped-def]
    three_hours = dataclasses.replace(built_settings, session_hours=3)
    attributes = session_cookie_after_sign_in(three_hours, fake_embedder)
    assert "secure" not in attributes  # plain HTTP in development still signs in
    assert "httponly" in attributes
    assert attributes["samesite"] == "Lax"
    lifetime = parsedate_to_datetime(attributes["expires"]) - datetime.datetime.now(datetime.UTC)
    assert datetime.timedelta(hours=3, minutes=-1) < lifetime <= datetime.timedelta(hours=3)
