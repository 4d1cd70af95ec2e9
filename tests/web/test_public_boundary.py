"""The public boundary: no route, HTML or JSON, shows an internal or draft article to a customer."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape
from werkzeug.test import TestResponse

from kb.search.service import Audience
from kb.store.report_tables import TABLE_NAMES
from tests.conftest import AppFactory, csrf_from

PUBLIC_SLUGS = ["welcome", "reset-password", "invoice-basics"]
ALIASES = ["forgot-password", "lost-password"]
INTERNAL = "refund-escalation-playbook"
DRAFT = "upcoming-ai-drafts"
HIDDEN_SLUGS = [INTERNAL, DRAFT]
CATEGORIES = ["account", "billing", "getting-started", "playbooks", "no-such-category"]
MISSING = "no-such-article"
QUERIES = [
    "refund escalation Admin Console approve",
    "assistant drafts invoices secret upcoming feature",
    "agent playbook refunds over 500 dollars",
    "AI invoice drafts coming soon",
    "invoice",
    "zorbulx",  # one edit from a word only the internal article uses: spelling must not suggest it
]
INTERNAL_IMAGE = "images/refund-approval.png"  # shown only by the internal article
DRAFT_IMAGE = "images/ai-drafts.png"  # shown only by the draft
# Titles, slugs, summaries, section titles and body text of the two hidden articles.
MARKERS = [
    "Agent playbook for refund escalations",
    INTERNAL,
    "Internal steps for agents",
    "Admin Console",
    "team leads approve refunds",
    "Approving the refund",
    "AI invoice drafts (coming soon)",
    DRAFT,
    "Let the assistant draft invoices",
    "Secret upcoming feature",
    "the assistant fills in line items",
    "How drafting works",
    "Zorbulax",
    "refund-approval.png",
    "ai-drafts.png",
]
SLUGS_TO_TRY = PUBLIC_SLUGS + ALIASES + HIDDEN_SLUGS + [MISSING]


def search_urls(path: str, extra: str = "") -> list[str]:
    return [f"{path}?{urlencode({'q': query})}{extra}" for query in QUERIES]


# Every route of the app and the concrete URLs that exercise it. A new route must be added here.
ROUTES: dict[str, Callable[[], list[str]]] = {
    "/": lambda: ["/"],
    "/search": lambda: ["/search", "/search?q="] + search_urls("/search"),
    "/articles/<slug>": lambda: [f"/articles/{slug}" for slug in SLUGS_TO_TRY],
    "/articles/<slug>/feedback": lambda: [f"/articles/{slug}/feedback?answer=no" for slug in SLUGS_TO_TRY],
    "/categories/<slug>": lambda: [f"/categories/{slug}" for slug in CATEGORIES],
    "/healthz": lambda: ["/healthz"],
    "/sitemap.xml": lambda: ["/sitemap.xml"],
    "/api/search": lambda: search_urls("/api/search", "&k=50"),
    "/api/articles/<slug>": lambda: [f"/api/articles/{slug}" for slug in SLUGS_TO_TRY],
    "/api/categories": lambda: ["/api/categories"],
    "/api/openapi.json": lambda: ["/api/openapi.json"],
    "/contact": lambda: ["/contact"] + [f"/contact?from={slug}" for slug in SLUGS_TO_TRY] + search_urls("/contact"),
    "/contact/sent": lambda: ["/contact/sent?ref=REQ-AAAA-BBBB"],
    "/contact/open": lambda: [f"/contact/open?form={FORM_TOKEN}&slug={slug}" for slug in SLUGS_TO_TRY],
    # Old Zendesk URLs: a 301 to an article by its alias, never to an internal or draft one.
    "/hc/<locale>/articles/<name>": lambda: [f"/hc/en-us/articles/{slug}" for slug in SLUGS_TO_TRY],
    "/hc/articles/<name>": lambda: [f"/hc/articles/{slug}" for slug in SLUGS_TO_TRY],
    "/media/<path:filename>": lambda: [
        "/media/images/workspace.png",
        f"/media/{INTERNAL_IMAGE}",
        f"/media/{DRAFT_IMAGE}",
        "/media/images/missing.png",
        "/media/playbooks/refund-escalation-playbook.md",
        "/media/billing/upcoming-ai-drafts.md",
        "/media/%2e%2e/conftest.py",
    ],
    "/static/<path:filename>": lambda: ["/static/style.css", "/static/site.js", "/static/no-such-file.css"],
}
READ_ONLY = {"GET", "HEAD", "OPTIONS"}
FORM_TOKEN = "f" * 22
# Public routes that take a customer's writes; each is tested for leaks with hidden articles' text posted to it.
PUBLIC_WRITES = {"/contact": {"POST"}}
# Forms customers post (CSRF-protected), tested in test_customer_forms_refuse_hidden_articles.
CUSTOMER_WRITES = {"/articles/<slug>/vote"}
# Routes for agents only, and what an anonymous request to each gets: sign-in page, 401, or CSRF refusal.
AGENT_ONLY: dict[str, list[tuple[str, str, int]]] = {
    "/agent/": [
        ("GET", "/agent/", 302),
        ("GET", "/agent/?q=refund%20escalation%20Admin%20Console", 302),
        ("GET", "/agent/?q=secret%20upcoming%20feature&drafts=1", 302),
    ],
    "/agent/suggest": [("GET", "/agent/suggest", 302), ("POST", "/agent/suggest", 400)],
    "/agent/track": [("POST", "/agent/track", 400)],
    "/agent/articles/<slug>": [("GET", f"/agent/articles/{slug}", 302) for slug in HIDDEN_SLUGS],
    "/agent/most-linked": [("GET", "/agent/most-linked", 302)],
    "/agent/sign-out": [("POST", "/agent/sign-out", 400)],
    "/agent/sign-in": [("GET", "/agent/sign-in", 200), ("POST", "/agent/sign-in", 400)],
    "/insights/": [("GET", "/insights/", 302), ("GET", "/insights/?since=2026-01-01&until=2026-12-31&by=week", 302)],
    "/insights/<name>.csv": [("GET", f"/insights/{name}.csv?since=2026-01-01", 302) for name in TABLE_NAMES],
    "/insights/charts/<name>.svg": [
        ("GET", f"/insights/charts/{name}.svg", 302)
        for name in ("searches", "deflection", "self-service", "helpfulness")
    ],
    "/api/suggest": [("POST", "/api/suggest", 401)],
    "/api/links": [("POST", "/api/links", 401)],
}


def echoes(url: str) -> list[str]:
    """What the request itself supplied and a page may repeat back: the query and the last path part."""
    found = [url.split("?")[0].rsplit("/", 1)[-1]]
    match = re.search(r"[?&]q=([^&]*)", url)
    if match:
        found.append(match.group(1).replace("+", " "))
    return [form for text in found if text for form in (text, str(escape(text)))]


def leaked(response: TestResponse, url: str) -> list[str]:
    """The hidden markers in a response's body and Location header, not counting echoed request text."""
    if response.is_json:
        body = json.dumps(response.get_json(), ensure_ascii=False)
    else:
        body = response.get_data().decode("utf-8", errors="replace")
    text = body + "\n" + response.headers.get("Location", "")
    for echo in sorted(echoes(url), key=len, reverse=True):
        text = re.sub(re.escape(echo), "", text, flags=re.I)
    return [marker for marker in MARKERS if marker.lower() in text.lower()]


