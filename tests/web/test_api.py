"""The JSON API under /api and the health check: shapes, limits, errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from indexer.build import build_index
from kb.config import Settings
from tests.conftest import AppFactory, FakeEmbedder

RESULT_KEYS = ["slug", "title", "url", "section", "score", "snippet", "confidence", "answers"]
PUBLIC_SLUGS = {"welcome", "reset-password", "invoice-basics"}


def error_of(response: TestResponse, status: int, code: str) -> str:
    """Assert the one API error shape; return its message."""
    assert response.status_code == status
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert list(body) == ["error"]
    assert list(body["error"]) == ["code", "message"]
    assert body["error"]["code"] == code
    message = body["error"]["message"]
    assert isinstance(message, str) and message.strip()
    return message


def test_search_returns_the_documented_shape(client: FlaskClient) -> None:
    response = client.get("/api/search", query_string={"q": "send an invoice", "k": "3"})
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert list(body) == ["query", "results", "confident", "answer_card", "search_token"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{16}", body["search_token"])
    assert body["query"] == "send an invoice"
    assert len(body["results"]) == 3
    assert {result["slug"] for result in body["results"]} == PUBLIC_SLUGS
    for result in body["results"]:
        assert list(result) == RESULT_KEYS
        assert "visibility" not in result
        assert isinstance(result["score"], float)
        assert result["url"].startswith(f"/articles/{result['slug']}")
    best = body["results"][0]
    assert best == {
        "slug": "invoice-basics",
        "title": "Invoice basics",
        "url": "/articles/invoice-basics#send-an-invoice",
        "section": "Send an invoice",
        "score": best["score"],
        "snippet": "Open Invoices → New, add line items, and press Send.",
        "confidence": best["confidence"],
        "answers": None,
    }
    assert 0.0 <= best["confidence"] <= 1.0
    scores = [result["score"] for result in body["results"]]
    assert scores == sorted(scores, reverse=True)


def test_a_cached_search_answers_the_same_bytes_with_its_own_token_and_the_security_headers(
    client: FlaskClient,
) -> None:
    first, again = (client.get("/api/search", query_string={"q": "send an invoice", "k": "3"}) for _ in range(2))
    assert (first.status_code, again.status_code) == (200, 200)
    token_field = re.compile(rb',"search_token":"[A-Za-z0-9_-]{16}"}\n$')
    assert token_field.search(first.data) and token_field.search(again.data)
    assert token_field.sub(b"", first.data) == token_field.sub(b"", again.data)
    assert first.get_json()["search_token"] != again.get_json()["search_token"]
    assert again.headers["Content-Type"] == "application/json"
    assert again.headers["X-Content-Type-Options"] == "nosniff"
    assert again.headers["X-Frame-Options"] == "DENY"
    assert again.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert again.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert len(again.headers.getlist("Content-Security-Policy")) == 1
    assert "Set-Cookie" not in again.headers  # no visitor cookie and no session on the public API


def test_search_query_is_normalised(client: FlaskClient) -> None:
    body = client.get("/api/search", query_string={"q": "  reset \n  password  "}).get_json()
    assert body["query"] == "reset password"
    assert body["results"][0]["slug"] == "reset-password"


@pytest.mark.parametrize("k, expected", [("1", 1), ("2", 2), ("50", 3)])
def test_k_limits_the_number_of_results(client: FlaskClient, k: str, expected: int) -> None:
    response = client.get("/api/search", query_string={"q": "invoice", "k": k})
    assert response.status_code == 200
    assert len(response.get_json()["results"]) == expected


@pytest.mark.parametrize(
    "params",
    [
        {"q": "invoice", "k": "0"},
        {"q": "invoice", "k": "-1"},
        {"q": "invoice", "k": "abc"},
        {"q": "invoice", "k": "2.5"},
        {"q": "invoice", "k": ""},
        {"q": "invoice", "k": "51"},
        {"q": ""},
        {"q": "   "},
        {},
        {"q": "a" * 2001},
    ],
)
def test_invalid_search_answers_400(client: FlaskClient, settings: Settings, params: dict[str, str]) -> None:
    assert settings.max_results == 50 and settings.max_query_length == 2000
    error_of(client.get("/api/search", query_string=params), 400, "invalid_query")


def test_over_long_query_message_names_the_limit(client: FlaskClient, settings: Settings) -> None:
    limit = settings.max_query_length
    message = error_of(client.get("/api/search", query_string={"q": "x" * (limit + 1)}), 400, "invalid_query")
    assert message == f"the search query is {limit + 1} characters long; the limit is {limit}"
    assert client.get("/api/search", query_string={"q": "x" * limit}).status_code == 200


def test_article_returns_the_documented_shape(client: FlaskClient) -> None:
    response = client.get("/api/articles/welcome")
    assert response.status_code == 200
    body = response.get_json()
    assert list(body) == [
        "slug",
        "title",
        "url",
        "summary",
        "category",
        "tags",
        "updated",
        "sections",
        "related",
        "html",
    ]
    assert body["slug"] == "welcome"
    assert body["title"] == "Welcome to Acme Invoices"
    assert body["url"] == "/articles/welcome"
    assert body["summary"] == "A tour of the app for new customers."
    assert body["category"] == {
        "slug": "getting-started",
        "name": "Getting started",
        "url": "/categories/getting-started",
    }
    assert body["tags"] == ["tour", "basics"]
    assert body["updated"] == "2026-03-01"
    assert body["sections"] == [
        {
            "anchor": "create-your-workspace",
            "title": "Create your workspace",
            "level": 2,
            "url": "/articles/welcome#create-your-workspace",
        },
        {
            "anchor": "invite-your-team",
            "title": "Invite your team",
            "level": 3,
            "url": "/articles/welcome#invite-your-team",
        },
        {"anchor": "next-steps", "title": "Next steps", "level": 2, "url": "/articles/welcome#next-steps"},
    ]
    assert body["related"] == [
        {"slug": "reset-password", "title": "Reset your password", "url": "/articles/reset-password"},
        {"slug": "invoice-basics", "title": "Invoice basics", "url": "/articles/invoice-basics"},
    ]
    assert body["html"].startswith("<p>Acme Invoices helps you bill your clients.")
    assert '<h2 id="create-your-workspace">' in body["html"]


def test_article_related_excludes_internal_and_draft(client: FlaskClient) -> None:
    body = client.get("/api/articles/invoice-basics").get_json()
    assert body["related"] == [{"slug": "welcome", "title": "Welcome to Acme Invoices", "url": "/articles/welcome"}]


def test_article_alias_redirects_permanently(client: FlaskClient) -> None:
    for alias in ("forgot-password", "lost-password"):
        response = client.get(f"/api/articles/{alias}")
        assert response.status_code == 301
        assert response.headers["Location"] == "/api/articles/reset-password"


def test_unknown_article_is_404(client: FlaskClient) -> None:
    error_of(client.get("/api/articles/no-such-article"), 404, "not_found")


UNDESCRIBED = {"description": "", "icon": "", "order": None}  # a category without a _category.yml


def test_categories_lists_public_categories_with_counts(client: FlaskClient) -> None:
    response = client.get("/api/categories")
    assert response.status_code == 200
    assert response.get_json() == {
        "categories": [
            {**UNDESCRIBED, "slug": "account", "name": "Account", "articles": 1, "url": "/categories/account"},
            {**UNDESCRIBED, "slug": "billing", "name": "Billing", "articles": 1, "url": "/categories/billing"},
            {
                **UNDESCRIBED,
                "slug": "getting-started",
                "name": "Getting started",
                "articles": 1,
                "url": "/categories/getting-started",
            },
        ]
    }
    assert list(response.get_json()["categories"][0]) == [
        "slug",
        "name",
        "description",
        "icon",
        "order",
        "articles",
        "url",
    ]


def test_categories_carry_their_category_files_fields_in_the_home_pages_order(
    make_app: AppFactory, settings: Settings, articles_dir: Path, fake_embedder: FakeEmbedder
) -> None:
    (articles_dir / "getting-started" / "_category.yml").write_text(
        "title: Getting started\ndescription: Your first steps.\nicon: 🚀\norder: 2\n", encoding="utf-8"
    )
    (articles_dir / "billing" / "_category.yml").write_text(
        "title: Billing and plans\ndescription: Invoices and refunds.\norder: 1\n", encoding="utf-8"
    )
    build_index(settings, fake_embedder, show_progress=False)
    client = make_app(settings).test_client()
    response = client.get("/api/categories")
    assert response.status_code == 200
    assert response.get_json() == {
        "categories": [
            {
                "slug": "billing",
                "name": "Billing and plans",
                "description": "Invoices and refunds.",
                "icon": "",
                "order": 1,
                "articles": 1,
                "url": "/categories/billing",
            },
            {
                "slug": "getting-started",
                "name": "Getting started",
                "description": "Your first steps.",
                "icon": "🚀",
                "order": 2,
                "articles": 1,
                "url": "/categories/getting-started",
            },
            {**UNDESCRIBED, "slug": "account", "name": "Account", "articles": 1, "url": "/categories/account"},
        ]
    }
    home = client.get("/").get_data(as_text=True)
    links = re.findall(r'<a href="(/categories/[^"]+)">', home)
    assert links == ["/categories/billing", "/categories/getting-started", "/categories/account"]


def test_healthz_reports_the_live_build(client: FlaskClient, built_settings: Settings) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert list(body) == ["status", "build", "built_at", "model"]
    assert body["status"] == "ok"
    assert body["model"] == "fake-bag-of-words"
    assert (built_settings.index / "current").resolve().name == body["build"]
    assert body["built_at"].endswith("+00:00")


@pytest.mark.parametrize(
    "method, url, status, code",
    [
        ("GET", "/api/no-such-endpoint", 404, "not_found"),
        ("GET", "/api/articles/", 404, "not_found"),
        ("GET", "/api/articles/no-such-article", 404, "not_found"),
        ("POST", "/api/search", 405, "method_not_allowed"),
        ("DELETE", "/api/articles/welcome", 405, "method_not_allowed"),
        ("PUT", "/api/categories", 405, "method_not_allowed"),
        ("POST", "/healthz", 405, "method_not_allowed"),
        ("GET", "/api/search?q=", 400, "invalid_query"),
        ("GET", "/api/search?q=x&k=abc", 400, "invalid_query"),
    ],
)
def test_every_api_error_has_the_one_shape(client: FlaskClient, method: str, url: str, status: int, code: str) -> None:
    response = client.open(url, method=method)
    error_of(response, status, code)
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_without_an_index_healthz_is_unavailable(unbuilt_app: Flask) -> None:
    response = unbuilt_app.test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["error"]["code"] == "index_not_found"
    assert "build" not in body


def test_without_an_index_api_answers_503(unbuilt_app: Flask) -> None:
    for url in ("/api/search?q=x", "/api/articles/welcome", "/api/categories"):
        error_of(unbuilt_app.test_client().get(url), 503, "index_not_found")


def test_without_an_index_pages_answer_503_html(unbuilt_app: Flask) -> None:
    for url in ("/", "/search?q=x", "/articles/welcome", "/categories/billing"):
        response = unbuilt_app.test_client().get(url)
        assert response.status_code == 503
        assert response.content_type == "text/html; charset=utf-8"
        page = response.get_data(as_text=True)
        assert "<h1>Help center unavailable</h1>" in page
        assert not page.lstrip().startswith("{")


def test_unexpected_errors_hide_details(app: Flask) -> None:

    def boom() -> str:
        raise RuntimeError("secret stack detail")

    app.add_url_rule("/api/boom", "boom", boom)
    app.add_url_rule("/boom", "page_boom", boom)
    client = app.test_client()
    message = error_of(client.get("/api/boom"), 500, "server_error")
    assert "secret stack detail" not in message
    page = client.get("/boom")
    assert page.status_code == 500
    assert page.content_type == "text/html; charset=utf-8"
    assert "secret stack detail" not in page.get_data(as_text=True)


def test_method_not_allowed_names_the_allowed_methods(client: FlaskClient) -> None:
    response = client.post("/api/search")
    error_of(response, 405, "method_not_allowed")
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}


def test_bare_api_path_answers_json(client: FlaskClient) -> None:
    error_of(client.get("/api"), 404, "not_found")
