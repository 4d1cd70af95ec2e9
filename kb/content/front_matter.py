"""Front matter: split an article file into YAML metadata and body, and read typed fields with their lines."""

from __future__ import annotations

import datetime
import re
from typing import Any

import frontmatter
import yaml

from kb.content.problems import Problem, Severity
from kb.content.safe_yaml import describe_error, load_yaml, short
from kb.content.slugs import SLUG_PATTERN
from kb.errors import ArticleError

FRONT_MATTER = frontmatter.YAMLHandler()
TITLE_HEADING = re.compile(r"\A\s*^#[ \t]+(.+?)[ \t#]*$\n?", re.MULTILINE)


def parse_article_text(text: str, path: str) -> tuple[dict[str, Any], dict[str, int], str, int]:
    """Split an article into (metadata, line of each key, Markdown body, first line of the body).

    The lines also name each entry of a list value: `questions[0]` is the line of the first question.

    Raises:
        ArticleError: the front matter is missing, is not valid YAML, or is not a mapping.
    """
    text = text.lstrip("\ufeff")
    if not FRONT_MATTER.detect(text):
        if TITLE_HEADING.match(text) is None:
            raise ArticleError(path, 1, "missing front matter: the file must start with a '---' line")
        return {}, {}, text, 1  # MkDocs' way: no front matter, the title is the first '#' heading
    try:
        front_matter, body = FRONT_MATTER.split(text)
    except ValueError:
        raise ArticleError(path, 1, "front matter is not closed by a '---' line") from None
    # The front matter text starts with the rest of line 1, so YAML line n is file line n + 1.
    try:
        node, metadata = load_yaml(front_matter)
    except yaml.YAMLError as error:
        line, problem = describe_error(error, front_matter)
        raise ArticleError(path, line, f"invalid YAML in front matter: {problem}") from None
    if node is None:
        raise ArticleError(path, 1, "front matter is empty: it needs at least a title")
    if not isinstance(node, yaml.MappingNode) or not isinstance(metadata, dict):
        raise ArticleError(path, node.start_mark.line + 1, "front matter must be a mapping of keys to values")
    key_lines: dict[str, int] = {}
    for key_node, value_node in node.value:
        key = str(key_node.value)
        if key in key_lines:
            raise ArticleError(path, key_node.start_mark.line + 1, f"key {key!r} appears twice")
        key_lines[key] = key_node.start_mark.line + 1
        if isinstance(value_node, yaml.SequenceNode):
            # Each list entry's own line, as `key[n]`, so a problem with one entry points at it.
            for number, item_node in enumerate(value_node.value):
                key_lines[f"{key}[{number}]"] = item_node.start_mark.line + 1
    body_start_line = text[: len(text) - len(body)].count("\n") + 1
    return metadata, key_lines, body, body_start_line


class FieldReader:
    """Reads typed front-matter fields, recording a located problem for each wrong one."""

    def __init__(self, metadata: dict[str, Any], key_lines: dict[str, int], path: str) -> None:
        self.metadata = metadata
        self.key_lines = key_lines
        self.path = path
        self.problems: list[Problem] = []

    def fail(self, key: str, message: str, severity: Severity = Severity.ERROR) -> None:
        self.problems.append(Problem(self.path, self.key_lines.get(key, 1), severity, message))

    def string(self, key: str, default: str = "") -> str:
        value = self.metadata.get(key)
        if value is None:
            return default
        if not is_text_like(value):
            self.fail(key, f"'{key}' must be text, got {type_name(value)}")
            return default
        return str(value).strip()

    def string_list(self, key: str) -> list[str]:
        value = self.metadata.get(key)
        if value is None:
            return []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            self.fail(key, f"'{key}' must be a list of text, got {type_name(value)}")
            return []
        items = []
        for item in value:
            if not is_text_like(item) and not isinstance(item, bool):
                self.fail(key, f"'{key}' must be a list of text; one item is {type_name(item)}")
                continue
            text = str(item).strip()
            if text:
                items.append(text)
        return items

    def slug_list(self, key: str) -> list[str]:
        slugs = []
        for item in self.string_list(key):
            if SLUG_PATTERN.match(item):
                slugs.append(item)
            else:
                self.fail(key, f"'{key}' entry {item!r} is not a slug (lowercase letters, digits, hyphens)")
        return slugs

    def boolean(self, key: str) -> bool:
        value = self.metadata.get(key, False)
        if isinstance(value, bool):
            return value
        self.fail(key, f"'{key}' must be true or false, got {type_name(value)}")
        return False

    def date(self, key: str) -> datetime.date | None:
        value = self.metadata.get(key)
        if value is None:
            return None
        if isinstance(value, datetime.datetime):
            return value.date()
        if isinstance(value, datetime.date):
            return value
        if is_text_like(value):
            text = str(value).strip()
            for parse in (datetime.date.fromisoformat, lambda text: datetime.datetime.fromisoformat(text).date()):
                try:
                    return parse(text)
                except ValueError:
                    continue
        self.fail(key, f"'{key}' must be a date like 2026-01-31, got {type_name(value)}")
        return None


def is_text_like(value: Any) -> bool:
    """Text, or a number or date that reads as text; never a list, mapping, true/false or binary data."""
    return isinstance(value, (str, int, float, datetime.date)) and not isinstance(value, bool)


def type_name(value: Any) -> str:
    """How a message names a wrong value: its kind for containers, a shortened quote of anything else."""
    names = {dict: "a mapping", list: "a list", bool: "true/false", type(None): "nothing", set: "a set"}
    if type(value) in names:
        return names[type(value)]
    if isinstance(value, (str, int, float)):
        return short.repr(value)
    return f"{type(value).__name__} {short.repr(value)}"
