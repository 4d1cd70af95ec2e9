"""Fixtures of the store's tests: fresh PostgreSQL schemas (skipped when no server answers)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from kb.store.database import Storage
from kb.store.resilience import DatabaseGuard

POSTGRES_URL = os.environ.get("KB_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture
def postgres_schema() -> Iterator[Callable[[], str]]:
    """Makes fresh schemas of the test database (each its own URL), all dropped afterwards."""
    pytest.importorskip("psycopg")
    engine = create_engine(POSTGRES_URL)
    made: list[str] = []

    def make() -> str:
        schema = f"kb_test_{uuid.uuid4().hex[:10]}"
        try:
            with engine.begin() as connection:
                connection.execute(text(f"create schema {schema}"))
        except Exception as error:  # any connection failure means: no server here
            pytest.skip(f"no PostgreSQL at {POSTGRES_URL}: {type(error).__name__}")
        made.append(schema)
        return f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"

    yield make
    with engine.begin() as connection:
        for schema in made:
            connection.execute(text(f"drop schema {schema} cascade"))
    engine.dispose()


@pytest.fixture
def postgres_url(postgres_schema: Callable[[], str]) -> str:
    """One fresh schema of the test database."""
    return postgres_schema()


@pytest.fixture(params=["sqlite", "postgresql"])
def patient_storage(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    """A fresh database on SQLite, then on PostgreSQL, whose callers queue for it rather than being turned away."""
    url = (
        f"sqlite:///{tmp_path / 'kb.sqlite3'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    )
    return Storage(url, DatabaseGuard(url, permit_wait_seconds=10.0))
