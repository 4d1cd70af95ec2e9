"""Alembic's entry point: runs the migrations on the connection kb.store.schema hands over."""

from __future__ import annotations

from alembic import context

from kb.store.models import Base


def run_migrations() -> None:
    """Migrate the connection in `config.attributes["connection"]`, inside the caller's transaction."""
    connection = context.config.attributes.get("connection")
    if connection is None or context.is_offline_mode():
        raise RuntimeError("kb's migrations run through `kb db upgrade`, which hands Alembic a connection")
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite alters a table by copying it; batch mode lets later revisions use op.alter_column there too.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
