"""An article as written: the Article type, and validating one file's front matter into it."""

from __future__ import annotations

import datetime
import difflib
import enum
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kb.content.front_matter import TITLE_HEADING, FieldReader, is_text_like, parse_article_text, type_name
from kb.content.generators import adopt_generator_keys, as_order
from kb.content.problems import Problem, Severity
from kb.content.slugs import SLUG_PATTERN, humanize, slugify
from kb.errors import ArticleError


class Visibility(enum.StrEnum):
    """Who may read an article: customers too, or agents only."""

    PUBLIC = "public"
    INTERNAL = "internal"


DEFAULT_CATEGORY = "general"
LOCALE_PATTERN = re.compile(r"^[a-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$")
KEY_LINE = re.compile(r"""^\s*["']?([A-Za-z][\w-]*)["']?\s*:(.*)$""")
HIDING_KEYS = ("visibility", "draft")
# How alike a key must be to a hiding key to be taken for it: 'Visibility', 'visiblity', 'darft'.
HIDING_KEY_LIKENESS = 0.8
FALSE_WORDS = frozenset({"false", "no", "off"})  # YAML's spellings of false
INDEX_STEMS = frozenset({"index", "readme"})  # a folder's own page: its slug is the folder's name
QUESTION_KEYS = frozenset({"question", "section"})
KNOWN_KEYS = frozenset(
    {
        "title",
        "slug",
        "category",
        "tags",
        "summary",
        "aliases",
        "questions",
        "visibility",
        "draft",
        "locale",
        "updated",
        "related",
        "order",
        "unlisted",
    }
)
# How alike an unknown key must be to a known one to be reported as its misspelling on its own line.
MISSPELLING_LIKENESS = 0.8
UNKNOWN_KEY_MESSAGE = "unknown key '{key}' is ignored"


@dataclass
class Article:
    """A valid article as written: metadata from the front matter and the Markdown body."""

    path: str  # relative to the articles folder, with forward slashes
    slug: str
    title: str
    body: str
    body_start_line: int  # file line on which `body` begins
    category: str
    category_name: str
    tags: list[str] = field(default_factory=list)
    summary: str = ""
    aliases: list[str] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)
    question_sections: dict[str, str] = field(default_factory=dict)  # question -> the section it names
    visibility: Visibility = Visibility.PUBLIC
    draft: bool = False
    locale: str = "en"
    updated: datetime.date | None = None
    related: list[str] = field(default_factory=list)
    order: float | None = None  # place in its category's list (lower first); by title when unset
    unlisted: bool = False  # left off the home and category pages, still reachable and searchable
    content_hash: str = ""
    key_lines: dict[str, int] = field(default_factory=dict)
    category_order: int | None = None  # from the category's _category.yml, like the three below
    category_description: str = ""
    category_icon: str = ""

    @property
    def is_public(self) -> bool:
        """Customers may see it: public and not a draft."""
        return self.visibility == Visibility.PUBLIC and not self.draft

    def line_of(self, key: str) -> int:
        """The file line of a front-matter key, or 1 when the key is absent."""
        return self.key_lines.get(key, 1)


