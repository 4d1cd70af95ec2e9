"""Alembic migrations of the agents database; `kb db upgrade` applies them (see kb/store/schema.py)."""
