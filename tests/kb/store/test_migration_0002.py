"""Revision 0002 (agent sessions, sign-in failures, ids never reused) keeps every agent and link event."""

from __future__ import annotations

import datetime
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from alembic import command
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from kb.store.database import Storage
from kb.store.schema import alembic_config, head_revision, schema_transaction
from kb_cli.main import cli

AGENT_COLUMNS = "id, name, password_hash, token_hash, created_at, last_seen_at"
EVENT_COLUMNS = "id, created_at, agent_id, action, slug, section, query"


def at_revision_0001(url: str) -> None:
    with schema_transaction(url) as connection:
        command.upgrade(alembic_config(connection), "0001")


def rows(url: str, query: str) -> list[tuple[Any, ...]]:
    engine = create_engine(url)
    with engine.connect() as connection:
        found = [tuple(row) for row in connection.execute(text(query))]
    engine.dispose()
    return found


def upgrade(url: str) -> None:
    result = CliRunner().invoke(cli, ["db", "upgrade", "--database", url])
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith(f"from 0001 to revision {head_revision()}.\n")


def test_upgrading_a_0001_sqlite_database_keeps_its_agents_and_link_events(tmp_path: Path) -> None:
    path = tmp_path / "kb.sqlite3"
    url = f"sqlite:///{path}"
    at_revision_0001(url)
    writer = sqlite3.connect(path)  # as kb wrote before: SQLite's foreign keys off
    for number, name in enumerate(("maria", "victim", "bo"), start=1):
        writer.execute(
            "insert into agents (id, name, password_hash, token_hash, created_at) values (?, ?, ?, ?, ?)",
            (number, name, f"scrypt:hash-of-{name}", f"{number}" * 64, "2026-01-05 09:30:00.000000"),
        )
        writer.execute(
            "insert into link_events (created_at, agent_id, action, slug, section, query) values (?, ?, ?, ?, ?, ?)",
            ("2026-01-05 09:31:00.000000", number, "copy_link", f"article-{number}", "a-section", f"asked by {name}"),
        )
    writer.execute("delete from agents where name in ('victim', 'bo')")  # their link events keep ids 2 and 3
    writer.commit()
    writer.close()
    agents_before = rows(url, f"select {AGENT_COLUMNS} from agents")
    events_before = rows(url, f"select {EVENT_COLUMNS} from link_events order by id")

    upgrade(url)

    assert rows(url, f"select {AGENT_COLUMNS} from agents") == agents_before
    events_after = rows(url, f"select {EVENT_COLUMNS} from link_events order by id")
    # maria's event keeps her; the removed agents' events lose the ids a new agent could be given
    assert events_after == [event if event[2] == 1 else (*event[:2], None, *event[3:]) for event in events_before]
    storage = Storage(url)
    newcomer, _ = storage.add_agent("newcomer")
    assert newcomer.id == 4  # not 2 or 3: SQLite's AUTOINCREMENT never hands an id out twice
    assert [row.agent_id for row in storage.link_events()] == [1, None, None]
    session = storage.start_session(1, datetime.timedelta(hours=1))
    assert storage.agent_for_session(session).name == "maria"  # type: ignore[union-attr]
    storage.remove_agent("maria")
    assert storage.agent_for_session(session) is None
    assert [row.agent_id for row in storage.link_events()] == [None, None, None]  # foreign keys enforced now
    storage.remove_agent("newcomer")
    assert storage.add_agent("after")[0].id == 5


def test_upgrading_a_0001_postgresql_database_keeps_its_agents_and_link_events(
    postgres_schema: Callable[[], str],
) -> None:
    url = postgres_schema()
    at_revision_0001(url)
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "insert into agents (name, password_hash, token_hash, created_at) "
                "values ('maria', 'scrypt:hash-of-maria', :hash, '2026-01-05 09:30:00+00')"
            ),
            {"hash": "1" * 64},
        )
        connection.execute(
            text(
                "insert into link_events (created_at, agent_id, action, slug, section, query) "
                "select '2026-01-05 09:31:00+00', id, 'copy_link', 'reset-password', '', 'forgot' from agents"
            )
        )
    engine.dispose()
    agents_before = rows(url, f"select {AGENT_COLUMNS} from agents")
    events_before = rows(url, f"select {EVENT_COLUMNS} from link_events")

    upgrade(url)

    assert rows(url, f"select {AGENT_COLUMNS} from agents") == agents_before
    assert rows(url, f"select {EVENT_COLUMNS} from link_events") == events_before
    storage = Storage(url)
    session = storage.start_session(agents_before[0][0], datetime.timedelta(hours=1))
    assert storage.agent_for_session(session).name == "maria"  # type: ignore[union-attr]
    assert storage.add_agent("newcomer")[0].id > agents_before[0][0]
