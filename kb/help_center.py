"""What a reader can browse in one published index: articles, categories, related and recent ones."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from kb.index.format import ArticleRecord, PublishedIndex
from kb.search.result_cache import CachedAnswer, ResultCache
from kb.search.service import Audience, SearchResponse, SearchService


@dataclass(frozen=True)
class Category:
    slug: str
    name: str
    article_count: int
    description: str = ""
    icon: str = ""
    order: int | None = None


def by_order(order: float | None, name: str) -> tuple[bool, float, str]:
    """Sort key: what has an `order` first, by it, then the rest by name."""
    return (order is None, order or 0.0, name.lower())


class HelpCenter:
    """A published index seen by one kind of reader at a time (see `Audience`)."""

    def __init__(self, index: PublishedIndex, search_service: SearchService, result_cache_size: int = 0) -> None:
        self.index = index
        self.search_service = search_service
        self.media_by_audience: dict[Audience, frozenset[str]] = {}
        self.result_cache = ResultCache(result_cache_size)  # this build's answers only: a new build starts empty

    @property
    def build_id(self) -> str:
        return self.index.manifest.build_id

    def search(self, query: str, k: int | None = None, audience: Audience = Audience.PUBLIC) -> SearchResponse:
        """The answer to `query` (shared and frozen: never change it); see `SearchService.search`."""
        return self.search_answer(query, k, audience).response

    def search_answer(
        self, query: str, k: int | None = None, audience: Audience = Audience.PUBLIC, mode: str | None = None
    ) -> CachedAnswer:
        """The answer to `query` with its API JSON, from this build's result cache when asked before.

        Raises:
            QueryError: the query is empty or too long, `k` is out of range, or `mode` is unknown.
        """
        return self.result_cache.search(
            query, k, audience, mode, lambda: self.search_service.search(query, k, audience, mode)
        )

    def suggest(self, message: str, k: int | None = None, audience: Audience = Audience.AGENT) -> SearchResponse:
        """Articles to send in answer to a customer's message (shared and frozen); see `SearchService.suggest`.

        Raises:
            QueryError: the message is empty, or nothing is left of it once cleaned.
        """
        return self.result_cache.suggest(
            message, k, audience, lambda: self.search_service.suggest(message, k, audience)
        ).response

    def articles(self, audience: Audience = Audience.PUBLIC) -> list[ArticleRecord]:
        """Visible articles, sorted by title."""
        visible = [record for record in self.index.articles.values() if audience.may_see(record)]
        return sorted(visible, key=lambda record: record.title.lower())

    def article(self, slug: str, audience: Audience = Audience.PUBLIC) -> ArticleRecord | None:
        """The article `slug` if this audience may see it; hidden and missing look the same."""
        record = self.index.articles.get(slug)
        return record if record is not None and audience.may_see(record) else None

    def renamed_to(self, old_slug: str, audience: Audience = Audience.PUBLIC) -> str | None:
        """The current slug of an article once published as `old_slug`, if visible."""
        slug = self.index.aliases.get(old_slug)
        return slug if slug is not None and self.article(slug, audience) is not None else None

    def article_or_renamed(self, slug: str, audience: Audience = Audience.PUBLIC) -> ArticleRecord | None:
        """The article `slug`, or the article that once had that slug."""
        return self.article(slug, audience) or self.article(self.renamed_to(slug, audience) or "", audience)

    def media(self, audience: Audience = Audience.PUBLIC) -> frozenset[str]:
        """Paths of the images and attachments that articles this audience may see show."""
        if audience not in self.media_by_audience:
            self.media_by_audience[audience] = frozenset(
                path for record in self.articles(audience) for path in record.media
            )
        return self.media_by_audience[audience]

    def listed(self, audience: Audience = Audience.PUBLIC) -> list[ArticleRecord]:
        """The visible articles that lists show: all but the `unlisted` ones."""
        return [record for record in self.articles(audience) if not record.unlisted]

    def listed_among(self, slugs: list[str], audience: Audience = Audience.PUBLIC) -> list[ArticleRecord]:
        """The articles named by `slugs` that lists may show this audience, in the order given.

        Slugs from elsewhere (the view counters) may name internal, draft, unlisted or removed
        articles: those are left out, so a list never links to a page the reader cannot open.
        """
        found = (self.article(slug, audience) for slug in slugs)
        return [record for record in found if record is not None and not record.unlisted]

    def categories(self, audience: Audience = Audience.PUBLIC) -> list[Category]:
        """Categories with listed articles, in their `_category.yml` order, then by name."""
        visible = self.listed(audience)
        counts = Counter(record.category for record in visible)
        first = {record.category: record for record in reversed(visible)}
        found = [
            Category(
                slug,
                first[slug].category_name,
                count,
                first[slug].category_description,
                first[slug].category_icon,
                first[slug].category_order,
            )
            for slug, count in counts.items()
        ]
        return sorted(found, key=lambda category: by_order(category.order, category.name))

    def category(self, slug: str, audience: Audience = Audience.PUBLIC) -> Category | None:
        return next((category for category in self.categories(audience) if category.slug == slug), None)

    def in_category(self, slug: str, audience: Audience = Audience.PUBLIC) -> list[ArticleRecord]:
        """The category's listed articles in their `order` (lowest first), then by title."""
        found = [record for record in self.listed(audience) if record.category == slug]
        return sorted(found, key=lambda record: by_order(record.order, record.title))

    def recently_updated(self, count: int, audience: Audience = Audience.PUBLIC) -> list[ArticleRecord]:
        dated = [record for record in self.listed(audience) if record.updated]
        return sorted(dated, key=lambda record: (record.updated or "", record.title), reverse=True)[:count]

    def related(
        self, record: ArticleRecord, audience: Audience = Audience.PUBLIC, count: int = 3
    ) -> list[ArticleRecord]:
        """The article's `related` list, else up to `count` recent articles of its category."""
        chosen = [self.article(slug, audience) for slug in record.related]
        visible = [item for item in chosen if item is not None]
        if visible:
            return visible
        neighbours = [item for item in self.in_category(record.category, audience) if item.slug != record.slug]
        return sorted(neighbours, key=lambda item: item.updated or "", reverse=True)[:count]
