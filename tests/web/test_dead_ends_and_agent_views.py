"""Helpful dead ends (404 pages that suggest articles, plain words instead of Werkzeug's) and the agent views:
article links kept in the agent area, the workspace header, copy actions, the most-linked page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from kb.store.database import Storage
from tests.conftest import AppFactory, sign_in

WERKZEUG_TEXT = ("requested URL was not found", "check your spelling", "The method is not allowed")


def suggestion_links(page: str) -> list[str]:
    if 'class="card suggestions"' not in page:
        return []
    block = page.split('class="card suggestions"')[1].split("</section>")[0]
    return re.findall(r'<a href="([^"]+)">', block)


def test_an_unknown_article_slug_suggests_articles_for_its_words(client: FlaskClient) -> None:
    response = client.get("/articles/reset-my-pasword")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    links = suggestion_links(page)
    assert links and links[0].startswith("/articles/reset-password"), links
    assert 'value="reset my pasword"' in page  # the search box holds the slug's words
    assert page.count('role="search"') == 1 and 'aria-label="Search the help center"' in page


def test_a_404_page_has_one_search_landmark_and_it_has_a_name(client: FlaskClient) -> None:
    """The issue: the 404 page had two search landmarks, neither labelled (axe: landmark-unique)."""
    for url in ("/nope/whatever", "/articles/no-such-article"):
        page = client.get(url).get_data(as_text=True)
        landmarks = re.findall(r'<[a-z]+ [^>]*role="search"[^>]*>', page)
        assert len(landmarks) == 1, (url, landmarks)
        assert 'aria-label="Search the help center"' in landmarks[0], (url, landmarks)


def test_unknown_urls_answer_a_friendly_page_without_werkzeugs_developer_text(client: FlaskClient) -> None:
    for url, method, status, words in (
        ("/nope/whatever", "GET", 404, "We couldn&#39;t find that page."),
        ("/search", "POST", 405, "That page cannot be used that way."),
    ):
        response = client.open(url, method=method)
        assert response.status_code == status
        page = response.get_data(as_text=True)
        assert words in page
        assert '<header class="site-header">' in page  # the site's own style
        for text in WERKZEUG_TEXT:
            assert text not in page


def test_missing_files_get_no_suggestions(client: FlaskClient) -> None:
    for url in ("/media/images/reset-password.png", "/static/reset-password.css"):
        page = client.get(url).get_data(as_text=True)
        assert suggestion_links(page) == [] and "reset password" not in page


def test_a_404_stays_friendly_when_search_fails(client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("search is down")

    monkeypatch.setattr("kb.help_center.HelpCenter.search", broken)
    response = client.get("/articles/reset-my-password")
    assert response.status_code == 404
    assert "We couldn&#39;t find that article." in response.get_data(as_text=True)


def test_the_words_of_a_path() -> None:
    from web.errors import words_of_path  # imported here, so that the page tests above run on code without it

    assert words_of_path("/articles/reset-your-password") == "reset your password"
    assert words_of_path("/nope/whatever/") == "whatever"
    assert words_of_path("/articles/2024_refund%20policy") == "refund policy"
    assert words_of_path("/media/a/logo.png") == ""
    assert words_of_path("/articles/12345") == ""


def test_agent_links_stay_in_the_agent_area_and_text_is_untouched() -> None:
    from web.agent import agent_links

    html = (
        '<p><a href="/articles/refund-policy#how" rel="noopener noreferrer">refund</a> and '
        '<a href="https://example.com/articles/x">elsewhere</a>; the text href="/articles/ stays</p>'
    )
    assert agent_links(html) == (
        '<p><a href="/agent/articles/refund-policy#how" rel="noopener noreferrer">refund</a> and '
        '<a href="https://example.com/articles/x">elsewhere</a>; the text href="/articles/ stays</p>'
    )


@pytest.fixture
def linking_app(articles_dir: Path, make_app: AppFactory) -> Flask:
    """The small help center whose internal playbook links a public article and itself."""
    playbook = articles_dir / "playbooks" / "refund-escalation-playbook.md"
    playbook.write_text(
        playbook.read_text(encoding="utf-8")
        + "\n\nSee [the reset guide](../account/reset-password.md)"
        + " and [this playbook](refund-escalation-playbook.md).\n",
        encoding="utf-8",
    )
    return make_app()


def test_links_inside_an_internal_article_stay_in_the_agent_area(linking_app: Flask) -> None:
    """The issue: /agent/articles/... linked /articles/..., where an internal article is a 404."""
    linking_app.extensions["kb_storage"].add_agent("maria", "correct horse battery")
    client = linking_app.test_client()
    sign_in(client)
    page = client.get("/agent/articles/refund-escalation-playbook").get_data(as_text=True)
    body = page.split('<div class="article-body">')[1].split("</div>")[0]
    links = re.findall(r'href="([^"]*articles[^"]*)"', body)
    assert links == ["/agent/articles/reset-password", "/agent/articles/refund-escalation-playbook"]
    assert [client.get(link).status_code for link in links] == [200, 200]


def test_the_agent_article_view_has_the_workspace_header_copy_actions_and_a_way_back(linking_app: Flask) -> None:
    storage: Storage = linking_app.extensions["kb_storage"]
    storage.add_agent("maria", "correct horse battery")
    client = linking_app.test_client()
    sign_in(client)
    page = client.get(
        "/agent/articles/refund-escalation-playbook", headers={"Referer": "http://localhost/agent/?q=refund"}
    ).get_data(as_text=True)
    assert '<nav class="agent-nav" aria-label="Workspace">' in page
    assert 'id="header-q"' not in page  # not the public header
    assert '<p class="back-link"><a href="/agent/?q=refund">← Back to the workspace</a></p>' in page
    body = page.split('<div class="article-body">')[1].split("</div>")[0]
    assert re.findall(r'href="([^"]*articles[^"]*)"', body) == [
        "/agent/articles/reset-password",
        "/agent/articles/refund-escalation-playbook",
    ]
    assert "Internal: no public link" in page and "Copy link" not in page
    public = client.get("/agent/articles/reset-password", headers={"Referer": "https://evil.example/agent/"})
    public_page = public.get_data(as_text=True)
    assert 'data-copy="http://localhost/articles/reset-password"' in public_page
    assert '<p class="back-link"><a href="/agent/">' in public_page  # another site's referrer is ignored


def test_the_most_linked_page_counts_copies(signed_in_client: FlaskClient, storage: Storage) -> None:
    assert "No links copied yet." in signed_in_client.get("/agent/most-linked").get_data(as_text=True)
    for slug in ("reset-password", "reset-password", "welcome", "retired-article"):
        storage.record_link(None, "copy_link", slug)
    page = signed_in_client.get("/agent/most-linked").get_data(as_text=True)
    rows = re.findall(r"<tr>\s*<td>(.*?)</td>\s*<td>(\d+)</td>", page, re.S)
    assert [(re.sub(r"<[^>]+>", "", cell).strip(), uses) for cell, uses in rows] == [
        ("Reset your password", "2"),
        ("retired-article (no longer published)", "1"),
        ("Welcome to Acme Invoices", "1"),
    ]
