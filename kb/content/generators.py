"""Front matter written for Jekyll, Hugo, Docusaurus or MkDocs, read as kb's own keys.

A team that moves its Markdown to kb keeps its files as they are: `description` is the summary,
`redirect_from` adds aliases, `hidden` keeps an article off the lists, and keys that only matter
to a site generator's theme (`layout`, `featured`, ...) are ignored without a word.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from typing import Any

from kb.content.slugs import SLUG_PATTERN, humanize, slugify

# kb key -> the keys other generators write for it, most specific first; the kb key itself wins.
ALTERNATIVES: dict[str, tuple[str, ...]] = {
    "summary": ("description", "excerpt"),
    "category": ("categories",),
    "order": ("sidebar_position", "weight", "nav_order"),
    "slug": ("permalink", "url", "id"),
    "updated": ("last_modified_at", "lastmod", "last_update", "date"),
    "unlisted": ("hidden",),
}
# kb key -> keys whose entries are added to it (both lists count).
MERGED: dict[str, tuple[str, ...]] = {"aliases": ("redirect_from",), "tags": ("keywords",)}
# Keys that matter only to a generator, its theme or its search engine: ignored, never reported.
GENERATOR_ONLY_KEYS = frozenset(
    {
        # Jekyll and its common themes and plugins
        "layout", "featured", "popular", "author", "authors", "comments", "excerpt_separator", "image",
        "header", "sidebar", "toc", "toc_label", "toc_icon", "toc_sticky", "classes", "share", "related_posts",
        "nav_exclude", "parent", "grand_parent", "has_children", "has_toc", "search_exclude", "render_with_liquid",
        "sitemap", "lang", "ref", "subtitle", "show_in_nav", "icon", "type", "position", "published",
        # Hugo
        "linkTitle", "menu", "_build", "build", "cascade", "expiryDate", "publishDate", "outputs", "resources",
        "markup", "headless", "isCJKLanguage", "translationKey", "bookToc", "bookHidden", "bookCollapseSection",
        "geekdocHidden", "no_list", "series", "series_weight", "toc_hide", "hide_summary", "simple_list",
        # Docusaurus
        "sidebar_label", "sidebar_class_name", "sidebar_custom_props", "displayed_sidebar", "hide_title",
        "hide_table_of_contents", "toc_min_heading_level", "toc_max_heading_level", "pagination_label",
        "pagination_next", "pagination_prev", "parse_number_prefixes", "custom_edit_url", "tags_list",
        # MkDocs (Material and common plugins)
        "template", "hide", "search", "status", "social", "title_template", "nav_title", "boost", "exclude",
        "render_macros", "ignore_macros", "edit_uri",
    }
)  # fmt: skip
TRUE_WORDS = frozenset({"true", "yes", "on"})


@dataclass
class Adopted:
    """Front matter with other generators' keys renamed to kb's, and what that renaming noticed."""

    metadata: dict[str, Any]
    key_lines: dict[str, int]
    ignored: set[str] = field(default_factory=set)  # generator-only keys, and those a kb key overrides
    notes: list[tuple[str, str]] = field(default_factory=list)  # (key, warning) for a value kb could not use


def last_path_segment(text: str) -> str:
    """The page name in a URL path: '/article/about-providers/' -> 'about-providers', 'a/b.html' -> 'b'."""
    path = text.split("#", 1)[0].split("?", 1)[0].strip().rstrip("/")
    name = path.rsplit("/", 1)[-1]
    return re.sub(r"\.(?:html?|md|mdx|php|aspx?)$", "", name)


def as_slug(text: str) -> str:
    """A slug from a slug, or from a URL path such as a permalink or a redirect (its last segment)."""
    text = text.strip()
    if SLUG_PATTERN.match(text):
        return text
    if "/" in text or text.endswith((".html", ".htm")):
        return slugify(last_path_segment(text))
    return text


def as_date(value: Any) -> datetime.date | str | None:
    """A date from a date, a datetime, `{date: ...}` (Docusaurus) or text starting with YYYY-MM-DD."""
    if isinstance(value, dict):
        value = value.get("date")
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value.strip()[:10])
        except ValueError:
            return None
    return None


def as_order(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def as_flag(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in TRUE_WORDS | {"false", "no", "off"}:
        return value.strip().lower() in TRUE_WORDS
    return None


def first_category(value: Any) -> str | None:
    """Jekyll's `categories` as a list or as space-separated words: its first entry."""
    items = value.split() if isinstance(value, str) else value if isinstance(value, list) else []
    texts = [str(item).strip() for item in items if isinstance(item, (str, int)) and str(item).strip()]
    return texts[0] if texts else None


