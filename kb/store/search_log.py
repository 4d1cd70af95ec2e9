"""The search log, written off the request path: searches, the results visitors opened, article views.

A request only puts an entry on a bounded in-memory queue (microseconds, never blocking); one
background thread per process takes what has gathered and writes it in one transaction: the query
redacted first (kb.store.redaction; the raw query is never stored), the visitor's network address
hashed with the day's salt (kb.store.privacy; the address is never stored), and the daily counters
bumped beside the raw rows. When the database is down the writer retries with backoff while the
queue holds; entries that do not fit are dropped and counted, with a warning at most once a minute.
A search or an article page never waits for the database and never fails because of it. On shutdown
(atexit, and gunicorn's worker exit) what is queued is written before the process ends.
"""

from __future__ import annotations

import atexit
import datetime
import json
import logging
import queue
import secrets
import threading
import time
import weakref
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from kb.errors import DatabaseUnavailableError
from kb.store.counters import bump
from kb.store.database import Storage
from kb.store.models import SearchClickRow, SearchRow
from kb.store.privacy import address_hash, daily_salt
from kb.store.redaction import normalize, redact

logger = logging.getLogger("kb.store.search_log")

SOURCES = ("site", "api", "instant", "suggest", "agent", "contact")
QUEUE_CAPACITY = 10_000  # entries waiting for the database; at ~300 bytes each, a few MB at most
BATCH_SIZE = 500
IDLE_SECONDS = 30.0  # the writer thread ends after this long without work, and starts again with the next entry
POLL_SECONDS = 0.5
# How long the writer gathers entries before one transaction writes them all: a write per search would
# take the interpreter from the request threads (Python runs one thread at a time) once per search.
LINGER_SECONDS = 1.0
CLICK_WAIT_SECONDS = 10.0  # how long a click waits for its search to be written (by another server's writer)
MAX_EARLY_CLICKS = 1000
RETRY_SECONDS = (0.5, 1.0, 2.0, 5.0)  # waits between attempts while the database is unavailable
WARNING_INTERVAL_SECONDS = 60.0
MAX_TOP_RESULTS = 10


def utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def new_token() -> str:
    """A search's public id: what a result link names so the article view can record the click."""
    return secrets.token_urlsafe(12)


@dataclass(frozen=True)
class LoggedSearch:
    """One search as the request saw it; `query` and `address` live only in memory, never in the database."""

    token: str
    source: str
    query: str
    results: int
    confident: bool | None
    top_results: tuple[str, ...]  # "slug#anchor", best first
    visitor: str | None = None  # the visitor id from the cookie, when there is one
    address: str | None = None  # hashed with the day's salt by the writer when there is no visitor id
    at: datetime.datetime = field(default_factory=utc_now)


@dataclass(frozen=True)
class Click:
    """A visitor opened result `position` (1 = first) of search `token`, article `slug`."""

    token: str
    slug: str
    position: int
    at: datetime.datetime = field(default_factory=utc_now)


@dataclass(frozen=True)
class ArticleView:
    slug: str
    at: datetime.datetime = field(default_factory=utc_now)


Entry = LoggedSearch | Click | ArticleView
LIVE_LOGS: weakref.WeakSet[SearchLog] = weakref.WeakSet()


