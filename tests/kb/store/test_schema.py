"""Migrations: revision 0001 makes the tables kb made before migrations, the same on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import tomllib
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import Table, create_engine, event, inspect, text

from kb.errors import SchemaOutdatedError
from kb.store.database import Storage
from kb.store.models import Base
from kb.store.schema import FIRST_REVISION, MIGRATIONS, alembic_config, ensure_schema, head_revision, schema_transaction
from kb_cli.main import cli
from tests.conftest import REPOSITORY
from tests.old_database import create_before_migrations


def sqlite_url(folder: Path, name: str = "kb.sqlite3") -> str:
    return f"sqlite:///{folder / name}"


def shape(url: str) -> dict[str, Any]:
    """Tables, columns (type family, length, nullability), keys, indexes and unique constraints, names aside."""
    engine = create_engine(url)
    inspector = inspect(engine)
    found: dict[str, Any] = {}
    for table in sorted(set(inspector.get_table_names()) - {"alembic_version"}):
        found[table] = {
            "columns": [
                (
                    column["name"],
                    column["type"]._type_affinity.__name__,  # DATETIME and TIMESTAMP are both DateTime
                    getattr(column["type"], "length", None),
                    column["nullable"],
                )
                for column in inspector.get_columns(table)
            ],
            "primary_key": inspector.get_pk_constraint(table)["constrained_columns"],
            "indexes": sorted(
                (index["name"], tuple(index["column_names"]), bool(index["unique"]))
                for index in inspector.get_indexes(table)
                if "duplicates_constraint" not in index  # PostgreSQL's index behind a unique constraint
            ),
            "unique": sorted(tuple(unique["column_names"]) for unique in inspector.get_unique_constraints(table)),
            "foreign_keys": sorted(
                (
                    tuple(key["constrained_columns"]),
                    key["referred_table"],
                    tuple(key["referred_columns"]),
                    key["options"].get("ondelete"),
                )
                for key in inspector.get_foreign_keys(table)
            ),
        }
    engine.dispose()
    return found


def revision_of(url: str) -> str | None:
    engine = create_engine(url)
    with engine.connect() as connection:
        revision = MigrationContext.configure(connection).get_current_revision()
    engine.dispose()
    return revision


def test_the_first_revision_is_0001() -> None:
    assert FIRST_REVISION == "0001"
    assert head_revision() >= FIRST_REVISION


def test_revision_0001_makes_the_tables_kb_made_before_migrations_on_sqlite(tmp_path: Path) -> None:
    before, migrated = sqlite_url(tmp_path, "before.sqlite3"), sqlite_url(tmp_path, "migrated.sqlite3")
    create_before_migrations(before)
    with schema_transaction(migrated) as connection:
        command.upgrade(alembic_config(connection), FIRST_REVISION)
    assert list(shape(before)) == ["agents", "link_events"]
    assert shape(migrated) == shape(before)


def test_revision_0001_makes_the_tables_kb_made_before_migrations_on_postgresql(postgres_schema) -> None:  # type: ignore[no-untyped-def]
    before, migrated = postgres_schema(), postgres_schema()
    create_before_migrations(before)
    with schema_transaction(migrated) as connection:
        command.upgrade(alembic_config(connection), FIRST_REVISION)
    assert list(shape(before)) == ["agents", "link_events"]
    assert shape(migrated) == shape(before)


def test_kb_db_upgrade_makes_the_same_schema_on_sqlite_and_postgresql(tmp_path: Path, postgres_schema) -> None:  # type: ignore[no-untyped-def]
    runner = CliRunner()
    urls = [sqlite_url(tmp_path / "new-data"), postgres_schema()]
    for url in urls:
        result = runner.invoke(cli, ["db", "upgrade", "--database", url])
        assert result.exit_code == 0, result.output
        assert f"from no tables to revision {head_revision()}." in result.stdout
        assert revision_of(url) == head_revision()
    sqlite_shape, postgresql_shape = shape(urls[0]), shape(urls[1])
    assert set(sqlite_shape) >= {"agents", "link_events"}
    assert sqlite_shape == postgresql_shape


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_the_models_match_the_newest_revision(dialect: str, tmp_path: Path, postgres_schema) -> None:  # type: ignore[no-untyped-def]
    """A model changed without a migration (or the reverse) fails here, naming the difference."""
    url = sqlite_url(tmp_path) if dialect == "sqlite" else postgres_schema()
    ensure_schema(url)
    engine = create_engine(url)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert differences == []


def test_a_database_from_before_migrations_is_stamped_then_upgraded(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    create_before_migrations(url)
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text("insert into agents (name, token_hash, created_at) values ('maria', :hash, :created)"),
            {"hash": "a" * 64, "created": "2026-01-05 09:30:00.000000"},
        )
    engine.dispose()
    with pytest.raises(SchemaOutdatedError, match=r"made before schema migrations; run `kb db upgrade`"):
        ensure_schema(url)
    runner = CliRunner()
    upgraded = runner.invoke(cli, ["db", "upgrade", "--database", url])
    assert upgraded.exit_code == 0, upgraded.output
    assert upgraded.stdout == (
        f"Upgraded the agents database {url} from before migrations to revision {head_revision()}.\n"
    )
    assert revision_of(url) == head_revision()
    assert [agent.name for agent in Storage(url).agents()] == ["maria"]
    again = runner.invoke(cli, ["db", "upgrade", "--database", url])
    assert again.stdout == f"The agents database {url} is already at revision {head_revision()}.\n"


def test_kb_db_status_shows_both_revisions_and_changes_nothing(tmp_path: Path) -> None:
    runner = CliRunner()
    url = sqlite_url(tmp_path / "data")
    fresh = runner.invoke(cli, ["db", "status", "--database", url])
    assert fresh.exit_code == 1
    assert fresh.stdout.splitlines()[:3] == [
        f"database: {url}",
        "database revision: none",
        f"this kb's revision: {head_revision()}",
    ]
    assert "has no tables yet; `kb db upgrade` creates them" in fresh.stdout
    assert not (tmp_path / "data").exists()
    runner.invoke(cli, ["db", "upgrade", "--database", url])
    current = runner.invoke(cli, ["db", "status", "--database", url])
    assert current.exit_code == 0
    assert f"database revision: {head_revision()}\n" in current.stdout
    assert current.stdout.endswith("up to date\n")


def test_a_database_upgraded_by_a_newer_kb_is_refused(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    ensure_schema(url)
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("update alembic_version set version_num = '9999'"))
    engine.dispose()
    with pytest.raises(SchemaOutdatedError, match="revision 9999, which this kb does not know"):
        ensure_schema(url)
    result = CliRunner().invoke(cli, ["db", "upgrade", "--database", url])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: the agents database ") and "9999" in result.stderr
    assert revision_of(url) == "9999"


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_two_processes_starting_at_once_on_a_new_database_both_work(
    dialect: str, tmp_path: Path, postgres_schema, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """Two servers (or workers) making the tables at the same moment: one makes them, the other waits and uses them."""
    url = sqlite_url(tmp_path) if dialect == "sqlite" else postgres_schema()

    def slowly(table: Table, *_: Any, **__: Any) -> None:
        if table.name == "agents":
            threading.Event().wait(0.5)  # both have looked for the tables; now both would make them

    event.listen(Table, "before_create", slowly)
    try:
        errors: list[BaseException] = []
        names: list[list[str]] = []

        def first_use() -> None:
            try:
                names.append([agent.name for agent in Storage(url).agents()])
            except BaseException as error:  # reported below, with the other thread's outcome
                errors.append(error)

        threads = [threading.Thread(target=first_use) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        event.remove(Table, "before_create", slowly)
    assert errors == []
    assert names == [[], []]
    assert revision_of(url) == head_revision()


def test_every_migration_file_ships_in_the_package() -> None:
    """setuptools takes the .py files of packages; every other file of the migrations needs a package-data glob."""
    pyproject = tomllib.loads((REPOSITORY / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["kb.store.migrations"]
    for folder in (MIGRATIONS, MIGRATIONS / "versions"):
        assert (folder / "__init__.py").exists(), f"{folder} must be a package to be installed"
    others = [path for path in MIGRATIONS.rglob("*") if path.is_file() and "__pycache__" not in path.parts]
    others = [path for path in others if path.suffix != ".py"]
    assert [path.name for path in others] == ["script.py.mako"]
    for path in others:
        assert any(path.relative_to(MIGRATIONS).match(pattern) for pattern in patterns), path


def test_threads_that_make_new_databases_at_once_do_not_mix_their_migrations(tmp_path: Path) -> None:
    """Alembic's proxies are module-wide: the agents' storage and the search log's writer used to mix them."""
    storages = [Storage(f"sqlite:///{tmp_path / f'kb-{number}.sqlite3'}") for number in range(6)]
    barrier = threading.Barrier(len(storages))
    errors: list[BaseException] = []

    def first_use(storage: Storage) -> None:
        barrier.wait()
        try:
            storage.add_agent("maria")
        except BaseException as error:  # noqa: BLE001  # reported below
            errors.append(error)

    threads = [threading.Thread(target=first_use, args=(storage,)) for storage in storages]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert all([agent.name for agent in storage.agents()] == ["maria"] for storage in storages)
