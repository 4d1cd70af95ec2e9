"""The home page's popular articles: public ones by views over 30 days, read at most once a minute, never a failure."""

from __future__ import annotations

import datetime
import re
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from indexer.build import build_index
from kb.config import Settings
from kb.store.counters import bump
from kb.store.privacy import today
from tests.conftest import AppFactory, ArticleWriter, FakeEmbedder
from tests.database_faults import refusing_url
from web.popular import CACHE_SECONDS

POPULAR = re.compile(r'<h2 id="popular-heading">Popular articles</h2>\s*<ol class="article-list">(.*?)</ol>', re.S)


def add_views(app: Flask, views: dict[str, int], days_ago: int = 0) -> None:
    """Article views as the search log counts them, `days_ago` days before today."""
    day = today() - datetime.timedelta(days=days_ago)
    with app.extensions["kb_customer_storage"].session(write=True) as session:
        for slug, count in views.items():
            bump(session, "article_views", slug, count, day)


def popular_links(client: FlaskClient) -> list[tuple[str, str]] | None:
    """(href, title) of the home page's popular articles, or None when the page has no such section.

    The first request starts the ranking's read (off the request); the second shows what it read.
    """
    assert client.get("/").status_code == 200
    popular = client.application.extensions["kb_popular"]
    if popular is not None:
        popular.wait(10)
    response = client.get("/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    section = POPULAR.search(page)
    if section is None:
        assert "Popular articles" not in page and "popular-heading" not in page
        return None
    return re.findall(r'<a href="([^"]+)">([^<]+)</a>', section.group(1))


def test_popular_articles_are_the_most_viewed_public_ones_of_the_last_30_days(app: Flask, client: FlaskClient) -> None:
    add_views(app, {"welcome": 4, "reset-password": 7})
    add_views(app, {"welcome": 2, "invoice-basics": 3}, days_ago=29)  # the 30th day back still counts
    add_views(app, {"invoice-basics": 100}, days_ago=30)  # one day too old
    add_views(app, {"refund-escalation-playbook": 500, "upcoming-ai-drafts": 400, "removed-long-ago": 300})
    assert popular_links(client) == [
        ("/articles/reset-password", "Reset your password"),
        ("/articles/welcome", "Welcome to Acme Invoices"),
        ("/articles/invoice-basics", "Invoice basics"),
    ]


def test_the_most_viewed_internal_article_is_never_shown(app: Flask, client: FlaskClient) -> None:
    add_views(app, {"refund-escalation-playbook": 1000, "welcome": 1})
    links = popular_links(client)
    assert links == [("/articles/welcome", "Welcome to Acme Invoices")]
    assert "refund-escalation-playbook" not in client.get("/").get_data(as_text=True)


def test_unlisted_articles_are_not_shown(
    make_app: AppFactory,
    settings: Settings,
    write_article: ArticleWriter,
    articles_dir: Path,
    fake_embedder: FakeEmbedder,
) -> None:
    write_article(
        "billing/old-pricing.md",
        {"title": "Old pricing", "unlisted": True, "updated": "2026-01-01"},
        "x",
        root=articles_dir,
    )
    build_index(settings, fake_embedder, show_progress=False)
    app = make_app(settings)
    add_views(app, {"old-pricing": 50, "invoice-basics": 1})
    assert popular_links(app.test_client()) == [("/articles/invoice-basics", "Invoice basics")]


def test_at_most_six_are_shown(
    make_app: AppFactory,
    settings: Settings,
    write_article: ArticleWriter,
    articles_dir: Path,
    fake_embedder: FakeEmbedder,
) -> None:
    for number in range(1, 9):
        write_article(
            f"billing/topic-{number}.md", {"title": f"Topic {number}", "updated": "2026-01-01"}, "x", root=articles_dir
        )
    build_index(settings, fake_embedder, show_progress=False)
    app = make_app(settings)
    add_views(app, {f"topic-{number}": 10 + number for number in range(1, 9)})
    links = popular_links(app.test_client())
    assert [title for _, title in links or []] == [f"Topic {number}" for number in (8, 7, 6, 5, 4, 3)]


def test_the_ranking_is_read_once_a_minute_not_per_request(app: Flask, client: FlaskClient) -> None:
    popular = app.extensions["kb_popular"]
    now = [1000.0]
    popular.clock = lambda: now[0]
    add_views(app, {"welcome": 2})
    assert popular_links(client) == [("/articles/welcome", "Welcome to Acme Invoices")]
    add_views(app, {"reset-password": 5})
    now[0] += CACHE_SECONDS - 1
    assert popular_links(client) == [("/articles/welcome", "Welcome to Acme Invoices")]  # still the cached list
    now[0] += 1
    with app.app_context():
        assert popular.ranked() == ["welcome"]  # the request that starts the new read does not wait for it
    assert popular_links(client) == [
        ("/articles/reset-password", "Reset your password"),
        ("/articles/welcome", "Welcome to Acme Invoices"),
    ]


def test_an_empty_database_leaves_the_section_out(client: FlaskClient) -> None:
    assert popular_links(client) is None


def test_the_home_page_is_served_without_the_section_when_the_database_is_down(make_app: AppFactory) -> None:
    client = make_app(database_url=refusing_url()).test_client()
    assert popular_links(client) is None
    assert popular_links(client) is None  # and again, from the cache, without waiting on the database


def test_no_section_and_no_database_read_when_the_search_log_is_off(make_app: AppFactory) -> None:
    app = make_app(search_log=False)
    assert app.extensions["kb_popular"] is None
    assert popular_links(app.test_client()) is None


def test_a_database_failure_keeps_the_last_ranking(app: Flask, client: FlaskClient) -> None:
    popular = app.extensions["kb_popular"]
    now = [1000.0]
    popular.clock = lambda: now[0]
    add_views(app, {"invoice-basics": 3})
    assert popular_links(client) == [("/articles/invoice-basics", "Invoice basics")]
    popular.storage = type(popular.storage)(refusing_url())
    now[0] += CACHE_SECONDS
    assert popular_links(client) == [("/articles/invoice-basics", "Invoice basics")]