def read_article(
    text: str, path: str, category_names: dict[str, str] | None = None
) -> tuple[Article | None, list[Problem]]:
    """Parse and validate one article; returns None with the problems when it cannot be used.

    `category_names` maps a top-level folder to the display name its `_category.yml` gives.
    """
    try:
        metadata, key_lines, body, body_start_line = parse_article_text(text, path)
    except ArticleError as error:
        return None, [Problem(error.path, error.line, Severity.ERROR, error.message)]
    if "title" not in metadata:
        titled = TITLE_HEADING.match(body)
        if titled is not None:  # MkDocs' way: the first line, a '#' heading, is the title
            metadata = {**metadata, "title": titled.group(1).strip()}
            key_lines = {**key_lines, "title": body_start_line + body[: titled.start(1)].count("\n")}
            body_start_line += body[: titled.end()].count("\n")
            body = body[titled.end() :]
    adopted = adopt_generator_keys(metadata, key_lines)
    metadata, key_lines = adopted.metadata, adopted.key_lines
    fields = FieldReader(metadata, key_lines, path)
    for key, note in adopted.notes:
        fields.fail(key, note, severity=Severity.WARNING)
    for key in metadata:
        if key in KNOWN_KEYS or key in adopted.ignored:
            continue
        meant = hiding_key(key)
        if meant is not None:
            # A misspelt key that hides an article must not publish it: fail closed.
            fields.fail(
                str(key),
                f"unknown key '{key}': did you mean '{meant}'? The article is kept from customers "
                f"until the key is spelled '{meant}'",
            )
            continue
        near = difflib.get_close_matches(str(key).lower(), sorted(KNOWN_KEYS), n=1, cutoff=MISSPELLING_LIKENESS)
        if near:
            fields.fail(str(key), f"unknown key '{key}' is ignored: did you mean '{near[0]}'?", Severity.WARNING)
        else:
            # Reported once for the whole help center (see `loading.fold_unknown_keys`).
            fields.fail(str(key), UNKNOWN_KEY_MESSAGE.format(key=key), Severity.WARNING)

    title = fields.string("title")
    if "title" not in metadata:
        fields.fail("title", "missing required key 'title'")
    elif not title:
        fields.fail("title", "'title' must not be empty")

    file_stem = Path(path).stem
    if file_stem.lower() in INDEX_STEMS and len(Path(path).parts) > 1:
        file_stem = Path(path).parts[-2]  # Hugo's page bundles, MkDocs' and Docusaurus' folder pages
    slug = fields.string("slug", default=slugify(file_stem))
    if not SLUG_PATTERN.match(slug):
        if "slug" in metadata:
            fields.fail("slug", f"'slug' {slug!r} must use lowercase letters, digits and single hyphens")
        else:
            fields.fail("title", f"file name {file_stem!r} gives no usable slug; add a 'slug' key")

    folder_parts = Path(path).parts[:-1]
    folder_name = (category_names or {}).get(folder_parts[0]) if folder_parts else None
    category_name = (
        fields.string("category") or folder_name or (humanize(folder_parts[0]) if folder_parts else "General")
    )
    category_source = fields.string("category") or (folder_parts[0] if folder_parts else "")
    category = slugify(category_source) or DEFAULT_CATEGORY

    written = fields.string("visibility", default=Visibility.PUBLIC).lower()
    if written in tuple(Visibility):
        visibility = Visibility(written)
    else:
        fields.fail("visibility", f"'visibility' must be one of {', '.join(Visibility)}, got {written!r}")
        visibility = Visibility.INTERNAL  # fail closed: never publish what the writer may have meant to hide

    locale = fields.string("locale", default="en")
    if not LOCALE_PATTERN.match(locale):
        fields.fail("locale", f"'locale' must be a language tag like en or pt-BR, got {locale!r}")

    questions, question_sections = read_questions(fields)
    article = Article(
        path=path,
        slug=slug,
        title=title,
        body=body,
        body_start_line=body_start_line,
        category=category,
        category_name=category_name,
        tags=fields.string_list("tags"),
        summary=fields.string("summary"),
        aliases=fields.slug_list("aliases"),
        questions=questions,
        question_sections=question_sections,
        visibility=visibility,
        draft=fields.boolean("draft"),
        locale=locale,
        updated=fields.date("updated"),
        related=fields.slug_list("related"),
        order=read_order(fields),
        unlisted=fields.boolean("unlisted"),
        content_hash=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        key_lines=key_lines,
    )
    problems = sorted(fields.problems, key=lambda problem: problem.line or 0)
    if any(problem.is_error for problem in problems):
        return None, problems
    return article, problems


def read_order(fields: FieldReader) -> float | None:
    value = fields.metadata.get("order")
    if value is None:
        return None
    order = as_order(value)  # Jekyll themes often quote it: order: "04"
    if order is None:
        fields.fail("order", f"'order' must be a number, got {type_name(value)}")
    return order


