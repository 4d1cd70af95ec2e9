"""YAML read without surprises: every value it cannot read is a `yaml.YAMLError` with its line, never a crash."""

from __future__ import annotations

import reprlib
from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError

MAX_NESTING = 20  # levels of lists and mappings inside each other; deeper is never front matter
MAX_NUMBER_DIGITS = 100  # Python refuses to print integers of more than 4300 digits
TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
KINDS = {
    "tag:yaml.org,2002:int": "a whole number",
    "tag:yaml.org,2002:float": "a number",
    TIMESTAMP_TAG: "a date",
    "tag:yaml.org,2002:bool": "true or false",
    "tag:yaml.org,2002:binary": "binary data",
}

short = reprlib.Repr()
short.maxstring = short.maxother = 60
short.maxlist = short.maxtuple = short.maxset = short.maxdict = 5
short.maxlevel = 2


class SafeLoader(yaml.SafeLoader):
    """PyYAML's safe loader, with limits on nesting and number length; dates stay text.

    A date that does not exist (`2026-02-30`) would otherwise raise ValueError deep inside PyYAML;
    as text, the field that wants a date reports it on its own line.
    """

    yaml_implicit_resolvers = {
        first: [(tag, pattern) for tag, pattern in resolvers if tag != TIMESTAMP_TAG]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        # PyYAML composes nested values recursively: 5,000 '[' would exhaust Python's stack.
        self.depth += 1
        try:
            if self.depth > MAX_NESTING:
                mark = self.peek_event().start_mark
                raise ComposerError(None, None, f"values are nested more than {MAX_NESTING} levels deep", mark)
            return super().compose_node(parent, index)  # type: ignore[no-any-return]
        finally:
            self.depth -= 1

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except yaml.YAMLError:
            raise
        except (ValueError, TypeError, AttributeError, OverflowError) as error:
            kind = KINDS.get(node.tag, node.tag)
            raise ConstructorError(
                None, None, f"cannot read {short.repr(node.value)} as {kind}", node.start_mark
            ) from error

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        if sum(character.isalnum() for character in str(node.value)) > MAX_NUMBER_DIGITS:
            raise ConstructorError(None, None, f"a number may have at most {MAX_NUMBER_DIGITS} digits", node.start_mark)
        return super().construct_yaml_int(node)  # type: ignore[no-any-return]


SafeLoader.add_constructor("tag:yaml.org,2002:int", SafeLoader.construct_yaml_int)


def load_yaml(text: str) -> tuple[yaml.Node | None, Any]:
    """One YAML document: its node tree (which knows the line of every key and value) and its value.

    Raises:
        yaml.YAMLError: the text is not valid YAML, or holds a value that cannot be read.
    """
    loader = SafeLoader(text)
    try:
        node = loader.get_single_node()
        return node, (loader.construct_document(node) if node is not None else None)
    finally:
        loader.dispose()


def describe_error(error: yaml.YAMLError, text: str = "") -> tuple[int, str]:
    """The line (1-based, within the YAML text `text`) of a YAML error and what is wrong, in plain words.

    PyYAML notices an unclosed quote or bracket only where the text ends or the next key starts,
    one line or more after the mistake: the line that opened it is the one reported.
    """
    mark = getattr(error, "problem_mark", None)
    line = mark.line + 1 if mark is not None else 1
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    context = getattr(error, "context", None) or ""
    context_mark = getattr(error, "context_mark", None)
    opened = context_mark.line + 1 if context_mark is not None else line
    lines = text.split("\n")
    written = lines[line - 1] if 0 < line <= len(lines) else ""
    if "quoted scalar" in context:
        return opened, "a quote opened on this line is never closed: end the value with the same quote mark"
    if "flow sequence" in context or "flow mapping" in context:
        bracket, closing = ("[", "]") if "sequence" in context else ("{", "}")
        return opened, f"the '{bracket}' opened on this line is never closed with '{closing}'"
    if "simple key" in context:
        return (
            opened,
            "this line is neither 'key: value' nor a list entry '- value' (a ':' or a space after '-' missing?)",
        )
    if "'\\t'" in problem:
        return line, "a tab character: YAML indents with spaces only"
    if problem.startswith("mapping values are not allowed"):
        if written[:1].isspace():
            return line, "this line is indented more than the key above it: remove the spaces at its start"
        return line, "the value contains ': ': put the whole value in quotes (title: \"Billing: refunds\")"
    if problem.startswith("found character") and "cannot start any token" in problem:
        character = problem.split("'")[1] if "'" in problem else "this character"
        return line, f"a value cannot start with '{character}': put the whole value in quotes"
    if problem.startswith("expected <block end>") or problem.startswith("did not find expected key"):
        return line, "text after a quoted value, or a line indented differently from the keys around it"
    if context and opened != line:
        problem += f" ({context} on line {opened})"
    return line, problem
