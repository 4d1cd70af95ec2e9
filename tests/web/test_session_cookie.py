"""The agents' session cookie carries the flags the settings ask for, read from the real Set-Cookie header."""

from __future__ import annotations

import datetime
from email.utils import parsedate_to_datetime

import pytest
from flask import Flask
from itsdangerous import BadTimeSignature

from tests.conftest import AGENT_NAME, AGENT_PASSWORD, AppFactory, sign_in


def session_cookie_after_sign_in(app: Flask) -> dict[str, str]:
    """The attributes of the session cookie a successful sign-in sets (names lower-cased, flags as '')."""
    app.extensions["kb_storage"].add_agent(AGENT_NAME, AGENT_PASSWORD)
    response = sign_in(app.test_client())
    assert response.status_code == 302
    headers = [value for value in response.headers.getlist("Set-Cookie") if value.startswith("session=")]
    assert len(headers) == 1, response.headers.getlist("Set-Cookie")
    attributes = {}
    for part in headers[0].split(";")[1:]:
        name, _, value = part.strip().partition("=")
        attributes[name.lower()] = value
    return attributes


def test_secure_cookie_setting_sets_the_secure_flag(make_app: AppFactory) -> None:
    attributes = session_cookie_after_sign_in(make_app(secure_cookies=True))
    assert "secure" in attributes
    assert "httponly" in attributes
    assert attributes["samesite"] == "Lax"


def test_session_cookie_lasts_the_configured_session_lifetime(make_app: AppFactory) -> None:
    attributes = session_cookie_after_sign_in(make_app(session_hours=3))
    assert "secure" not in attributes  # plain HTTP in development still signs in
    assert "httponly" in attributes
    assert attributes["samesite"] == "Lax"
    lifetime = parsedate_to_datetime(attributes["expires"]) - datetime.datetime.now(datetime.UTC)
    assert datetime.timedelta(hours=3, minutes=-1) < lifetime <= datetime.timedelta(hours=3)


def test_the_signing_serializer_is_built_once_per_key_and_anew_when_the_key_changes(app: Flask) -> None:
    interface = app.session_interface
    first = interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    assert first is not None and interface.get_signing_serializer(app) is first  # type: ignore[attr-defined]
    signed = first.dumps({"agent_session": "token"})
    app.secret_key = "a rotated key"
    rotated = interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    assert rotated is not first
    assert rotated.loads(rotated.dumps({"a": 1})) == {"a": 1}
    with pytest.raises(BadTimeSignature):
        rotated.loads(signed)
