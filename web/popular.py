"""Popular articles for the home page: the most viewed of the last 30 days, read from the daily counters.

The home page is the busiest page, so it never waits on the database: the ranking is read at most
once a minute per process, on a thread of its own, while requests show the ranking read last. A database
that is down or empty leaves the list empty and the page leaves the section out. Which of the
ranked slugs are shown is decided per request against the build being served, so an article made
internal, a draft or removed since the last read never appears.
"""

from __future__ import annotations

import datetime
import logging
import threading
import time
from collections.abc import Callable

from flask import Flask, current_app

from kb.errors import KbError
from kb.store.counters import top_keys
from kb.store.database import Storage

logger = logging.getLogger("kb.web")
POPULAR_DAYS = 30
POPULAR_SHOWN = 6
# Ranked before the build filters them: internal articles, drafts and removed ones may lead the views.
RANKED = 50
CACHE_SECONDS = 60.0


class PopularArticles:
    """The article slugs with the most views over the last POPULAR_DAYS days, re-read every `seconds`.

    The read runs on a thread of its own: a request never waits on the database, even a hung one,
    and shows the ranking read last (none before the first read ends).
    """

    def __init__(
        self, storage: Storage, seconds: float = CACHE_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.storage = storage
        self.seconds = seconds
        self.clock = clock
        self.slugs: list[str] = []
        self.expires = float("-inf")
        self.reading = threading.Lock()  # held by the one reader thread while it runs
        self.reader: threading.Thread | None = None

    def ranked(self) -> list[str]:
        """Slugs by views, most first, as last read; starts a read when that is older than `seconds`."""
        shown = self.slugs
        if self.clock() >= self.expires and self.reading.acquire(blocking=False):
            self.reader = threading.Thread(target=self.refresh, name="kb-popular-articles", daemon=True)
            self.reader.start()
        return shown

    def refresh(self) -> None:
        try:
            self.slugs = self.read(datetime.datetime.now(datetime.UTC).date())
        finally:
            self.expires = self.clock() + self.seconds
            self.reading.release()

    def wait(self, timeout: float) -> None:
        """Until the read under way (if any) ends: for tests and for a server that wants the list at once."""
        if self.reader is not None:
            self.reader.join(timeout)

    def read(self, today: datetime.date) -> list[str]:
        """The ranking from the database; on failure the last ranking is kept (it was true a minute ago)."""
        since = today - datetime.timedelta(days=POPULAR_DAYS - 1)
        try:
            with self.storage.session() as session:
                return [slug for slug, _ in top_keys(session, "article_views", since, today, RANKED)]
        except KbError as error:  # the database is down or outdated: the home page goes on without the list
            logger.warning("popular articles not read: %s", error)
        except Exception:  # never fail the home page
            logger.exception("popular articles could not be read")
        return self.slugs


def popular_slugs() -> list[str]:
    """This process's ranking (empty when the search log is off, since no views are then counted)."""
    popular: PopularArticles | None = current_app.extensions["kb_popular"]
    return popular.ranked() if popular is not None else []


def init_app(app: Flask) -> None:
    """After feedback.init_app: the counters are read through the customers' storage and its guard."""
    enabled = app.config["KB_SETTINGS"].search_log
    app.extensions["kb_popular"] = PopularArticles(app.extensions["kb_customer_storage"]) if enabled else None
