"""Fixtures of the store's tests: fresh PostgreSQL schemas (skipped when no server answers)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import create_engine, text

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
