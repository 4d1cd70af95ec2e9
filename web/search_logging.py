"""Every search is logged (redacted, off the request path), with the result the visitor then opened.

Result links carry `?search=TOKEN&result=N` before their `#section` fragment, and the article view
records the click. Chosen over a redirect endpoint: the link stays the article's own address (the
fragment, and the browser's history, work as before), costs no extra round trip, and cannot be
turned into an open redirect; a forged token or position records nothing, since a click counts only
when the logged search showed that article at that position.
"""

from __future__ import annotations

import logging
import re

from flask import Flask, current_app, request

from kb.search.service import SearchResponse, SearchResult
from kb.store.data_folder import database_url
from kb.store.database import Storage
from kb.store.resilience import DatabaseGuard
from kb.store.schema import display_url
from kb.store.search_log import MAX_TOP_RESULTS, ArticleView, Click, LoggedSearch, SearchLog, new_token
from web.visitors import visitor_id

logger = logging.getLogger("kb.web")
SEARCH_PARAMETER = "search"
RESULT_PARAMETER = "result"
TOKEN = re.compile(r"^[A-Za-z0-9_-]{16}$")
MAX_POSITION = 100


def search_log() -> SearchLog | None:
    """This process's search log, or None when KB_SEARCH_LOG is off."""
    return current_app.extensions.get("kb_search_log")


def result_key(result: SearchResult) -> str:
    """'slug#anchor' (or 'slug'): which article and section a search showed."""
    anchor = result.url.partition("#")[2]
    return f"{result.slug}#{anchor}" if anchor else result.slug


def log_search(response: SearchResponse, source: str) -> str | None:
    """Queue the search for the log; its token for the result links, or None when nothing is logged."""
    log = search_log()
    if log is None:
        return None
    try:
        token = new_token()
        visitor = visitor_id()
        log.record(
            LoggedSearch(
                token=token,
                source=source,
                query=response.query,
                results=len(response.results),
                confident=getattr(response, "confident", None),  # set once search reports confidence
                top_results=tuple(result_key(result) for result in response.results[:MAX_TOP_RESULTS]),
                visitor=visitor,
                address=None if visitor else request.remote_addr,
            )
        )
    except Exception:  # the log must never fail a search
        logger.exception("a search could not be queued for the search log")
        return None
    return token


def record_article_view(slug: str, count_view: bool = True) -> None:
    """Queue the view of article `slug` (when `count_view`) and the click of the search result that led here."""
    log = search_log()
    if log is None:
        return
    try:
        token = request.args.get(SEARCH_PARAMETER, "")
        position = request.args.get(RESULT_PARAMETER, "")
        if TOKEN.match(token) and position.isascii() and position.isdigit() and 0 < int(position) <= MAX_POSITION:
            log.record(Click(token, slug, int(position)))
        if count_view:
            log.record(ArticleView(slug))
    except Exception:  # never fail an article page
        logger.exception("an article view could not be queued for the search log")


def tracked(url: str, token: str | None, position: int) -> str:
    """`url` naming the search and the result's position, before its #fragment (unchanged without a token)."""
    if not token:
        return url
    path, hash_sign, fragment = url.partition("#")
    separator = "&" if "?" in path else "?"
    return f"{path}{separator}{SEARCH_PARAMETER}={token}&{RESULT_PARAMETER}={position}{hash_sign}{fragment}"


def init_app(app: Flask) -> None:
    settings = app.config["KB_SETTINGS"]
    app.jinja_env.filters["tracked"] = tracked
    if not settings.search_log:
        app.extensions["kb_search_log"] = None
        return
    url = database_url(settings)
    # Its own connection and permit: the writer thread never takes one of the agents' few.
    storage = Storage(url, DatabaseGuard(display_url(url), concurrent_calls=1, permit_wait_seconds=1.0))
    app.extensions["kb_search_log"] = SearchLog(storage)
