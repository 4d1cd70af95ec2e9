"""The URL scheme of a help center, shared by the indexer, the search service and the site."""

from __future__ import annotations

from urllib.parse import quote


def article_url(slug: str, anchor: str = "") -> str:
    """Path of an article page, landing on `anchor` when one is given."""
    url = f"/articles/{quote(slug)}"
    return f"{url}#{quote(anchor)}" if anchor else url


def category_url(category: str) -> str:
    return f"/categories/{quote(category)}"


def media_url(path: str) -> str:
    """Path of an image or attachment kept beside the articles."""
    return f"/media/{path}"
