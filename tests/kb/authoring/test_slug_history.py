"""Slugs read back from old versions of an article: any version, however broken, gives a slug or none."""

from __future__ import annotations

import pytest

from kb.authoring.slug_history import slug_of_version
from tests.conftest import DATA

BROKEN_VERSIONS = sorted((DATA / "broken").glob("*.md"))


@pytest.mark.parametrize("version", BROKEN_VERSIONS, ids=[file.name for file in BROKEN_VERSIONS])
def test_a_broken_old_version_gives_its_slug_or_its_file_name(version) -> None:  # type: ignore[no-untyped-def]
    slug = slug_of_version(version.read_bytes(), f"billing/{version.name}")
    expected = "valid-article" if version.name == "valid_article_duplicate_slug.md" else version.stem.replace("_", "-")
    assert slug == expected


def test_an_old_slug_is_read_from_a_version_with_an_impossible_date() -> None:
    content = b"---\ntitle: Refunds\nslug: money-back\nupdated: 2026-02-30\n---\nText.\n"
    assert slug_of_version(content, "billing/refunds.md") == "money-back"
    assert slug_of_version(b"---\nslug: !!int abc\n---\n", "billing/refunds.md") == "refunds"
    assert slug_of_version(b"\xff\xfe not text", "billing/refunds.md") == "refunds"
