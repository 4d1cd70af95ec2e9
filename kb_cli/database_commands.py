"""`kb agents add | list | remove` and `kb db upgrade | status`: the database of what cannot be rebuilt."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from kb.config import Settings
from kb.errors import ConfigError

F = TypeVar("F", bound=Callable[..., Any])


def database_option(function: F) -> F:
    return click.option(
        "--database",
        metavar="URL",
        default=None,
        help="SQLAlchemy URL of the agents database [env KB_DATABASE_URL; default kb.sqlite3 in KB_DATA, .kb-data].",
    )(function)


def database_settings(database: str | None) -> Settings:
    return Settings.from_env(database_url=database)


def agent_storage(database: str | None):  # type: ignore[no-untyped-def]
    from kb.store.data_folder import database_url
    from kb.store.database import Storage

    return Storage(database_url(database_settings(database)))


@click.group()
def agents() -> None:
    """Manage support agents: accounts for the workspace and tokens for the API."""


@agents.command(name="add")
@click.argument("name")
@click.option("--password", "ask_password", is_flag=True, help="Also set a password for the web workspace (prompted).")
@database_option
def agents_add(name: str, ask_password: bool, database: str | None) -> None:
    """Create agent NAME and print its API token (shown this once; only its hash is stored).

    A new database is created at the newest schema revision first.
    """
    password = None
    if ask_password:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        if len(password) < 10:
            raise ConfigError("the password must be at least 10 characters long")
    agent, token = agent_storage(database).add_agent(name, password)
    click.echo(f"Created agent {agent.name}. API token (shown once, keep it secret):", err=True)
    click.echo(token)


@agents.command(name="list")
@database_option
def agents_list(database: str | None) -> None:
    """List agents with when they were created and last seen."""
    found = agent_storage(database).agents()
    if not found:
        click.echo("No agents yet: add one with 'kb agents add NAME'.", err=True)
    for agent in found:
        seen = agent.last_seen_at.strftime("%Y-%m-%d %H:%M") if agent.last_seen_at else "never"
        sign_in = "password" if agent.has_password else "token only"
        click.echo(f"{agent.name}\tcreated {agent.created_at:%Y-%m-%d}\tlast seen {seen}\t{sign_in}")


@agents.command(name="remove")
@click.argument("name")
@database_option
def agents_remove(name: str, database: str | None) -> None:
    """Delete agent NAME; its token and sessions stop working at once."""
    agent_storage(database).remove_agent(name)
    click.echo(f"Removed agent {name}.", err=True)


@click.group()
def db() -> None:
    """The agents database's schema: see where it stands, and upgrade it after installing a new kb."""


@db.command(name="upgrade")
@database_option
def db_upgrade(database: str | None) -> None:
    """Apply every schema migration the database lacks (a database from before migrations is stamped 0001 first)."""
    from kb.store.data_folder import database_url
    from kb.store.schema import upgrade_schema

    before, after = upgrade_schema(database_url(database_settings(database)))
    if before.current == after.current:
        click.echo(f"The agents database {after.url} is already at revision {after.current}.")
        return
    start = "no tables" if before.empty else "before migrations" if before.before_migrations else before.current
    click.echo(f"Upgraded the agents database {after.url} from {start} to revision {after.current}.")


@db.command(name="status")
@database_option
def db_status(database: str | None) -> None:
    """Show the database's schema revision and this kb's; exit 1 when `kb db upgrade` is due."""
    from kb.store.data_folder import database_url
    from kb.store.schema import schema_state

    state = schema_state(database_url(database_settings(database)))
    click.echo(f"database: {state.url}")
    click.echo(f"database revision: {state.current or 'none'}")
    click.echo(f"this kb's revision: {state.head}")
    click.echo(state.describe())
    if not state.up_to_date:
        sys.exit(1)
