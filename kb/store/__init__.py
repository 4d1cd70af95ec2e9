"""The database of what cannot be rebuilt: agent accounts, tokens and link events (SQLite or PostgreSQL)."""