class SearchLog:
    """A bounded queue and the background thread that empties it into the database in batches."""

    def __init__(
        self,
        storage: Storage,
        capacity: int = QUEUE_CAPACITY,
        batch_size: int = BATCH_SIZE,
        linger_seconds: float = LINGER_SECONDS,
    ) -> None:
        self.storage = storage
        self.batch_size = batch_size
        self.linger_seconds = linger_seconds
        self.hurry = threading.Event()  # set by flush(): write what has gathered now, without lingering
        self.queue: queue.Queue[Entry] = queue.Queue(maxsize=capacity)
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.closed = threading.Event()
        self.dropped = 0  # entries never written: the queue was full, or the database stayed away at shutdown
        self.written = 0
        self.early_clicks: list[Click] = []  # clicks whose search is not in the database yet
        self.unwarned_drops = 0
        self.last_warning = float("-inf")
        LIVE_LOGS.add(self)

    def record(self, entry: Entry) -> bool:
        """Queue `entry` for writing; never blocks. False when it was dropped (the queue is full)."""
        with self.lock:
            try:
                self.queue.put_nowait(entry)
            except queue.Full:
                self.count_dropped(1, "the queue is full")
                return False
            if self.thread is None or not self.thread.is_alive():  # also true in a forked worker
                self.thread = threading.Thread(target=self.run, name="kb-search-log", daemon=True)
                self.thread.start()
        return True

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until everything queued so far is written (or dropped); False if `timeout` passed first."""
        deadline = time.monotonic() + timeout
        self.hurry.set()
        try:
            while self.queue.unfinished_tasks:
                if time.monotonic() >= deadline:
                    return False
                time.sleep(0.005)
            return True
        finally:
            self.hurry.clear()

    def close(self, timeout: float = 5.0) -> None:
        """Write what is queued, then stop; what the database cannot take by then is dropped and counted."""
        self.closed.set()
        self.hurry.set()
        thread = self.thread
        if thread is not None and thread.is_alive():
            thread.join(timeout)
        self.warn_about_drops(force=True)

    def run(self) -> None:
        pending: list[Entry] = []
        idle_since = time.monotonic()
        failures = 0
        while True:
            if not pending:
                pending = self.take_batch()
                if not pending and not self.early_clicks:
                    with self.lock:
                        if self.queue.empty() and (
                            self.closed.is_set() or time.monotonic() - idle_since > IDLE_SECONDS
                        ):
                            self.thread = None
                            return
                    continue
            early, self.early_clicks = self.early_clicks, []
            try:
                unmatched = write_entries(self.storage, [*pending, *early])
            except DatabaseUnavailableError as error:
                self.early_clicks = early
                failures += 1
                if self.closed.is_set():
                    self.drop(pending + self.take_all(), f"the database is unavailable at shutdown: {error}")
                    pending = []
                else:
                    self.warn(f"search log waits for the database: {error}")
                    self.closed.wait(RETRY_SECONDS[min(failures, len(RETRY_SECONDS)) - 1])
                continue
            except Exception:
                logger.exception("search log: %d entries could not be written and are dropped", len(pending))
                self.drop(pending, "they could not be written")
                pending = []
                continue
            failures = 0
            self.written += len(pending)
            for _ in pending:
                self.queue.task_done()
            pending = []
            idle_since = time.monotonic()
            if not self.closed.is_set():
                # Another server's writer may not have written the search yet: its click waits a little.
                waited_enough = utc_now() - datetime.timedelta(seconds=CLICK_WAIT_SECONDS)
                self.early_clicks = [click for click in unmatched if click.at > waited_enough][:MAX_EARLY_CLICKS]

    def take_batch(self) -> list[Entry]:
        try:
            batch = [self.queue.get(timeout=POLL_SECONDS)]
        except queue.Empty:
            return []
        # Sleep through the linger rather than waking for each entry: every wake-up would take the
        # interpreter from a request thread in the middle of its search.
        self.hurry.wait(self.linger_seconds)
        while len(batch) < self.batch_size:
            try:
                batch.append(self.queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def take_all(self) -> list[Entry]:
        taken: list[Entry] = []
        while True:
            try:
                taken.append(self.queue.get_nowait())
            except queue.Empty:
                return taken

    def drop(self, entries: list[Entry], reason: str) -> None:
        for _ in entries:
            self.queue.task_done()
        self.count_dropped(len(entries), reason)

    def count_dropped(self, count: int, reason: str) -> None:
        self.dropped += count
        self.unwarned_drops += count
        self.warn(f"search log dropped entries: {reason}")

    def warn(self, message: str) -> None:
        """At most one warning a minute, so an outage does not flood the log."""
        if time.monotonic() - self.last_warning >= WARNING_INTERVAL_SECONDS:
            self.last_warning = time.monotonic()
            self.warn_about_drops(message)

    def warn_about_drops(self, message: str = "search log", force: bool = False) -> None:
        if force and not self.unwarned_drops:
            return
        logger.warning(
            "%s (%d entries dropped since the last warning, %d in all)", message, self.unwarned_drops, self.dropped
        )
        self.unwarned_drops = 0


def write_entries(storage: Storage, entries: list[Entry]) -> list[Click]:
    """Write a batch in one transaction: redacted searches, matching clicks, and the daily counters.

    Returns the clicks that name no search in the database (yet).
    """
    with storage.session(write=True) as session:
        counters: Counter[tuple[str, str, datetime.date]] = Counter()
        searches = [entry for entry in entries if isinstance(entry, LoggedSearch)]
        salt = daily_salt(session) if any(entry.visitor is None and entry.address for entry in searches) else ""
        if searches:  # one multi-row insert: the ORM's unit of work would cost the request threads more
            session.execute(insert(SearchRow), [search_row(search, salt) for search in searches])
        for search in searches:
            day = search.at.date()
            counters["searches", search.source, day] += 1
            if search.results == 0 or search.confident is False:
                counters["unanswered", search.source, day] += 1
        unmatched = add_clicks(session, [entry for entry in entries if isinstance(entry, Click)])
        for entry in entries:
            if isinstance(entry, ArticleView):
                counters["article_views", entry.slug, entry.at.date()] += 1
        for (metric, key, day), count in sorted(counters.items()):  # one order: no deadlock between servers
            bump(session, metric, key, count, day)
    return unmatched


def search_row(search: LoggedSearch, salt: str) -> dict[str, object]:
    """The row of a search: the query redacted, the address replaced by its hash with the day's salt."""
    redacted = redact(search.query)[:500]
    visitor = search.visitor or (address_hash(salt, search.address) if search.address and salt else None)
    return {
        "token": search.token,
        "created_at": search.at,
        "source": search.source,
        "query": redacted,
        "normalized": normalize(redacted)[:500],
        "results": search.results,
        "confident": search.confident,
        "top_results": json.dumps(list(search.top_results[:MAX_TOP_RESULTS])),
        "visitor": visitor,
    }


