"""A benchmark's section replaces its earlier self in a shared document and leaves the other sections alone."""

from __future__ import annotations

import pytest

from bench.documents import replace_section

DOCUMENT = "# Performance\n\nIntro.\n\n## Save to searchable\n\nOld figures.\n\n## The search log\n\nLog figures.\n"


def test_a_section_replaces_the_one_of_its_title_in_place() -> None:
    assert replace_section(DOCUMENT, "## Save to searchable\n\nNew figures.\n") == (
        "# Performance\n\nIntro.\n\n## Save to searchable\n\nNew figures.\n\n## The search log\n\nLog figures.\n"
    )


def test_a_new_section_is_appended_and_an_empty_document_gets_just_it() -> None:
    assert replace_section(DOCUMENT, "## Approximate vector search\n\nRecall.") == (
        DOCUMENT + "\n## Approximate vector search\n\nRecall.\n"
    )
    section = "## Approximate vector search\n\nRecall.\n"
    assert replace_section("", section) == section


def test_a_section_must_start_with_its_heading() -> None:
    with pytest.raises(ValueError, match="'# Performance'"):
        replace_section(DOCUMENT, "# Performance\n\nAll of it.")
