"""`kb agents`, `kb db` and `kb serve` with the agents database: the data folder, migrations, outages."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from gunicorn.app.base import BaseApplication
from sqlalchemy import create_engine, text

import kb_cli.main
from kb.config import Settings
from kb.store.database import Storage
from kb.store.schema import head_revision
from kb_cli.main import cli
from tests.conftest import FakeEmbedder
from tests.database_faults import refusing_url
from tests.old_database import create_before_migrations


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture(autouse=True)
def fake_model(monkeypatch: pytest.MonkeyPatch) -> FakeEmbedder:
    embedder = FakeEmbedder()
    monkeypatch.setattr(kb_cli.main, "make_embedder", lambda settings, batch=False: embedder)
    return embedder


@pytest.fixture
def environment(settings: Settings) -> dict[str, str]:
    """The `KB_*` variables of a help center in tmp_path, with no database URL (so: the data folder)."""
    return {
        "KB_ARTICLES": str(settings.articles),
        "KB_INDEX": str(settings.index),
        "KB_DATA": str(settings.data),
        "KB_DATABASE_URL": "",
    }


def test_agents_add_keeps_the_database_private_in_the_data_folder(
    runner: CliRunner, settings: Settings, environment: dict[str, str]
) -> None:
    added = runner.invoke(cli, ["agents", "add", "maria"], env=environment)
    assert added.exit_code == 0, added.output
    assert added.stdout.startswith("kb_")
    assert not settings.index.exists()  # adding an agent makes no index folder
    database = settings.data / "kb.sqlite3"
    assert stat.S_IMODE(settings.data.stat().st_mode) == 0o700
    assert stat.S_IMODE(database.stat().st_mode) == 0o600  # it holds password and token hashes
    listed = runner.invoke(cli, ["agents", "list"], env=environment)
    assert listed.stdout.startswith("maria\tcreated ")


def test_agents_commands_take_a_database_url(runner: CliRunner, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'elsewhere' / 'agents.sqlite3'}"
    assert runner.invoke(cli, ["agents", "add", "maria", "--database", url]).exit_code == 0
    assert runner.invoke(cli, ["agents", "add", "bo"], env={"KB_DATABASE_URL": url}).exit_code == 0
    listed = runner.invoke(cli, ["agents", "list", "--database", url])
    assert [line.split("\t")[0] for line in listed.stdout.splitlines()] == ["bo", "maria"]
    removed = runner.invoke(cli, ["agents", "remove", "maria", "--database", url])
    assert (removed.exit_code, removed.stderr) == (0, "Removed agent maria.\n")
    assert [agent.name for agent in Storage(url).agents()] == ["bo"]
    old_option = runner.invoke(cli, ["agents", "list", "--index", str(tmp_path)])
    assert old_option.exit_code == 2 and "No such option '--index'" in old_option.stderr


def test_deleting_the_index_folder_keeps_every_agent_and_link_event(
    runner: CliRunner, settings: Settings, environment: dict[str, str]
) -> None:
    assert runner.invoke(cli, ["agents", "add", "maria"], env=environment).exit_code == 0
    assert runner.invoke(cli, ["index"], env=environment).exit_code == 0
    url = f"sqlite:///{settings.data / 'kb.sqlite3'}"
    storage = Storage(url)
    storage.record_link(storage.agents()[0].id, "copy_link", "welcome", "", "where do I start")
    shutil.rmtree(settings.index)
    rebuilt = runner.invoke(cli, ["index"], env=environment)
    assert rebuilt.exit_code == 0, rebuilt.output
    assert runner.invoke(cli, ["agents", "list"], env=environment).stdout.startswith("maria\t")
    assert [(row.slug, row.query) for row in Storage(url).link_events()] == [("welcome", "where do I start")]


@pytest.fixture
def gunicorn_run(monkeypatch: pytest.MonkeyPatch, fake_model: FakeEmbedder) -> list[str]:
    """Replaces gunicorn's loop: records that it ran, and loads the app once as a worker would."""
    calls: list[str] = []
    monkeypatch.setattr("kb.index.embedder.make_embedder", lambda settings, batch=False: fake_model)

    def run(self: BaseApplication) -> None:
        calls.append("run")
        self.load()  # what each worker does after the fork

    monkeypatch.setattr(BaseApplication, "run", run)
    return calls


def test_serve_makes_a_new_database_before_the_workers_start(
    runner: CliRunner, built_settings: Settings, environment: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    database = built_settings.data / "kb.sqlite3"
    revisions: list[str] = []

    def run(self: BaseApplication) -> None:
        with create_engine(f"sqlite:///{database}").connect() as connection:
            revisions.append(connection.execute(text("select version_num from alembic_version")).scalar_one())

    monkeypatch.setattr(BaseApplication, "run", run)
    result = runner.invoke(cli, ["serve"], env=environment)
    assert result.exit_code == 0, result.output
    assert revisions == [head_revision()]


def test_serve_refuses_an_outdated_database_in_one_line(
    runner: CliRunner, built_settings: Settings, environment: dict[str, str], gunicorn_run: list[str]
) -> None:
    database = built_settings.data / "kb.sqlite3"
    built_settings.data.mkdir()
    create_before_migrations(f"sqlite:///{database}")
    result = runner.invoke(cli, ["serve"], env=environment)
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: the agents database sqlite:///{database} was made before schema migrations; "
        f"run `kb db upgrade` to bring it to revision {head_revision()}\n"
    )
    assert gunicorn_run == []


def test_serve_starts_when_the_database_is_unreachable(
    runner: CliRunner, built_settings: Settings, environment: dict[str, str], gunicorn_run: list[str]
) -> None:
    url = refusing_url()
    result = runner.invoke(cli, ["serve"], env={**environment, "KB_DATABASE_URL": url})
    assert result.exit_code == 0, result.output
    assert gunicorn_run == ["run"]
    port = url.rsplit(":", 1)[1].split("/")[0]
    assert (
        f"Warning: the agents database {url} is unavailable: OperationalError: connection failed: "
        f'connection to server at "127.0.0.1", port {port} failed: Connection refused; '
        "serving the public site, agent features answer 503 until it answers"
    ) in result.stderr
