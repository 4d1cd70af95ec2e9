"""A YAML mistake in front matter is reported on the line of the mistake, in plain words."""

from __future__ import annotations

import pytest

from kb.content.articles import read_article

CASES = [
    (
        '---\ntitle: "Reset your password\nsummary: x\n---\nBody.\n',
        "a.md:2: error: invalid YAML in front matter: a quote opened on this line is never closed: "
        "end the value with the same quote mark",
    ),
    (
        "---\ntitle: T\ntags: [a, b\nsummary: x\n---\nBody.\n",
        "a.md:3: error: invalid YAML in front matter: the '[' opened on this line is never closed with ']'",
    ),
    (
        "---\ntitle: Billing: refunds\n---\nBody.\n",
        "a.md:2: error: invalid YAML in front matter: the value contains ': ': put the whole value in quotes "
        '(title: "Billing: refunds")',
    ),
    (
        "---\ntitle: T\n  summary: x\n---\nBody.\n",
        "a.md:3: error: invalid YAML in front matter: this line is indented more than the key above it: "
        "remove the spaces at its start",
    ),
    (
        "---\ntitle: T\n\tsummary: x\n---\nBody.\n",
        "a.md:3: error: invalid YAML in front matter: a tab character: YAML indents with spaces only",
    ),
    (
        "---\ntitle: @support\n---\nBody.\n",
        "a.md:2: error: invalid YAML in front matter: a value cannot start with '@': put the whole value in quotes",
    ),
    (
        "---\ntitle: T\nsummary x\ntags: []\n---\nBody.\n",
        "a.md:3: error: invalid YAML in front matter: this line is neither 'key: value' nor a list entry "
        "'- value' (a ':' or a space after '-' missing?)",
    ),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_yaml_mistakes_are_reported_on_their_line_in_plain_words(text: str, expected: str) -> None:
    article, problems = read_article(text, "a.md")
    assert article is None
    assert [str(problem) for problem in problems] == [expected]
