"""The answer card: the section that answers a query, shown inline above the results when search is sure of it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from kb.content.rendering import sanitize_html
from kb.index.format import ArticleRecord
from kb.urls import article_url

# The headings a rendered article is cut into sections at (see kb.content.rendering.SectionSplitter).
SECTION_HEADING = re.compile(r"<h([23])\b[^>]*>.*?</h\1>", re.DOTALL | re.IGNORECASE)
HEADING_ID = re.compile(r"""\bid\s*=\s*["']([^"']*)["']""")


@dataclass(frozen=True)
class AnswerCard:
    slug: str
    title: str  # the article's title
    section: str  # the section's title, '' for the article's introduction
    url: str  # the article at the section's anchor
    html: str  # the section's body, sanitized

    @property
    def markup(self) -> Markup:
        """The section's body for a template: sanitized when the card was made, so safe to insert."""
        return Markup(self.html)  # sanitize_html made it safe

    def to_json(self) -> dict[str, Any]:
        return {"slug": self.slug, "title": self.title, "section": self.section, "url": self.url, "html": self.html}


def section_html(article_html: str, anchor: str) -> str:
    """The sanitized body of one section of a rendered article: after its heading, up to the next H2 or H3.

    `anchor` '' is the introduction, before the first heading; an anchor the article lacks gives ''.
    """
    headings = list(SECTION_HEADING.finditer(article_html))
    if not anchor:
        start = 0
        end = headings[0].start() if headings else len(article_html)
    else:
        position = next(
            (number for number, heading in enumerate(headings) if heading_anchor(heading.group(0)) == anchor), None
        )
        if position is None:
            return ""
        start = headings[position].end()
        end = headings[position + 1].start() if position + 1 < len(headings) else len(article_html)
    return sanitize_html(article_html[start:end]).strip()


def heading_anchor(heading: str) -> str:
    opening = heading[: heading.index(">")]
    found = HEADING_ID.search(opening)
    return found.group(1) if found else ""


def answer_card(article: ArticleRecord, anchor: str, section: str) -> AnswerCard | None:
    """The card of a public article's section, or None when the article is not public or the section is empty."""
    if not article.is_public:
        return None
    html = section_html(article.html, anchor)
    if not html:
        return None
    return AnswerCard(article.slug, article.title, section, article_url(article.slug, anchor), html)
