"""The HTML site: every page route, its status code and what it shows."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from indexer.build import build_index
from kb.config import Settings
from kb.content.slugs import humanize
from tests.conftest import AppFactory, FakeEmbedder

PUBLIC_CATEGORIES = {"account": 1, "billing": 1, "getting-started": 1}
HIDDEN_TITLES = ("Agent playbook for refund escalations", "AI invoice drafts (coming soon)")


def html(response: TestResponse) -> str:
    assert response.content_type == "text/html; charset=utf-8"
    return response.get_data(as_text=True)


def section(page: str, name: str) -> str:
    """The text of the first element with `class="name"` up to its closing tag of the same kind."""
    match = re.search(r'<(\w+) class="' + re.escape(name) + r'"[^>]*>(.*?)</\1>', page, re.S)
    assert match, f"no element with class {name!r}"
    return match.group(2)


def links(fragment: str) -> list[tuple[str, str]]:
    return re.findall(r'<a href="([^"]*)"[^>]*>([^<]*)</a>', fragment)


def test_home_shows_site_name_categories_and_recent(client: FlaskClient, settings: Settings) -> None:
    response = client.get("/")
    assert response.status_code == 200
    page = html(response)
    assert f"<title>{settings.site_name}</title>" in page
    assert f'<a class="brand" href="/"><span>{settings.site_name}</span></a>' in page
    cards = re.findall(r'<a href="/categories/([^"]+)">([^<]+)</a>\s*<span class="muted">([^<]+)</span>', page)
    assert cards == [(slug, humanize(slug), f"{count} article") for slug, count in PUBLIC_CATEGORIES.items()]
    assert humanize("getting-started") == "Getting started"
    recent = links(section(page, "article-list"))
    assert recent == [
        ("/articles/reset-password", "Reset your password"),
        ("/articles/invoice-basics", "Invoice basics"),
        ("/articles/welcome", "Welcome to Acme Invoices"),
    ]
    assert "A tour of the app for new customers." in page
    for title in HIDDEN_TITLES:
        assert title not in page


def test_search_lists_results_with_section_links(client: FlaskClient) -> None:
    response = client.get("/search", query_string={"q": "reset password"})
    assert response.status_code == 200
    page = html(response)
    assert "3 articles for “reset password”" in page
    results = section(page, "results")
    first = re.search(r'<li class="result">(.*?)</li>', results, re.S)
    assert first is not None
    # Each link names the logged search and the result's position, and keeps the section's anchor.
    token = re.search(r"search=([A-Za-z0-9_-]{16})&amp;result=1#", first.group(1))
    assert token is not None
    tracked = f"/articles/reset-password?search={token.group(1)}&amp;result=1#request-a-reset-link"
    assert links(first.group(1)) == [(tracked, "Reset your password"), (tracked, "Request a reset link")]
    assert f'Section: <a href="{tracked}">' in first.group(1)
    titles = [title for _, title in re.findall(r'<h2><a href="([^"]*)">([^<]*)</a></h2>', results)]
    assert sorted(titles) == ["Invoice basics", "Reset your password", "Welcome to Acme Invoices"]
    assert 'value="reset password"' in page  # the header search box keeps the query


def test_search_escapes_html_in_the_query(client: FlaskClient, settings: Settings) -> None:
    attack = "<script>alert(1)</script>"
    too_long = attack + " " + "a" * settings.max_query_length
    for query, status in ((attack, 200), (f'"><img src=x onerror=alert(1)>{attack}', 200), (too_long, 400)):
        response = client.get("/search", query_string={"q": query})
        assert response.status_code == status
        page = html(response)
        scripts = re.findall(r"<script[^>]*>", page.lower())  # the site's own two files, nothing else
        assert len(scripts) == 2
        assert re.fullmatch(r'<script src="/static/theme\.[0-9a-f]{10}\.js">', scripts[0]), scripts
        assert re.fullmatch(r'<script src="/static/site\.[0-9a-f]{10}\.js" defer>', scripts[1]), scripts
        assert "<img" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_search_without_query_shows_the_prompt(client: FlaskClient) -> None:
    for query in ("", "   "):
        response = client.get("/search", query_string={"q": query})
        assert response.status_code == 200
        page = html(response)
        assert "Type your question in your own words" in page
        assert '<ol class="results">' not in page
    assert "Type your question in your own words" in html(client.get("/search"))


def test_search_with_over_long_query_answers_400(client: FlaskClient, settings: Settings) -> None:
    limit = settings.max_query_length
    response = client.get("/search", query_string={"q": "a" * (limit + 1)})
    assert response.status_code == 400
    page = html(response)
    assert '<p class="notice error" role="alert">' in page
    assert f"the search query is {limit + 1} characters long; the limit is {limit}" in page
    assert client.get("/search", query_string={"q": "a" * limit}).status_code == 200


def test_search_with_no_results_says_so(tmp_path: Path, fake_embedder: FakeEmbedder, make_app: AppFactory) -> None:
    """A help center whose only articles are internal or draft has nothing public to find."""
    source = Path(__file__).parent.parent / "data" / "help_center"
    articles = tmp_path / "hidden-only"
    shutil.copytree(source / "playbooks", articles / "playbooks")
    (articles / "billing").mkdir()
    shutil.copy(source / "billing" / "upcoming-ai-drafts.md", articles / "billing")
    hidden_settings = Settings(articles=articles, index=tmp_path / "hidden-index", data=tmp_path / "data")
    build_index(hidden_settings, fake_embedder, show_progress=False)
    client = make_app(hidden_settings).test_client()
    response = client.get("/search", query_string={"q": "refund escalation"})
    assert response.status_code == 200
    page = html(response)
    assert "No articles match “refund escalation”." in page
    assert '<ol class="results">' not in page
    home = html(client.get("/"))
    assert "No articles have been published yet." in home
    assert "Recently updated" not in home
    for title in HIDDEN_TITLES:
        assert title not in page and title not in home


def test_article_page_renders_body_toc_breadcrumbs_date_and_related(client: FlaskClient) -> None:
    response = client.get("/articles/welcome")
    assert response.status_code == 200
    page = html(response)
    assert "<title>Welcome to Acme Invoices · Ledgerly Help Center</title>" in page
    assert "<h1>Welcome to Acme Invoices</h1>" in page
    body = section(page, "article-body")
    assert "<p>Acme Invoices helps you bill your clients. This tour covers the basics.</p>" in body
    assert '<table tabindex="0">' in body and "<td>Free</td>" in body
    for level, anchor, title in (
        (2, "create-your-workspace", "Create your workspace"),
        (3, "invite-your-team", "Invite your team"),
        (2, "next-steps", "Next steps"),
    ):
        assert f'<h{level} id="{anchor}">{title}' in body
    toc = re.findall(r'<li class="toc-level-(\d)"><a href="#([^"]+)">([^<]+)</a></li>', page)
    assert toc == [
        ("2", "create-your-workspace", "Create your workspace"),
        ("3", "invite-your-team", "Invite your team"),
        ("2", "next-steps", "Next steps"),
    ]
    assert links(section(page, "breadcrumbs")) == [
        ("/", "Help Center"),
        ("/categories/getting-started", "Getting started"),
    ]
    assert '<li aria-current="page">Welcome to Acme Invoices</li>' in page
    assert 'Updated <time datetime="2026-03-01">1 March 2026</time>' in page
    assert links(section(page, "related")) == [
        ("/articles/reset-password", "Reset your password"),
        ("/articles/invoice-basics", "Invoice basics"),
    ]


def test_article_related_lists_only_public_articles(client: FlaskClient) -> None:
    page = html(client.get("/articles/invoice-basics"))
    assert links(section(page, "related")) == [("/articles/welcome", "Welcome to Acme Invoices")]
    for hidden in ("refund-escalation-playbook", "upcoming-ai-drafts", *HIDDEN_TITLES):
        assert hidden not in page


def test_article_alias_redirects_permanently(client: FlaskClient) -> None:
    for alias in ("forgot-password", "lost-password"):
        response = client.get(f"/articles/{alias}")
        assert response.status_code == 301
        assert response.headers["Location"] == "/articles/reset-password"
    followed = client.get("/articles/forgot-password", follow_redirects=True)
    assert followed.status_code == 200
    assert "<h1>Reset your password</h1>" in html(followed)


def test_unknown_article_is_a_friendly_html_404(client: FlaskClient) -> None:
    response = client.get("/articles/no-such-article")
    assert response.status_code == 404
    page = html(response)
    assert "<h1>Page not found</h1>" in page
    assert "We couldn&#39;t find that article. It may have been moved or removed." in page
    assert 'action="/search"' in page
    assert not page.lstrip().startswith("{")


def test_category_page_lists_exactly_its_public_articles(client: FlaskClient) -> None:
    expected = {
        "account": [("/articles/reset-password", "Reset your password")],
        "billing": [("/articles/invoice-basics", "Invoice basics")],
        "getting-started": [("/articles/welcome", "Welcome to Acme Invoices")],
    }
    for slug, articles in expected.items():
        response = client.get(f"/categories/{slug}")
        assert response.status_code == 200
        page = html(response)
        assert f"<h1>{humanize(slug)}</h1>" in page
        assert links(section(page, "article-list")) == articles
    assert "AI invoice drafts" not in html(client.get("/categories/billing"))


def test_unknown_or_hidden_category_is_404(client: FlaskClient) -> None:
    for slug in ("no-such-category", "playbooks"):
        response = client.get(f"/categories/{slug}")
        assert response.status_code == 404
        page = html(response)
        assert "<h1>Page not found</h1>" in page
        assert "We couldn&#39;t find that category." in page


def test_stylesheet_is_served(client: FlaskClient) -> None:
    response = client.get("/static/style.css")
    assert response.status_code == 200
    assert response.mimetype == "text/css"
    assert response.get_data(as_text=True).startswith(":root{--text:")  # minified: no comments
    response.close()


def test_pages_carry_security_headers(client: FlaskClient) -> None:
    for url, status in (("/", 200), ("/articles/welcome", 200), ("/articles/missing", 404)):
        response = client.get(url)
        assert response.status_code == status
        policy = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in policy
        assert "script-src 'self'" in policy
        assert "frame-ancestors 'none'" in policy
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"


def test_a_search_with_no_confident_answer_says_so_and_offers_the_contact_form(client: FlaskClient) -> None:
    page = client.get("/search", query_string={"q": "qwzx plorf"}).get_data(as_text=True)
    assert "We couldn't find a confident answer to “qwzx plorf”." in page
    assert '<h2 class="related-heading">These might be related</h2>' in page
    assert len(re.findall(r'<li class="result">', page)) == 3
    assert '<p class="contact-offer">Still need help? <a href="/contact?q=qwzx+plorf">Contact us</a>' in page
    assert "articles for" not in page and 'class="answer-card"' not in page
    answered = client.get("/search", query_string={"q": "reset password"}).get_data(as_text=True)
    assert "These might be related" not in answered and "contact-offer" not in answered


def test_search_page_highlights_query_words_and_names_the_correction(client: FlaskClient) -> None:
    page = client.get("/search", query_string={"q": "spam foldr"}).get_data(as_text=True)
    assert "Showing results for <strong>spam folder</strong>." in page
    assert "Check your <mark>spam</mark> <mark>folder</mark> and wait five minutes." in page


def test_html_in_a_query_never_reaches_the_snippet_unescaped(client: FlaskClient) -> None:
    page = client.get("/search", query_string={"q": "<b>spam</b> folder"}).get_data(as_text=True)
    assert "<b>spam</b>" not in page
    assert "<mark>spam</mark>" in page


def test_sitemap_lists_public_articles_and_categories_only(client: FlaskClient) -> None:
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    locations = re.findall(r"<loc>([^<]+)</loc>", response.get_data(as_text=True))
    assert locations == [
        "http://localhost/",
        "http://localhost/categories/account",
        "http://localhost/categories/billing",
        "http://localhost/categories/getting-started",
        "http://localhost/articles/invoice-basics",
        "http://localhost/articles/reset-password",
        "http://localhost/articles/welcome",
    ]
    assert "<lastmod>2026-05-10</lastmod>" in response.get_data(as_text=True)