def expected_status(url: str) -> int:
    last = url.split("?")[0].rsplit("/", 1)[-1]
    if url.startswith("/contact/open"):
        return 303 if url.rsplit("=", 1)[-1] in PUBLIC_SLUGS + ALIASES else 404
    if url.startswith("/articles/") and url.split("?")[0].count("/") == 3:  # /articles/<slug>/feedback
        return 404 if url.split("/")[2] in HIDDEN_SLUGS + [MISSING] else 200
    if url.startswith("/hc/"):
        return 301 if last in PUBLIC_SLUGS + ALIASES else 404
    if url.startswith("/media/"):
        return 200 if url == "/media/images/workspace.png" else 404
    if url.startswith("/static/"):
        return 404 if last == "no-such-file.css" else 200
    if "/articles/" in url and last in ALIASES:
        return 301
    if last in HIDDEN_SLUGS + [MISSING, "playbooks", "no-such-category"]:
        return 404
    return 200


def test_hidden_articles_are_really_in_the_index(app: Flask) -> None:
    """Otherwise the boundary tests below would pass for the wrong reason."""
    with app.app_context():
        center = app.extensions["kb"].get()
    assert sorted(center.index.articles) == sorted(PUBLIC_SLUGS + HIDDEN_SLUGS)
    assert [record.slug for record in center.articles()] == ["invoice-basics", "reset-password", "welcome"]
    assert center.article(INTERNAL, Audience.AGENT) is not None
    assert center.article(DRAFT, Audience.PREVIEW) is not None
    preview = {result.slug for query in QUERIES[:2] for result in center.search(query, 5, Audience.PREVIEW).results}
    assert {INTERNAL, DRAFT} <= preview
    assert center.search("zorbulx", 5, Audience.AGENT).corrected_query == "zorbulax"
    assert (center.index.articles[INTERNAL].media, center.index.articles[DRAFT].media) == (
        [INTERNAL_IMAGE],
        [DRAFT_IMAGE],
    )
    articles = app.config["KB_SETTINGS"].articles
    assert (articles / INTERNAL_IMAGE).is_file() and (articles / DRAFT_IMAGE).is_file()


