"""Markdown to safe HTML: Python-Markdown, links between articles resolved, then nh3 with an allow-list."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from html import unescape
from xml.etree.ElementTree import Element

import markdown
import nh3
from markdown.extensions import Extension
from markdown.extensions.tables import TableExtension
from markdown.extensions.toc import TocExtension
from markdown.extensions.toc import slugify as heading_slugify
from markdown.treeprocessors import Treeprocessor

from kb.content.anchors import HeadingAnchorsExtension
from kb.content.dialects import translate

ADMONITION_KINDS = {
    "note",
    "tip",
    "hint",
    "info",
    "important",
    "warning",
    "caution",
    "attention",
    "danger",
    "error",
    "success",
}
CODE_LANGUAGES = {
    "bash",
    "sh",
    "shell",
    "console",
    "json",
    "yaml",
    "xml",
    "html",
    "css",
    "javascript",
    "js",
    "typescript",
    "python",
    "ruby",
    "php",
    "java",
    "go",
    "csharp",
    "sql",
    "http",
    "text",
    "plaintext",
    "ini",
    "toml",
    "curl",
}
ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "caption",
    "code",
    "dd",
    "del",
    "details",
    "div",
    "dl",
    "dt",
    "em",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "ins",
    "kbd",
    "li",
    "mark",
    "ol",
    "p",
    "pre",
    "s",
    "samp",
    "small",
    "span",
    "strong",
    "sub",
    "summary",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "u",
    "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "id"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "h2": {"id"},
    "h3": {"id"},
    "h4": {"id"},
    "h5": {"id"},
    "h6": {"id"},
    "li": {"id"},
    "sup": {"id"},
    "ol": {"start"},
    "div": {"id"},
}
ALIGNMENTS = ("left", "center", "right")
ALLOWED_CLASSES = {
    "td": {f"align-{side}" for side in ALIGNMENTS},
    "th": {f"align-{side}" for side in ALIGNMENTS},
    "div": ADMONITION_KINDS | {"admonition", "footnote"},
    "p": {"admonition-title"},
    "a": {"headerlink", "footnote-ref", "footnote-backref"},
    "code": {f"language-{language}" for language in CODE_LANGUAGES},
}
URL_SCHEMES = {"http", "https", "mailto", "tel"}
SECTION_LEVELS = {"h2", "h3"}
BLOCK_TAGS = {
    "p",
    "li",
    "tr",
    "div",
    "pre",
    "blockquote",
    "dt",
    "dd",
    "table",
    "ul",
    "ol",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "br",
    "hr",
}

# A tag as `sanitize_html` writes it; a quoted attribute value may hold a `>`.
TAG = re.compile(r"""<(/?)([a-zA-Z][^\t\n\r\f />]*)((?:[^>"']|"[^"]*"|'[^']*')*)>""")
ATTRIBUTE = re.compile(r"""([^\s=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?""")
WHITESPACE = re.compile(r"\s+")

LinkResolver = Callable[[str], "str | None"]


@dataclass(frozen=True)
class Heading:
    level: int
    anchor: str
    title: str


@dataclass(frozen=True)
class Section:
    """The text under one H2/H3 heading (or before the first heading, with an empty anchor)."""

    anchor: str
    title: str
    level: int
    heading_path: tuple[str, ...]
    text: str


@dataclass
class RenderedBody:
    html: str
    headings: list[Heading]
    sections: list[Section]
    unresolved_links: list[str] = field(default_factory=list)
    unresolved_images: list[str] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)  # template tags not understood, kept off the page


class ArticleLinks(Treeprocessor):
    """Points links between articles (`other.md#part`, or a slug) and images at their site URLs.

    The converter is reused from article to article: `render_markdown` sets the resolvers and the
    body whose lists it fills before each one.
    """

    def __init__(self, md: markdown.Markdown) -> None:
        super().__init__(md)
        self.links: LinkResolver | None = None
        self.images: LinkResolver | None = None
        self.rendered = RenderedBody(html="", headings=[], sections=[])

    def run(self, root: Element) -> None:
        if self.links is None and self.images is None:
            return
        for element in root.iter():
            if element.tag == "a" and self.links is not None:
                self.rewrite(element, "href", self.links, self.rendered.unresolved_links)
            elif element.tag == "img" and self.images is not None:
                self.rewrite(element, "src", self.images, self.rendered.unresolved_images)

    @staticmethod
    def rewrite(element: Element, attribute: str, resolver: LinkResolver, unresolved: list[str]) -> None:
        target = element.get(attribute)
        if not target:
            return
        resolved = resolver(target)
        if resolved is None:
            unresolved.append(target)
        elif not resolved:  # not to be shown: only the link's text stays
            element.attrib.clear()
            element.tag = "span"
        elif resolved != target:
            element.set(attribute, resolved)


class TableAlignment(Treeprocessor):
    """Turns a table column's alignment into a class the stylesheet styles: the CSP forbids inline styles."""

    def run(self, root: Element) -> None:
        for element in root.iter():
            side = element.attrib.pop("align", None) if element.tag in ("th", "td") else None
            if side in ALIGNMENTS:
                element.set("class", f"align-{side}")


class TableAlignmentExtension(Extension):
    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 (Python-Markdown's name)
        md.treeprocessors.register(TableAlignment(md), "table_alignment", 2)


class Converter:
    """A Python-Markdown converter with kb's extensions, and its link rewriter.

    Building one costs about as much as rendering a short article, so each thread builds one and
    resets it between articles (Python-Markdown's documented way to convert many documents).
    """

    def __init__(self) -> None:
        self.markdown = markdown.Markdown(
            extensions=[
                TableExtension(use_align_attribute=True),
                TableAlignmentExtension(),
                "fenced_code",
                "admonition",
                "sane_lists",
                "def_list",
                "abbr",
                "footnotes",
                "md_in_html",  # the body of a callout (see kb.content.dialects) is Markdown inside a <div>
                TocExtension(
                    slugify=heading_slugify, permalink="#", permalink_title="Link to this section", toc_depth="2-3"
                ),
                HeadingAnchorsExtension(),
            ],
            output_format="html",
        )
        self.links = ArticleLinks(self.markdown)
        self.markdown.treeprocessors.register(self.links, "article_links", 1)

    def convert(
        self, text: str, resolver: LinkResolver | None, image_resolver: LinkResolver | None, rendered: RenderedBody
    ) -> str:
        """`text` as HTML (not yet sanitized), its unresolved links and images recorded in `rendered`."""
        self.links.links, self.links.images, self.links.rendered = resolver, image_resolver, rendered
        try:
            return self.markdown.reset().convert(text)
        finally:
            self.links.links = self.links.images = None


converters = threading.local()


def converter() -> Converter:
    """This thread's converter: a Python-Markdown instance holds the state of the document it converts."""
    if not hasattr(converters, "converter"):
        converters.converter = Converter()
    return converters.converter  # type: ignore[no-any-return]


def render_markdown(
    body: str, resolver: LinkResolver | None = None, image_resolver: LinkResolver | None = None
) -> RenderedBody:
    """Render an article body to sanitized HTML, with its headings and its sections as plain text.

    `resolver` maps each link target to its final URL, to itself when it is no article link,
    to None when it names an article or file that does not exist, or to "" when the link must
    not be shown (its text stays, as a span); `image_resolver` does the same for image sources.
    """
    rendered = RenderedBody(html="", headings=[], sections=[])
    translated = translate(body)
    rendered.left_out = translated.left_out
    rendered.html = sanitize_html(converter().convert(translated.text, resolver, image_resolver, rendered))
    rendered.headings, rendered.sections = split_sections(rendered.html)
    return rendered


def sanitize_html(html: str) -> str:
    """Keep only the allow-listed tags, attributes, classes and URL schemes."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        clean_content_tags={"script", "style", "iframe", "object", "embed", "template", "noscript"},
        attributes=ALLOWED_ATTRIBUTES,
        allowed_classes=ALLOWED_CLASSES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
        # Code and tables scroll sideways on a narrow screen: keyboard users must be able to reach them (WCAG 2.1.1).
        set_tag_attribute_values={"pre": {"tabindex": "0"}, "table": {"tabindex": "0"}},
    )


class SectionSplitter:
    """Cuts sanitized HTML into sections at each H2/H3, collecting their plain text.

    It reads only what `sanitize_html` writes (html5ever's serialization: no comments, no scripts,
    `<` and `>` in text escaped, attribute values in double quotes), so a regular expression finds
    its tags: `html.parser.HTMLParser`, which copes with any HTML, took as long as rendering.
    """

    def __init__(self) -> None:
        self.headings: list[Heading] = []
        self.sections: list[Section] = []
        self.current_h2 = ""
        self.anchor = ""
        self.title = ""
        self.level = 0
        self.heading_path: tuple[str, ...] = ()
        self.parts: list[str] = []
        self.heading_tag: str | None = None
        self.heading_anchor = ""
        self.heading_parts: list[str] = []
        self.skip_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if self.skip_depth or (tag == "a" and "headerlink" in (attributes.get("class") or "")):
            self.skip_depth += 1 if tag == "a" else 0
            return
        if tag in SECTION_LEVELS:
            self.heading_tag = tag
            self.heading_anchor = attributes.get("id") or ""
            self.heading_parts = []
        elif tag in BLOCK_TAGS or tag in ("td", "th"):
            self.write(" " if tag in ("td", "th") else "\n")

    def handle_endtag(self, tag: str) -> None:
        if self.skip_depth:
            if tag == "a":
                self.skip_depth -= 1
            return
        if tag == self.heading_tag:
            title = normalize_space("".join(self.heading_parts))
            self.flush()
            level = int(tag[1])
            if level == 2:
                self.current_h2 = title
                self.heading_path = (title,)
            else:
                self.heading_path = (self.current_h2, title) if self.current_h2 else (title,)
            self.anchor, self.title, self.level = self.heading_anchor, title, level
            self.headings.append(Heading(level, self.heading_anchor, title))
            self.heading_tag = None
        elif tag in BLOCK_TAGS:
            self.write("\n")

    def handle_data(self, data: str) -> None:
        if self.skip_depth:
            return
        if self.heading_tag:
            self.heading_parts.append(data)
        else:
            self.write(data)

    def write(self, text: str) -> None:
        self.parts.append(text)

    def flush(self) -> None:
        text = clean_text("".join(self.parts))
        if text:
            self.sections.append(Section(self.anchor, self.title, self.level, self.heading_path, text))
        self.parts = []

    def feed(self, html: str) -> None:
        """Hand each tag and each run of text between tags (character references resolved) to its handler."""
        position = 0
        for match in TAG.finditer(html):
            if match.start() > position:
                self.handle_data(unescape(html[position : match.start()]))
            closing, name, rest = match.groups()
            name = name.lower()
            if closing:
                self.handle_endtag(name)
            else:
                self.handle_starttag(name, tag_attributes(rest))
                if rest.endswith("/"):
                    self.handle_endtag(name)
            position = match.end()
        if position < len(html):
            self.handle_data(unescape(html[position:]))


def tag_attributes(text: str) -> list[tuple[str, str | None]]:
    """`id="a&amp;b" hidden` -> [("id", "a&b"), ("hidden", None)], as `HTMLParser` hands them over."""
    if not text.strip():
        return []
    return [
        (name.lower(), None if value is None else unescape(value))
        for name, value in (
            (match.group(1), next((group for group in match.groups()[1:] if group is not None), None))
            for match in ATTRIBUTE.finditer(text)
        )
        if name != "/"
    ]


def split_sections(html: str) -> tuple[list[Heading], list[Section]]:
    splitter = SectionSplitter()
    splitter.feed(html)
    splitter.flush()
    return splitter.headings, splitter.sections


def normalize_space(text: str) -> str:
    return WHITESPACE.sub(" ", text).strip()


def clean_text(text: str) -> str:
    """Collapse runs of spaces within lines and of blank lines between them."""
    lines = (normalize_space(line) for line in text.splitlines())
    return "\n".join(line for line in lines if line)
