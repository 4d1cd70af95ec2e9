"""Agents databases as kb made them before migrations (tables from create_all, no `alembic_version`)."""

from __future__ import annotations

import secrets
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine
from werkzeug.security import generate_password_hash

from kb.store.database import hash_token
from tests.conftest import DATA

BEFORE_MIGRATIONS = DATA / "database_before_migrations"
PASSWORD = "correct horse battery"


def create_before_migrations(url: str) -> None:
    """Make the tables kb made before migrations, from the DDL kept in tests/data (per dialect)."""
    engine = create_engine(url)
    ddl = (BEFORE_MIGRATIONS / f"{engine.dialect.name}.sql").read_text(encoding="utf-8")
    with engine.begin() as connection:
        for statement in ddl.split(";"):
            lines = [line for line in statement.splitlines() if not line.startswith("--")]
            if "".join(lines).strip():
                connection.exec_driver_sql("\n".join(lines))
    engine.dispose()


@dataclass(frozen=True)
class OldDatabase:
    path: Path
    token: str  # maria's API token; her password is PASSWORD


def old_database_in(index: Path) -> OldDatabase:
    """`index`/kb.sqlite3 as a running older kb leaves it: WAL mode, with maria and two link events only in -wal."""
    token = "kb_" + secrets.token_urlsafe(32)
    with tempfile.TemporaryDirectory() as scratch:
        source = Path(scratch) / "kb.sqlite3"
        create_before_migrations(f"sqlite:///{source}")
        writer = sqlite3.connect(source)
        writer.execute("pragma journal_mode = wal")
        writer.execute("pragma wal_autocheckpoint = 0")  # the rows stay in the -wal file
        writer.execute(
            "insert into agents (name, password_hash, token_hash, created_at) values (?, ?, ?, ?)",
            ("maria", generate_password_hash(PASSWORD), hash_token(token), "2026-01-05 09:30:00.000000"),
        )
        for slug, section in (("reset-password", "the-reset-email-never-arrives"), ("welcome", "")):
            writer.execute(
                "insert into link_events (created_at, agent_id, action, slug, section, query) "
                "values (?, 1, ?, ?, ?, ?)",
                ("2026-01-05 09:31:00.000000", "copy_link", slug, section, "reset email"),
            )
        writer.commit()
        index.mkdir(parents=True, exist_ok=True)
        for name in ("kb.sqlite3", "kb.sqlite3-wal"):  # copied while the writer is open, as after a crash
            shutil.copy(Path(scratch) / name, index / name)
        writer.close()
    return OldDatabase(index / "kb.sqlite3", token)
