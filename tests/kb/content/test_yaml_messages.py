"""A YAML mistake in front matter is reported on the line of the mistake, in plain words."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kb.content.articles import read_article
from kb.content.safe_yaml import LibyamlLoader, SafeLoader, load_with

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
    # libyaml reads the next two; PyYAML, which decides what front matter is valid, does not.
    (
        "---\ntitle: Reset\tyour password\n---\nBody.\n",
        "a.md:2: error: invalid YAML in front matter: a tab character: YAML indents with spaces only",
    ),
    (
        "---\ntitle: T\nquestions: [why is it late?, how]\n---\nBody.\n",
        "a.md:3: error: invalid YAML in front matter: the '[' opened on this line is never closed with ']'",
    ),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_yaml_mistakes_are_reported_on_their_line_in_plain_words(text: str, expected: str) -> None:
    article, problems = read_article(text, "a.md")
    assert article is None
    assert [str(problem) for problem in problems] == [expected]


def test_libyaml_reads_the_sample_front_matter_as_pyyaml_does() -> None:
    """libyaml only makes loading faster: the values and the line of every node are PyYAML's."""
    texts = [path.read_text(encoding="utf-8").split("---")[1] for path in sorted(Path("articles").rglob("*.md"))]
    assert texts
    for text in texts:
        fast_node, fast_value = load_with(LibyamlLoader, text)
        node, value = load_with(SafeLoader, text)
        assert fast_value == value
        assert node_lines(fast_node) == node_lines(node)


def node_lines(node: yaml.Node) -> list[int]:
    """The start line of `node` and of every node inside it, in document order."""
    lines = [node.start_mark.line]
    if isinstance(node, yaml.SequenceNode):
        lines += [line for item in node.value for line in node_lines(item)]
    elif isinstance(node, yaml.MappingNode):
        lines += [line for key, value in node.value for line in node_lines(key) + node_lines(value)]
    return lines
