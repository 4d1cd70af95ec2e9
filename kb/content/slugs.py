"""Slugs: the URL names of articles and categories, and their display names."""

from __future__ import annotations

import re
import unicodedata

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def slugify(text: str) -> str:
    """Lowercase ASCII words joined by hyphens: 'Reset your Password!' -> 'reset-your-password'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def humanize(slug: str) -> str:
    """'account-and-login' -> 'Account and login'."""
    words = slug.replace("_", "-").split("-")
    text = " ".join(word for word in words if word)
    return text[:1].upper() + text[1:]