def convert(kb_key: str, source: str, value: Any) -> tuple[Any, bool]:
    """`value` of the generator key `source` as kb's `kb_key` wants it; (None, False) if unusable."""
    if kb_key == "summary":
        return (str(value).strip(), True) if isinstance(value, (str, int, float)) else (None, False)
    if kb_key == "category":
        category = first_category(value)
        if category is not None and SLUG_PATTERN.match(category):
            category = humanize(category)  # `categories: [account-management]` -> "Account management"
        return category, category is not None
    if kb_key == "order":
        order = as_order(value)
        return order, order is not None
    if kb_key == "slug":
        slug = as_slug(str(value)) if isinstance(value, (str, int)) else ""
        return (slug, True) if SLUG_PATTERN.match(slug) else (None, False)
    if kb_key == "updated":
        date = as_date(value)
        return date, date is not None
    if kb_key == "unlisted":
        flag = as_flag(value)
        return flag, flag is not None
    return None, False


def adopt_generator_keys(metadata: dict[str, Any], key_lines: dict[str, int]) -> Adopted:
    """Rename the keys of other generators to kb's (see ALTERNATIVES and MERGED); kb's own keys win.

    A generator key whose value kb cannot use is skipped with a warning, never an error: the
    writer wrote it for another tool. Path-like slugs and aliases (`/article/old-name/`) become
    the slug of their last segment, in kb's keys too.
    """
    adopted = Adopted(dict(metadata), dict(key_lines))
    result, lines = adopted.metadata, adopted.key_lines
    for kb_key, sources in ALTERNATIVES.items():
        for source in sources:
            if source not in metadata:
                continue
            adopted.ignored.add(source)
            if kb_key in result:
                continue  # kb's own key, or a more specific generator key, already says it
            value, usable = convert(kb_key, source, metadata[source])
            if usable:
                result[kb_key] = value
                lines[kb_key] = key_lines.get(source, 1)
            elif metadata[source] not in (None, "", []):
                adopted.notes.append((source, f"'{source}' ({kb_key}) has a value kb cannot use; it is ignored"))
    for kb_key, sources in MERGED.items():
        for source in (source for source in sources if source in metadata):
            adopted.ignored.add(source)
            extra = metadata[source]
            extra = [extra] if isinstance(extra, str) else extra if isinstance(extra, list) else []
            own = result.get(kb_key)
            own = [own] if isinstance(own, str) else own if isinstance(own, list) else []
            result[kb_key] = [*own, *extra]
            lines.setdefault(kb_key, key_lines.get(source, 1))
    if "draft" not in metadata and as_flag(metadata.get("published")) is False:
        result["draft"] = True  # Jekyll's `published: false`
        lines["draft"] = key_lines.get("published", 1)
    if isinstance(result.get("slug"), str) and "/" in result["slug"]:
        result["slug"] = as_slug(result["slug"]) or None
        if result["slug"] is None:
            del result["slug"]  # Docusaurus' `slug: /` (the home page): the file name gives it
    if isinstance(result.get("aliases"), list):
        result["aliases"] = [as_slug(item) if isinstance(item, str) else item for item in result["aliases"]]
    adopted.ignored |= {key for key in metadata if key in GENERATOR_ONLY_KEYS}
    return adopted
