"""The data folder: private to its owner, and the one place a database left in the index folder moves to."""

from __future__ import annotations

import dataclasses
import re
import shutil
import sqlite3
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from kb.config import Settings
from kb.errors import ConfigError
from kb.store.data_folder import database_url, move_old_database
from kb.store.database import Storage
from kb_cli.main import cli
from tests.old_database import PASSWORD, old_database_in
from web import create_app


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_data_folder_and_the_database_file_are_private(settings: Settings) -> None:
    Storage(database_url(settings)).add_agent("maria", PASSWORD)
    assert (mode(settings.data), mode(settings.data / "kb.sqlite3")) == (0o700, 0o600)
    assert not settings.index.exists()


def test_an_old_database_file_is_made_private_when_it_moves(settings: Settings) -> None:
    old = old_database_in(settings.index)
    old.path.chmod(0o644)  # as SQLite made it before
    database_url(settings)
    assert mode(settings.data / "kb.sqlite3") == 0o600


def csrf_from(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "no CSRF token on the page"
    return match.group(1)


def test_an_old_database_in_the_index_folder_moves_and_nothing_is_lost(built_settings: Settings, fake_embedder) -> None:  # type: ignore[no-untyped-def]
    old = old_database_in(built_settings.index)
    alone = sqlite3.connect(f"file:{old.path}?mode=ro&immutable=1", uri=True)  # the file without its -wal
    assert alone.execute("select count(*) from agents").fetchone() == (0,), "maria must live in the -wal file"
    alone.close()
    environment = {"KB_INDEX": str(built_settings.index), "KB_DATA": str(built_settings.data), "KB_DATABASE_URL": ""}
    upgraded = CliRunner().invoke(cli, ["db", "upgrade"], env=environment)
    assert upgraded.exit_code == 0, upgraded.output
    moved = built_settings.data / "kb.sqlite3"
    assert f"Warning: moved the agents database from {old.path} to {moved}:" in upgraded.stderr
    assert "from before migrations to revision" in upgraded.stdout
    assert sorted(path.name for path in built_settings.index.iterdir() if path.name.startswith("kb.sqlite3")) == []

    app = create_app({"TESTING": True, "KB_SETTINGS": built_settings, "KB_EMBEDDER": fake_embedder})
    client = app.test_client()
    response = client.post(
        "/api/links", headers={"Authorization": f"Bearer {old.token}"}, json={"action": "copy_link", "slug": "welcome"}
    )
    assert response.status_code == 201  # the token from before still works
    form = client.get("/agent/sign-in").get_data(as_text=True)
    signed_in = client.post(
        "/agent/sign-in", data={"name": "maria", "password": PASSWORD, "csrf_token": csrf_from(form)}
    )
    assert (signed_in.status_code, signed_in.headers["Location"]) == (302, "/agent/")
    storage = app.extensions["kb_storage"]
    assert [(agent.name, agent.has_password) for agent in storage.agents()] == [("maria", True)]
    assert [(row.agent_id, row.slug, row.section) for row in storage.link_events()] == [
        (1, "reset-password", "the-reset-email-never-arrives"),
        (1, "welcome", ""),
        (1, "welcome", ""),
    ]


def test_the_old_database_moves_once_and_never_over_the_data_folders(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    old_database_in(settings.index)
    (settings.index / "kb.sqlite3-journal").write_bytes(b"")  # a rollback journal travels with its database
    assert database_url(settings) == f"sqlite:///{(settings.data / 'kb.sqlite3').resolve()}"
    assert sorted(path.name for path in settings.data.iterdir()) == [
        "kb.sqlite3",
        "kb.sqlite3-journal",
        "kb.sqlite3-wal",
    ]
    assert len([record for record in caplog.records if "moved the agents database" in record.message]) == 1
    caplog.clear()
    database_url(settings)
    assert caplog.records == []
    stray = old_database_in(settings.index / "again")  # an older kb run once more made a second file
    shutil.move(stray.path, settings.index / "kb.sqlite3")
    database_url(settings)
    assert (settings.index / "kb.sqlite3").exists()
    assert [record.message for record in caplog.records] == [
        f"{settings.index / 'kb.sqlite3'} is ignored: the agents database is {settings.data / 'kb.sqlite3'} "
        "(delete the old file once unneeded)"
    ]


def test_a_database_url_setting_leaves_any_old_file_alone(settings: Settings) -> None:
    old = old_database_in(settings.index)
    configured = dataclasses.replace(settings, database_url="sqlite:///elsewhere.sqlite3")
    assert database_url(configured) == "sqlite:///elsewhere.sqlite3"
    assert old.path.exists() and not settings.data.exists()


def test_a_move_that_fails_puts_the_side_files_back(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    old = old_database_in(settings.index)
    real_move = shutil.move

    def move_all_but_the_database(source: Path, target: Path) -> object:
        if Path(source) == old.path:
            raise PermissionError(f"cannot move {source}")
        return real_move(source, target)

    monkeypatch.setattr(shutil, "move", move_all_but_the_database)
    with pytest.raises(PermissionError):
        move_old_database(old.path, settings.data / "kb.sqlite3")
    assert sorted(path.name for path in settings.index.iterdir()) == ["kb.sqlite3", "kb.sqlite3-wal"]
    assert database_url(settings) == f"sqlite:///{old.path.resolve()}"  # used where it is, with its -wal


def test_the_data_folder_may_not_live_in_the_index_folder(tmp_path: Path) -> None:
    environment = {"KB_INDEX": str(tmp_path / "index"), "KB_DATA": str(tmp_path / "index" / "data")}
    with pytest.raises(ConfigError, match="KB_DATA must be outside KB_INDEX"):
        Settings.from_env(environment)
    with pytest.raises(ConfigError, match="KB_DATA must be outside KB_INDEX"):
        Settings.from_env({"KB_INDEX": str(tmp_path), "KB_DATA": str(tmp_path)})
