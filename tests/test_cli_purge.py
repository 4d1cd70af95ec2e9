"""`kb db purge`: counts with --dry-run, deletes old raw rows, keeps daily counts; the retention setting's bounds."""

from __future__ import annotations

import datetime
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from kb.store.counters import bump, counts
from kb.store.database import Storage
from kb.store.models import SearchRow
from kb_cli.main import cli

NOW = datetime.datetime.now(datetime.UTC)


def filled(path: Path) -> str:
    url = f"sqlite:///{path}"
    with Storage(url).session(write=True) as session:
        for token, age in (("old", 40), ("older", 100), ("recent", 2)):
            at = NOW - datetime.timedelta(days=age)
            session.add(SearchRow(token=token, created_at=at, source="site", query="q", normalized="q", results=0))
            bump(session, "searches", "site", 1, at.date())
    return url


def test_a_dry_run_counts_and_purge_deletes_older_than_the_retention(tmp_path: Path) -> None:
    url = filled(tmp_path / "kb.sqlite3")
    runner = CliRunner()
    dry = runner.invoke(cli, ["db", "purge", "--dry-run", "--database", url], env={"KB_RETENTION_DAYS": "30"})
    assert dry.exit_code == 0, dry.output
    assert dry.stdout.splitlines()[:2] == ["Would delete rows older than 30 days:", "         2  searches"]
    result = runner.invoke(cli, ["db", "purge", "--days", "60", "--database", url], env={"KB_RETENTION_DAYS": "30"})
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[:2] == ["Deleted rows older than 60 days:", "         1  searches"]
    with Storage(url).session() as session:
        assert sorted(session.scalars(select(SearchRow.token))) == ["old", "recent"]
        since = (NOW - datetime.timedelta(days=200)).date()
        assert sum(count for _, _, count in counts(session, "searches", since, NOW.date())) == 3


def test_the_retention_setting_has_bounds(tmp_path: Path) -> None:
    url = filled(tmp_path / "kb.sqlite3")
    result = CliRunner().invoke(cli, ["db", "purge", "--database", url], env={"KB_RETENTION_DAYS": "0"})
    assert result.exit_code == 2
    assert "KB_RETENTION_DAYS must be between 1 and 3650, got 0" in result.output
    days = CliRunner().invoke(cli, ["db", "purge", "--days", "0", "--database", url])
    assert days.exit_code == 2
