"""Agents: sign-in with CSRF, Bearer tokens stored hashed, the workspace, suggest and link tracking."""

from __future__ import annotations

import hashlib
import re

from flask.testing import FlaskClient
from sqlalchemy import text

from kb.store.database import Storage
from tests.conftest import csrf_from, sign_in


def test_pages_redirect_to_sign_in_and_the_api_answers_401(client: FlaskClient, token: str) -> None:
    for path in ("/agent/", "/agent/suggest", "/agent/?q=refund"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/agent/sign-in?next=")
    for headers in ({}, {"Authorization": "Bearer kb_wrong"}, {"Authorization": f"Basic {token}"}):
        response = client.post("/api/suggest", json={"text": "refund"}, headers=headers)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert response.get_json()["error"]["code"] == "unauthorized"
    assert client.post("/api/links", json={"action": "copy_link", "slug": "welcome"}).status_code == 401


def test_forms_without_a_csrf_token_are_refused(client: FlaskClient, token: str) -> None:
    response = client.post("/agent/sign-in", data={"name": "maria", "password": "correct horse battery"})
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    assert client.get("/agent/").status_code == 302  # still signed out
    assert sign_in(client).status_code == 302
    refused = client.post("/agent/track", json={"action": "copy_link", "slug": "welcome"})
    assert refused.status_code == 400


def test_sign_in_lands_on_the_page_asked_for_but_never_off_site(client: FlaskClient, token: str) -> None:
    response = sign_in(client, next_path="/agent/suggest")
    assert (response.status_code, response.headers["Location"]) == (302, "/agent/suggest")
    client.post("/agent/sign-out", data={"csrf_token": csrf_from(client.get("/agent/").get_data(as_text=True))})
    assert client.get("/agent/").status_code == 302
    assert sign_in(client, next_path="//evil.example/").headers["Location"] == "/agent/"
    wrong = sign_in(client, password="not the password")
    assert wrong.status_code == 401
    assert "do not match" in wrong.get_data(as_text=True)


def test_tokens_and_passwords_are_stored_hashed(storage: Storage, token: str) -> None:
    with storage.engine.connect() as connection:
        row = connection.execute(text("select token_hash, password_hash from agents")).one()
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in row.token_hash
    assert "correct horse battery" not in row.password_hash
    assert row.password_hash.startswith(("scrypt:", "pbkdf2:"))
    assert storage.agent_for_token(token).name == "maria"  # type: ignore[union-attr]
    assert storage.agent_for_token(token + "x") is None


def test_workspace_marks_internal_articles_and_offers_no_public_link(signed_in_client: FlaskClient) -> None:
    page = signed_in_client.get("/agent/?q=refund escalation Admin Console").get_data(as_text=True)
    internal = page.split('data-slug="refund-escalation-playbook"')[1].split("</li>")[0]
    assert '<span class="badge internal">Internal</span>' in internal
    assert "Internal: no public link" in internal
    assert "copy_link" not in internal and "copy_markdown" not in internal
    assert "upcoming-ai-drafts" not in page
    drafts = signed_in_client.get("/agent/?q=secret upcoming feature assistant drafts&drafts=1").get_data(as_text=True)
    assert 'data-slug="upcoming-ai-drafts"' in drafts


def test_copied_links_land_on_the_right_section(signed_in_client: FlaskClient) -> None:
    page = signed_in_client.get("/agent/?q=reset email spam folder").get_data(as_text=True)
    link = re.search(r'data-action="copy_link" data-copy="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    assert link == "http://localhost/articles/reset-password#the-reset-email-never-arrives"
    markdown = re.search(r'data-action="copy_markdown" data-copy="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    assert markdown == f"[Reset your password › The reset email never arrives]({link})"
    path, anchor = link.removeprefix("http://localhost").split("#")
    article = signed_in_client.get(path)
    assert article.status_code == 200
    assert f'<h2 id="{anchor}">' in article.get_data(as_text=True)


def test_copies_and_suggestions_are_recorded(signed_in_client: FlaskClient, storage: Storage, token: str) -> None:
    csrf = csrf_from(signed_in_client.get("/agent/").get_data(as_text=True))
    response = signed_in_client.post(
        "/agent/track",
        headers={"X-CSRFToken": csrf},
        json={
            "action": "copy_link",
            "slug": "reset-password",
            "section": "the-reset-email-never-arrives",
            "query": "reset email",
        },
    )
    assert response.status_code == 201
    api = signed_in_client.post(
        "/api/links",
        headers={"Authorization": f"Bearer {token}"},
        json={"action": "suggestion_used", "slug": "welcome", "query": "where do I start"},
    )
    assert api.status_code == 201
    assert (
        signed_in_client.post(
            "/api/links", headers={"Authorization": f"Bearer {token}"}, json={"action": "shared", "slug": "welcome"}
        ).status_code
        == 400
    )
    assert (
        signed_in_client.post(
            "/api/links", headers={"Authorization": f"Bearer {token}"}, json={"action": "copy_link", "slug": "nope"}
        ).status_code
        == 404
    )
    rows = [(row.agent_id, row.action, row.slug, row.section, row.query) for row in storage.link_events()]
    agent_id = storage.agents()[0].id
    assert rows == [
        (agent_id, "copy_link", "reset-password", "the-reset-email-never-arrives", "reset email"),
        (agent_id, "suggestion_used", "welcome", "", "where do I start"),
    ]
    assert storage.most_linked() == [("reset-password", 1), ("welcome", 1)]


def test_suggest_api_answers_with_visibility(client: FlaskClient, token: str) -> None:
    response = client.post(
        "/api/suggest",
        headers={"Authorization": f"Bearer {token}"},
        json={"text": "Hi team,\n\nthe refund escalation needs the Admin Console.\n\nThanks,\nBo", "k": 2},
    )
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert list(results[0]) == ["slug", "title", "url", "section", "score", "snippet", "visibility"]
    assert (results[0]["slug"], results[0]["visibility"]) == ("refund-escalation-playbook", "internal")
    whole = client.post("/api/suggest", headers={"Authorization": f"Bearer {token}"}, json={"text": "refund", "k": 1.0})
    assert len(whole.get_json()["results"]) == 1  # JSON has one number type: 1.0 is the integer 1
    for body in ({}, {"text": "  "}, {"text": "x", "k": "five"}, {"text": "x", "k": 1.5}, {"text": "x" * 20001}):
        bad = client.post("/api/suggest", headers={"Authorization": f"Bearer {token}"}, json=body)
        assert bad.status_code == 400, body
        assert bad.get_json()["error"]["code"] == "invalid_query"


def test_repeated_failed_sign_ins_are_rate_limited(client: FlaskClient, token: str) -> None:
    statuses = [sign_in(client, password="guess").status_code for _ in range(11)]
    assert statuses[:10] == [401] * 10
    assert statuses[10] == 429


def test_agents_can_read_internal_articles_and_drafts(client: FlaskClient, token: str) -> None:
    assert client.get("/agent/articles/refund-escalation-playbook").status_code == 302
    sign_in(client)
    page = client.get("/agent/articles/refund-escalation-playbook").get_data(as_text=True)
    assert "<strong>Internal.</strong> Only agents can see this article." in page
    assert "Only team leads approve refunds above 500 dollars" in page
    draft = client.get("/agent/articles/upcoming-ai-drafts").get_data(as_text=True)
    assert "<strong>Draft.</strong>" in draft
    workspace = client.get("/agent/?q=refund escalation Admin Console").get_data(as_text=True)
    assert '<a href="/agent/articles/refund-escalation-playbook' in workspace


def test_link_events_name_the_current_slug_and_refuse_drafts(client: FlaskClient, storage: Storage, token: str) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    assert (
        client.post("/api/links", headers=headers, json={"action": "copy_link", "slug": "forgot-password"}).status_code
        == 201
    )
    assert (
        client.post(
            "/api/links", headers=headers, json={"action": "copy_link", "slug": "upcoming-ai-drafts"}
        ).status_code
        == 404
    )
    assert (
        client.post(
            "/api/links", headers=headers, json={"action": "copy_link", "slug": "welcome", "section": 5}
        ).status_code
        == 400
    )
    assert [(row.action, row.slug) for row in storage.link_events()] == [("copy_link", "reset-password")]
