"""Several workers and servers: agents, sign-in limits and insights shared through the database, PostgreSQL or Redis.

The PostgreSQL and Redis tests are skipped when no server answers on 127.0.0.1 (KB_TEST_POSTGRES_URL,
KB_TEST_REDIS_URL); the SQLite ones always run.
"""

from __future__ import annotations

import contextlib
import datetime
import html
import http.cookiejar
import json
import multiprocessing
import os
import re
import shutil
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from kb.config import Settings
from kb.errors import ConfigError, StorageError
from kb.store.database import Storage
from tests.conftest import AppFactory, FakeEmbedder, app_for, csrf_from, sign_in

POSTGRES_URL = os.environ.get("KB_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("KB_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh schema of the test database, dropped afterwards."""
    pytest.importorskip("psycopg")
    schema = f"kb_test_{uuid.uuid4().hex[:10]}"
    engine = create_engine(POSTGRES_URL)
    try:
        with engine.begin() as connection:
            connection.execute(text(f"create schema {schema}"))
    except Exception as error:  # any connection failure means: no server here
        pytest.skip(f"no PostgreSQL at {POSTGRES_URL}: {type(error).__name__}")
    yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    with engine.begin() as connection:
        connection.execute(text(f"drop schema {schema} cascade"))
    engine.dispose()


@pytest.fixture
def redis_url() -> str:
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except Exception as error:  # any connection failure means: no server here
        pytest.skip(f"no Redis at {REDIS_URL}: {type(error).__name__}")
    return REDIS_URL


def test_two_servers_share_agents_and_link_events_in_postgresql(postgres_url: str) -> None:
    first, second = Storage(postgres_url), Storage(postgres_url)
    agent, token = first.add_agent("maria", "correct horse battery")
    assert second.agent_for_token(token) == second.agent_by_id(agent.id)
    assert second.agent_for_password("maria", "correct horse battery") is not None
    with pytest.raises(StorageError, match="already exists"):
        second.add_agent("maria")
    first.record_link(agent.id, "copy_link", "reset-your-password", "request-a-reset-link", "forgot password")
    second.record_link(agent.id, "copy_markdown", "reset-your-password")
    second.record_link(None, "suggestion_used", "refund-policy")
    assert first.most_linked() == [("reset-your-password", 2), ("refund-policy", 1)]
    with first.engine.connect() as connection:
        stored = connection.execute(text("select token_hash from agents")).scalar_one()
    assert token not in stored
    session_token = first.start_session(agent.id, datetime.timedelta(hours=12))
    assert second.agent_for_session(session_token).name == "maria"  # type: ignore[union-attr]
    second.end_session(session_token)
    assert first.agent_for_session(session_token) is None
    session_token = second.start_session(agent.id, datetime.timedelta(hours=12))
    second.remove_agent("maria")
    assert first.agent_for_token(token) is None
    assert first.agent_for_session(session_token) is None
    newcomer, _ = first.add_agent("newcomer")
    assert newcomer.id != agent.id
    assert {row.agent_id for row in first.link_events()} == {None}


def a_test_address() -> str:
    """An address of its own (IPv6 documentation range), so counts left in a shared Redis never collide."""
    return f"2001:db8::{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}"


def from_address(client: FlaskClient, address: str) -> FlaskClient:
    client.environ_base["REMOTE_ADDR"] = address
    return client


def failed_sign_ins_in_a_worker(settings: Settings, address: str, attempts: int) -> list[int]:
    """A server process's own app, as gunicorn builds one in each worker, failing `attempts` sign-ins."""
    client = from_address(app_for(settings, FakeEmbedder()).test_client(), address)
    return [sign_in(client, password="guess").status_code for _ in range(attempts)]


def test_sign_in_limits_hold_across_two_workers_sharing_the_sqlite_database(built_settings: Settings) -> None:
    address = a_test_address()
    with multiprocessing.get_context("spawn").Pool(1) as pool:  # a worker process of its own, as under gunicorn
        other_worker = pool.apply(failed_sign_ins_in_a_worker, (built_settings, address, 5))
    this_worker = failed_sign_ins_in_a_worker(built_settings, address, 6)
    assert other_worker == [401] * 5
    assert this_worker == [401] * 5 + [429]


def test_sign_in_limits_hold_across_servers_through_postgresql(postgres_url: str, make_app: AppFactory) -> None:
    address = a_test_address()
    servers = [from_address(make_app(database_url=postgres_url).test_client(), address) for _ in range(2)]
    statuses = [sign_in(servers[attempt % 2], password="guess").status_code for attempt in range(11)]
    assert statuses == [401] * 10 + [429]


def test_sign_in_limits_hold_across_servers_through_redis(redis_url: str, make_app: AppFactory) -> None:
    address = a_test_address()
    servers = [from_address(make_app(rate_limit_storage=redis_url).test_client(), address) for _ in range(2)]
    statuses = [sign_in(servers[attempt % 2], password="guess").status_code for attempt in range(11)]
    assert statuses == [401] * 10 + [429]


def test_an_unusable_rate_limit_storage_is_refused_at_start(make_app: AppFactory) -> None:
    with pytest.raises(ConfigError, match="KB_RATE_LIMIT_STORAGE 'nonsense://127.0.0.1' cannot count"):
        make_app(rate_limit_storage="nonsense://127.0.0.1")


# Insights across two server processes --------------------------------------------------------------------------


class Browser:
    """A visitor of one server over HTTP, keeping its cookies (the session, the visitor id) between requests."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def open(
        self,
        path: str,
        form: dict[str, str] | None = None,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> str:
        """The page at `path` (GET; POST with a `form` or a `body`), after any redirects."""
        data = urllib.parse.urlencode(form).encode() if form is not None else body
        request = urllib.request.Request(self.base_url + path, data=data, headers=headers or {})
        with self.opener.open(request, timeout=30) as answer:
            return answer.read().decode("utf-8")

    def sign_in(self) -> None:
        page = self.open("/agent/sign-in")
        self.open(
            "/agent/sign-in", {"name": "maria", "password": "correct horse battery", "csrf_token": csrf_from(page)}
        )


@pytest.fixture
def two_servers(postgres_url: str, tmp_path: Path) -> Iterator[tuple[Browser, Browser]]:
    """Two `kb serve` processes (gunicorn, fake embedder) sharing one PostgreSQL schema, each its own data folder."""
    from indexer.build import build_index
    from tests.conftest import DATA
    from tests.defences.processes import serving

    shutil.copytree(DATA / "help_center", tmp_path / "articles")
    settings = Settings(articles=tmp_path / "articles", index=tmp_path / "index", data=tmp_path / "data")
    build_index(settings, FakeEmbedder(), show_progress=False)
    Storage(postgres_url).add_agent("maria", "correct horse battery")
    with contextlib.ExitStack() as servers:
        one, two = (
            servers.enter_context(
                serving(
                    settings.articles,
                    settings.index,
                    tmp_path / f"{name}.log",
                    KB_DATABASE_URL=postgres_url,
                    KB_DATA=str(tmp_path / name),
                )
            )
            for name in ("one", "two")
        )
        yield Browser(one), Browser(two)


def test_what_one_server_records_is_in_the_other_server_s_insights(two_servers: tuple[Browser, Browser]) -> None:
    first, second = two_servers
    today = datetime.datetime.now(datetime.UTC).date().isoformat()
    period = f"since={today}&until={today}"
    # An agent copies a link on the first server...
    first.sign_in()
    token = csrf_from(first.open("/agent/"))
    recorded = first.open(
        "/agent/track",
        body=json.dumps({"action": "copy_link", "slug": "reset-password"}).encode(),
        headers={"Content-Type": "application/json", "X-CSRFToken": token},
    )
    assert json.loads(recorded) == {"recorded": True}
    # ... and the second server's insights count it.
    second.sign_in()
    assert second.open(f"/insights/links.csv?{period}").splitlines() == [
        "article,uses,copy_link,copy_markdown,copy_snippet,suggestion_used",
        "reset-password,1,1,0,0,0",
    ]
    # A customer answers "Was this helpful?" on the first server (the form of branch loop-log, issue 10 item 2).
    article = Browser(first.base_url)
    page = article.open("/articles/reset-password")
    form = re.search(r'<form class="feedback-answer" method="post" action="([^"]+)">', page)
    if form is None:
        pytest.skip("no 'Was this helpful?' form on the article page yet: the vote half waits for the vote form")
    article.open(html.unescape(form.group(1)), {"csrf_token": csrf_from(page), "helpful": "no"})
    assert second.open(f"/insights/helpfulness.csv?{period}").splitlines() == [
        "article,helpful,unhelpful,helpful_share",
        "reset-password,0,1,0.0",
    ]
