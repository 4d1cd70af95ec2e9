"""YAML read without surprises: every value it cannot read is a `yaml.YAMLError` with its line, never a crash."""

from __future__ import annotations

import re
import reprlib
from typing import Any

import yaml
from yaml.composer import Composer, ComposerError
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import Resolver
from yaml.scanner import Scanner

LIBYAML = bool(getattr(yaml, "__with_libyaml__", False))  # PyYAML may be built without libyaml
if LIBYAML:
    from yaml.cyaml import CParser  # type: ignore[attr-defined]

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

# Text that libyaml reads otherwise than PyYAML's Python loader: a tab (PyYAML refuses it), a
# byte-order mark or a Unicode line break inside the text, a `?` that may stand in a flow
# collection (PyYAML ends a plain value there: `[why?, how]` is refused).
LIBYAML_DIFFERS = re.compile(r"[\t\ufeff\x85\u2028\u2029]|\?.*[\[{]|[\[{].*\?", re.DOTALL)

short = reprlib.Repr()
short.maxstring = short.maxother = 60
short.maxlist = short.maxtuple = short.maxset = short.maxdict = 5
short.maxlevel = 2


class LimitedComposer(Composer):
    """PyYAML's composer with a limit on nesting.

    PyYAML composes nested values recursively: 5,000 '[' would exhaust Python's stack.
    """

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        self.depth += 1
        try:
            if self.depth > MAX_NESTING:
                mark = self.peek_event().start_mark  # type: ignore[attr-defined]
                raise ComposerError(None, None, f"values are nested more than {MAX_NESTING} levels deep", mark)
            return super().compose_node(parent, index)  # type: ignore[no-any-return]
        finally:
            self.depth -= 1


class LimitedConstructor(SafeConstructor):
    """PyYAML's safe constructor, with a limit on number length and every failure a `yaml.YAMLError`."""

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


LimitedConstructor.add_constructor(  # type: ignore[type-var]
    "tag:yaml.org,2002:int", LimitedConstructor.construct_yaml_int
)


class DatesAsTextResolver(Resolver):
    """PyYAML's resolver, without dates: dates stay text.

    A date that does not exist (`2026-02-30`) would otherwise raise ValueError deep inside PyYAML;
    as text, the field that wants a date reports it on its own line.
    """

    yaml_implicit_resolvers = {
        first: [(tag, pattern) for tag, pattern in resolvers if tag != TIMESTAMP_TAG]
        for first, resolvers in Resolver.yaml_implicit_resolvers.items()
    }


class SafeLoader(Reader, Scanner, Parser, LimitedComposer, LimitedConstructor, DatesAsTextResolver):
    """PyYAML's safe loader, in Python, with the limits above: its error messages are the ones kb explains."""

    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        LimitedComposer.__init__(self)
        LimitedConstructor.__init__(self)
        DatesAsTextResolver.__init__(self)


if LIBYAML:

    class LibyamlLoader(LimitedComposer, CParser, LimitedConstructor, DatesAsTextResolver):  # type: ignore[misc, valid-type]
        """The same loader with libyaml's scanner and parser, several times faster than PyYAML's own.

        Nodes are still composed in Python (`LimitedComposer` comes before `CParser`), so the
        nesting limit holds before anything recursive runs.
        """

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            LimitedComposer.__init__(self)
            LimitedConstructor.__init__(self)
            DatesAsTextResolver.__init__(self)


def load_yaml(text: str) -> tuple[yaml.Node | None, Any]:
    """One YAML document: its node tree (which knows the line of every key and value) and its value.

    libyaml reads it; text that libyaml refuses, or reads otherwise than PyYAML's Python loader
    (`LIBYAML_DIFFERS`), is read by that loader, whose error messages `describe_error` turns into
    plain words: what is refused, and why, stays PyYAML's decision.

    Raises:
        yaml.YAMLError: the text is not valid YAML, or holds a value that cannot be read.
    """
    if LIBYAML and not LIBYAML_DIFFERS.search(text):
        try:
            return load_with(LibyamlLoader, text)
        except (yaml.YAMLError, UnicodeEncodeError):
            pass
    return load_with(SafeLoader, text)


def load_with(loader_class: type[SafeLoader] | type[LibyamlLoader], text: str) -> tuple[yaml.Node | None, Any]:
    loader = loader_class(text)
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
