"""The agents database: identities never reused, sessions that end, sign-in failures counted per address."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from kb.errors import StorageError
from kb.store.database import Storage


def test_agent_ids_are_never_reused_after_a_removal(tmp_path: Path) -> None:
    storage = Storage(f"sqlite:///{tmp_path / 'kb.sqlite3'}")
    removed, _ = storage.add_agent("victim")
    storage.record_link(removed.id, "copy_link", "reset-password")
    storage.remove_agent("victim")
    newcomer, _ = storage.add_agent("newcomer")
    assert newcomer.id != removed.id
    assert storage.agent_by_id(removed.id) is None
    assert [(row.agent_id, row.slug) for row in storage.link_events()] == [(None, "reset-password")]


def test_sessions_end_on_sign_out_and_expired_ones_are_deleted_at_the_next_sign_in(tmp_path: Path) -> None:
    storage = Storage(f"sqlite:///{tmp_path / 'kb.sqlite3'}")
    agent, _ = storage.add_agent("maria")
    day = datetime.timedelta(hours=12)
    laptop, phone = storage.start_session(agent.id, day), storage.start_session(agent.id, day)
    assert storage.agent_for_session(laptop) == storage.agent_for_session(phone)
    assert storage.agent_for_session(laptop).name == "maria"  # type: ignore[union-attr]
    storage.end_session(laptop)
    assert storage.agent_for_session(laptop) is None
    assert storage.agent_for_session(phone) is not None
    with storage.engine.begin() as connection:
        connection.execute(text("update agent_sessions set expires_at = '2000-01-01 00:00:00.000000'"))
    storage.start_session(agent.id, day)
    with storage.engine.connect() as connection:
        assert connection.execute(text("select count(*) from agent_sessions")).scalar_one() == 1
    assert storage.agent_for_session(phone) is None
    with pytest.raises(StorageError, match="no agent with id 99"):
        storage.start_session(99, day)


def test_sign_in_failures_count_per_address_within_the_window_and_old_ones_are_deleted(tmp_path: Path) -> None:
    storage = Storage(f"sqlite:///{tmp_path / 'kb.sqlite3'}")
    minute = datetime.timedelta(minutes=1)
    for _ in range(3):
        storage.record_sign_in_failure("192.0.2.1", minute)
    storage.record_sign_in_failure("2001:db8::1", minute)
    assert storage.sign_in_failures("192.0.2.1", minute) == 3
    assert storage.sign_in_failures("2001:db8::1", minute) == 1
    assert storage.sign_in_failures("192.0.2.9", minute) == 0
    with storage.engine.begin() as connection:
        connection.execute(text("update sign_in_failures set failed_at = '2000-01-01 00:00:00.000000'"))
    assert storage.sign_in_failures("192.0.2.1", minute) == 0
    storage.record_sign_in_failure("192.0.2.1", minute)
    with storage.engine.connect() as connection:
        assert connection.execute(text("select address from sign_in_failures")).scalars().all() == ["192.0.2.1"]