def test_the_route_table_is_fully_covered(app: Flask) -> None:
    rules = {
        rule.rule: rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static" and rule.rule not in AGENT_ONLY and rule.rule not in CUSTOMER_WRITES
    }
    unknown = sorted(set(rules) - set(ROUTES))
    assert not unknown, f"new routes {unknown}: add them to ROUTES in {Path(__file__).name}"
    assert sorted(ROUTES) == sorted(rules), "ROUTES names a route the app no longer has"
    for path, rule in rules.items():
        writes = PUBLIC_WRITES.get(path, set())
        assert set(rule.methods or ()) <= READ_ONLY | writes, f"{path} accepts {rule.methods}: test its writes too"
        assert set(rule.arguments) <= {"slug", "filename", "locale", "name"}, (
            f"{path}: teach this test to fill {rule.arguments}"
        )
        assert ROUTES[path](), path
        for url in ROUTES[path]():
            assert app.url_map.bind("localhost").match(url.split("?")[0])[0] == rule.endpoint, url


def test_agent_routes_refuse_anonymous_requests_without_showing_anything(app: Flask, client: FlaskClient) -> None:
    agent_rules = {rule.rule for rule in app.url_map.iter_rules() if rule.rule.startswith(("/agent", "/insights"))}
    assert agent_rules <= set(AGENT_ONLY), f"new agent routes {sorted(agent_rules - set(AGENT_ONLY))}: add them"
    for requests in AGENT_ONLY.values():
        for method, url, status in requests:
            response = client.open(
                url,
                method=method,
                json={"text": "refund escalation Admin Console", "action": "copy_link", "slug": INTERNAL},
            )
            assert response.status_code == status, (method, url)
            if status == 302:
                assert response.headers["Location"].startswith("/agent/sign-in?next=")
            assert leaked(response, url) == [], f"{method} {url} shows {leaked(response, url)}"


def test_no_route_shows_internal_or_draft_articles(app: Flask, client: FlaskClient) -> None:
    rules = [
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static" and rule.rule not in AGENT_ONLY and rule.rule not in CUSTOMER_WRITES
    ]
    fetched = 0
    for path in rules:
        for url in ROUTES[path]():
            response = client.get(url)
            assert response.status_code == expected_status(url), url
            assert leaked(response, url) == [], f"{url} shows {leaked(response, url)}"
            fetched += 1
    assert fetched == 98


def test_the_contact_form_never_suggests_or_names_hidden_articles(client: FlaskClient) -> None:
    page = client.get("/contact").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    for query in QUERIES:
        fields = {"name": "Ana", "email": "ana@example.com", "subject": query, "description": f"{query} please help"}
        response = client.post(
            "/contact",
            data={**fields, "csrf_token": token.group(1), "form": FORM_TOKEN, "came_from": INTERNAL,
                  "shown": f"{INTERNAL} {DRAFT}"},
        )  # fmt: skip
        assert response.status_code == 200, query  # the "check these first" step, or the form with no suggestion
        body = response.get_data(as_text=True)
        for typed in sorted([fields["description"], query, str(escape(query))], key=len, reverse=True):
            body = body.replace(typed, "")
        assert [marker for marker in MARKERS if marker.lower() in body.lower()] == [], query


