"""The multi-server deployment: agents in PostgreSQL and sign-in limits in Redis, shared by two servers.

Skipped when no PostgreSQL or Redis answers on 127.0.0.1 (KB_TEST_POSTGRES_URL, KB_TEST_REDIS_URL).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

from kb.errors import StorageError
from kb.store.database import Storage
from tests.conftest import AppFactory, sign_in

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
    second.remove_agent("maria")
    assert first.agent_for_token(token) is None


def test_sign_in_limits_hold_across_servers_through_redis(redis_url: str, make_app: AppFactory) -> None:
    prefix = f"kb-test-{uuid.uuid4().hex}"
    servers = [
        make_app(rate_limit_storage=redis_url, config={"RATELIMIT_KEY_PREFIX": prefix}).test_client() for _ in range(2)
    ]
    statuses = [sign_in(servers[attempt % 2], password="guess").status_code for attempt in range(11)]
    assert statuses == [401] * 10 + [429]
