"""kb: a self-service help center with semantic search (core library; no web framework here)."""

__version__ = "0.1.0"