def add_clicks(session: Session, clicks: list[Click]) -> list[Click]:
    """Clicks that name a logged search and the result it showed at that position; one per search and position.

    Returns the clicks whose search is not in the database.
    """
    if not clicks:
        return []
    tokens = {click.token for click in clicks}
    query = select(SearchRow.token, SearchRow.top_results).where(SearchRow.token.in_(tokens))
    shown = {token: results for token, results in session.execute(query)}
    opened = select(SearchClickRow.search_token, SearchClickRow.position).where(SearchClickRow.search_token.in_(tokens))
    seen = {(token, position) for token, position in session.execute(opened)}
    unmatched = []
    for click in clicks:
        if click.token not in shown:
            unmatched.append(click)
            continue
        results = json.loads(shown[click.token])
        if (click.token, click.position) in seen or not 1 <= click.position <= len(results):
            continue
        slug, _, section = results[click.position - 1].partition("#")
        if slug != click.slug:
            continue
        seen.add((click.token, click.position))
        session.add(
            SearchClickRow(
                search_token=click.token, created_at=click.at, slug=slug, section=section[:200], position=click.position
            )
        )
    return unmatched


def close_all(timeout: float = 5.0) -> None:
    """Flush and stop every search log of this process (at exit, and when a gunicorn worker exits)."""
    deadline = time.monotonic() + timeout
    for log in list(LIVE_LOGS):
        log.close(max(0.1, deadline - time.monotonic()))


atexit.register(close_all)