def hiding_key(key: object) -> str | None:
    """'visibility' or 'draft' when `key` is that key or a writer's near miss of it, else None."""
    if not isinstance(key, str):
        return None
    lowered = key.strip().lower()
    for known in HIDING_KEYS:
        if lowered == known or difflib.SequenceMatcher(None, lowered, known).ratio() >= HIDING_KEY_LIKENESS:
            return known
    return None


def value_asks_to_hide(key: str, value: Any) -> bool:
    """Any `visibility` but public, or any `draft` but false."""
    if key == "visibility":
        return not isinstance(value, str) or value.strip().lower() != Visibility.PUBLIC
    return value is not False


def read_questions(fields: FieldReader) -> tuple[list[str], dict[str, str]]:
    """The `questions` entries, and the section each one names.

    An entry is text (`- I forgot my password`), or a mapping that names the section answering it
    (`- {question: the reset link doesn't work, section: the-reset-link-doesnt-work}`). Whether the
    section exists is checked once the body is rendered (see `kb.content.compiler`).
    """
    value = fields.metadata.get("questions")
    if value is None:
        return [], {}
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        fields.fail("questions", f"'questions' must be a list, got {type_name(value)}")
        return [], {}
    questions: list[str] = []
    sections: dict[str, str] = {}
    for number, item in enumerate(value):
        key = f"questions[{number}]"
        if isinstance(item, dict):
            unknown = sorted(str(name) for name in item if name not in QUESTION_KEYS)
            question, section = item.get("question"), item.get("section", "")
            if unknown:
                fields.fail(key, f"unknown key '{unknown[0]}' in a question (known keys: question, section)")
            elif not is_text_like(question) or not str(question).strip():
                fields.fail(key, "a question written as a mapping needs 'question': the customer's words")
            elif not isinstance(section, str) or not section.strip().lstrip("#"):
                fields.fail(key, "'section' must name a section of this article: its anchor or its heading")
            else:
                text = str(question).strip()
                questions.append(text)
                sections[text] = section.strip().lstrip("#")
        elif is_text_like(item) or isinstance(item, bool):
            if str(item).strip():
                questions.append(str(item).strip())
        else:
            fields.fail(
                key, f"'questions' must be a list of text or of question/section mappings; one is {type_name(item)}"
            )
    return questions, sections


def metadata_asks_to_hide(metadata: dict[Any, Any]) -> bool:
    """Whether a `visibility` or `draft` key, or a near miss of one, asks to keep customers from the article."""
    for key, value in metadata.items():
        meant = hiding_key(key)
        if meant is not None and (value is not None or meant == "draft") and value_asks_to_hide(meant, value):
            return True
    return False


def asks_to_hide(text: str) -> bool:
    """Whether an article file, valid or not, asks to keep the article from customers.

    An edit that hides an article must hide it even when the rest of the edit is wrong: when the
    front matter is not valid YAML, its `visibility:` and `draft:` lines are read one by one.
    """
    try:
        metadata, _, _, _ = parse_article_text(text, "")
    except ArticleError:
        return any(line_asks_to_hide(line) for line in front_matter_lines(text))
    return metadata_asks_to_hide(metadata)


def front_matter_lines(text: str) -> list[str]:
    """The lines of the front matter, as far as a broken file lets them be found: up to the closing
    `---`, or to the end of the file when there is none."""
    lines = text.lstrip("\ufeff").splitlines()
    if lines and lines[0].strip() == "---":
        lines = lines[1:]
    end = next((number for number, line in enumerate(lines) if line.strip() == "---"), len(lines))
    return lines[:end]


def line_asks_to_hide(line: str) -> bool:
    match = KEY_LINE.match(line)
    key = hiding_key(match.group(1)) if match is not None else None
    if match is None or key is None:
        return False
    value = match.group(2).split(" #", 1)[0].strip().strip("'\"").strip().lower()
    if key == "visibility":
        return value not in ("", Visibility.PUBLIC)
    return value not in FALSE_WORDS
