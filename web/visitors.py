"""Visitors without names: a random id in a cookie, and their network address hashed with the day's salt.

The visitor id tells one browser's votes and searches apart (one vote per visitor and article); it
is random, names nobody, and is set only when a visitor votes. The address is never stored: rate
limits and de-duplication use its hash with a salt that changes every day (kb.store.privacy).
"""

from __future__ import annotations

import re
import secrets
import threading

from flask import Flask, Response, current_app, g, request

from kb.store.database import Storage
from kb.store.privacy import address_hash, daily_salt, today

VISITOR_COOKIE = "kb_visitor"
VISITOR_ID = re.compile(r"^[A-Za-z0-9_-]{22}$")
COOKIE_SECONDS = 365 * 24 * 3600


def visitor_id(create: bool = False) -> str | None:
    """The visitor id from the request's cookie; with `create`, a new one (sent back as a cookie) when none."""
    if g.get("kb_visitor"):
        return str(g.kb_visitor)
    given = request.cookies.get(VISITOR_COOKIE, "")
    if VISITOR_ID.match(given):
        g.kb_visitor = given
        return given
    if not create:
        return None
    g.kb_visitor = secrets.token_urlsafe(16)
    g.kb_visitor_is_new = True
    return str(g.kb_visitor)


def send_visitor_cookie(response: Response) -> Response:
    if g.get("kb_visitor_is_new"):
        response.set_cookie(
            VISITOR_COOKIE,
            g.kb_visitor,
            max_age=COOKIE_SECONDS,
            httponly=True,
            samesite="Lax",
            secure=current_app.config["KB_SETTINGS"].secure_cookies,
        )
    return response


class DailySalt:
    """Today's salt, read from the database once a day per process (all servers share it)."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.day = None
        self.salt = ""
        self.lock = threading.Lock()

    def current(self) -> str:
        """Raises DatabaseUnavailableError when the day's salt cannot be read."""
        day = today()
        with self.lock:
            if self.day != day:
                with self.storage.session(write=True) as session:
                    self.salt = daily_salt(session, day)
                self.day = day  # type: ignore[assignment]
            return self.salt


def address_key() -> str:
    """This request's network address as today's hash: what rate limits count, never the address itself.

    Raises:
        DatabaseUnavailableError: the day's salt cannot be read.
    """
    salt: DailySalt = current_app.extensions["kb_daily_salt"]
    return address_hash(salt.current(), request.remote_addr or "unknown")


def init_app(app: Flask, storage: Storage) -> None:
    app.extensions["kb_daily_salt"] = DailySalt(storage)
    app.after_request(send_visitor_cookie)
