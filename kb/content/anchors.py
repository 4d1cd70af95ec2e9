"""Heading anchors: ids written in the heading (`## Setup {#setup}`), and the kramdown and GitHub forms.

kb's own anchor of a heading is Python-Markdown's (`## Users & groups` -> `#users-groups`). Sites
built with Jekyll (kramdown) or on GitHub, Hugo and Docusaurus (GitHub's rules) made other ids
(`#users--groups`), and links to them are everywhere: in other articles, in old emails, in
bookmarks. Each heading also carries those ids, on an empty anchor, so such links still land.
"""

from __future__ import annotations

import re
import unicodedata
from xml.etree.ElementTree import Element

import markdown
from markdown.extensions import Extension
from markdown.extensions.toc import unescape
from markdown.treeprocessors import Treeprocessor
from markdown.util import HTML_PLACEHOLDER_RE

HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
WRITTEN_ID = re.compile(r"\s*\{#([A-Za-z][\w-]*)\}\s*$")


def kramdown_id(text: str) -> str:
    """kramdown's automatic header id: leading non-letters and every character but ASCII letters,
    digits, spaces and hyphens dropped, spaces as hyphens, lowercase; 'section' when nothing is left."""
    text = re.sub(r"^[^a-zA-Z]+", "", text)
    text = re.sub(r"[^a-zA-Z0-9 -]", "", text).replace(" ", "-").lower()
    return text or "section"


def github_id(text: str) -> str:
    """GitHub's (and Hugo's and Docusaurus') heading id: lowercase, punctuation dropped, spaces as hyphens."""
    lowered = text.strip().lower()
    kept = "".join(
        character
        for character in lowered
        if character in " -_" or unicodedata.category(character)[0] in ("L", "N", "M")
    )
    return kept.replace(" ", "-")


class WrittenIds(Treeprocessor):
    """`## Heading {#custom-id}` (kramdown, Hugo, Pandoc): the heading takes that id, the text loses it."""

    def run(self, root: Element) -> None:
        for element in root.iter():
            if element.tag not in HEADINGS:
                continue
            last = list(element)[-1] if len(element) else None
            text = (last.tail if last is not None else element.text) or ""
            match = WRITTEN_ID.search(text)
            if match is None:
                continue
            stripped = text[: match.start()]
            if last is not None:
                last.tail = stripped
            else:
                element.text = stripped
            element.set("id", match.group(1))


class OtherGeneratorIds(Treeprocessor):
    """After the table of contents gave each heading its id: the kramdown and GitHub ids as well."""

    def run(self, root: Element) -> None:
        headings = [element for element in root.iter() if element.tag in HEADINGS]
        taken = {element.get("id") for element in headings}
        counters: dict[str, dict[str, int]] = {"kramdown": {}, "github": {}}
        for element in headings:
            text = heading_text(element)
            extra: list[str] = []
            for style, make in (("kramdown", kramdown_id), ("github", github_id)):
                base = make(text)
                seen = counters[style].get(base, -1) + 1
                counters[style][base] = seen
                anchor = base if seen == 0 else f"{base}-{seen}"
                if anchor and anchor not in taken:
                    extra.append(anchor)
                    taken.add(anchor)
            for anchor in reversed(extra):
                marker = Element("a", {"id": anchor})
                marker.tail = element.text
                element.text = None
                element.insert(0, marker)


def heading_text(element: Element) -> str:
    """The heading's words as a reader sees them, without the permalink the table of contents added."""
    parts: list[str] = [element.text or ""]
    for child in element:
        if "headerlink" not in (child.get("class") or ""):
            parts.append("".join(child.itertext()))
        parts.append(child.tail or "")
    return unescape(HTML_PLACEHOLDER_RE.sub("", "".join(parts))).strip()


class HeadingAnchorsExtension(Extension):
    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 (Python-Markdown's name)
        md.treeprocessors.register(WrittenIds(md), "written_ids", 8)  # before the table of contents (5)
        md.treeprocessors.register(OtherGeneratorIds(md), "other_generator_ids", 4)