def test_customer_forms_refuse_hidden_articles(client: FlaskClient) -> None:
    token = csrf_from(client.get("/articles/welcome").get_data(as_text=True))
    for slug in HIDDEN_SLUGS + [MISSING]:
        url = f"/articles/{slug}/vote"
        response = client.post(url, data={"csrf_token": token, "helpful": "yes"})
        assert response.status_code == 404, url
        assert leaked(response, url) == []
    assert client.post("/articles/welcome/vote", data={"helpful": "yes"}).status_code == 400  # no CSRF token
    assert client.post("/articles/welcome/vote", data={"csrf_token": token, "helpful": "yes"}).status_code == 303


def test_leak_check_catches_a_leak(app: Flask, client: FlaskClient) -> None:
    """The checker itself: a page that does show hidden text is flagged, echoes are not."""
    response = client.get("/articles/invoice-basics")
    assert leaked(response, "/articles/invoice-basics") == []
    response.set_data(response.get_data() + b"<li>Agent playbook for refund escalations</li>")
    assert leaked(response, "/articles/invoice-basics") == ["Agent playbook for refund escalations"]
    echoed = client.get("/search?" + urlencode({"q": QUERIES[0]}))
    assert "Admin Console" in echoed.get_data(as_text=True)
    assert leaked(echoed, "/search?" + urlencode({"q": QUERIES[0]})) == []


def test_hidden_articles_look_exactly_like_missing_ones(client: FlaskClient) -> None:
    """A 404 page suggests articles for the words of its slug, so a hidden slug is compared with a missing
    slug of the same words (a trailing hyphen), the API's answer with any missing slug's."""
    for prefix in ("/articles/", "/api/articles/"):
        for slug in HIDDEN_SLUGS:
            lookalike = MISSING if prefix == "/api/articles/" else f"{slug}-"
            missing = client.get(prefix + lookalike)
            assert missing.status_code == 404
            response = client.get(prefix + slug)
            assert response.status_code == 404
            assert "Location" not in response.headers
            assert response.get_data(as_text=True).replace(slug, lookalike) == missing.get_data(as_text=True)
            if prefix == "/api/":
                assert response.get_json()["error"]["code"] == "not_found"


def test_hidden_aliases_do_not_redirect(articles_dir: Path, make_app: AppFactory) -> None:
    for folder, slug, alias in (("playbooks", INTERNAL, "old-refund-playbook"), ("billing", DRAFT, "old-ai-drafts")):
        path = articles_dir / folder / f"{slug}.md"
        path.write_text(path.read_text().replace("\nupdated:", f"\naliases: [{alias}]\nupdated:", 1))
    app = make_app()
    with app.app_context():
        assert app.extensions["kb"].get().index.aliases == {
            "forgot-password": "reset-password",
            "lost-password": "reset-password",
            "old-refund-playbook": INTERNAL,
            "old-ai-drafts": DRAFT,
        }
    client = app.test_client()
    for alias in ("old-refund-playbook", "old-ai-drafts"):
        for url in (f"/articles/{alias}", f"/api/articles/{alias}"):
            response = client.get(url)
            assert response.status_code == 404, url
            assert "Location" not in response.headers
            assert leaked(response, url) == []


def test_category_counts_exclude_internal_and_drafts(client: FlaskClient) -> None:
    expected = [("account", "Account", 1), ("billing", "Billing", 1), ("getting-started", "Getting started", 1)]
    api = client.get("/api/categories").get_json()["categories"]
    assert [(item["slug"], item["name"], item["articles"]) for item in api] == expected
    home = client.get("/").get_data(as_text=True)
    cards = re.findall(r'<a href="/categories/([^"]+)">([^<]+)</a>\s*<span class="muted">(\d+) articles?</span>', home)
    assert [(slug, name, int(count)) for slug, name, count in cards] == expected
    assert "Playbooks" not in home and "/categories/playbooks" not in home
