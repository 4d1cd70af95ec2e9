"""Agents: sign-in with CSRF, Bearer tokens stored hashed, the workspace, suggest and link tracking."""

from __future__ import annotations

import datetime
import hashlib
import re

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from kb.store.database import Storage
from kb_cli.main import cli
from tests.conftest import AGENT_NAME, AGENT_PASSWORD, AppFactory, csrf_from, sign_in


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
    assert list(response.get_json()) == ["results", "confident"]
    results = response.get_json()["results"]
    assert list(results[0]) == [
        "slug",
        "title",
        "url",
        "section",
        "score",
        "snippet",
        "visibility",
        "confidence",
        "answers",
    ]
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


def session_token(app: Flask, client: FlaskClient) -> str:
    """The agent session token inside the client's (signed, not encrypted) session cookie."""
    cookie = client.get_cookie("session")
    assert cookie is not None, "no session cookie"
    return app.session_interface.get_signing_serializer(app).loads(cookie.value)["agent_session"]  # type: ignore[attr-defined]


def session_rows(storage: Storage) -> list[tuple[str, str]]:
    with storage.engine.connect() as connection:
        rows = connection.execute(
            text(
                "select agents.name, agent_sessions.token_hash from agent_sessions join agents on agents.id = agent_id"
            )
        )
        return [(row.name, row.token_hash) for row in rows]


def remove_with_the_cli(app: Flask, name: str) -> None:
    """`kb agents remove NAME`, run on the app's database as an administrator would."""
    url = app.extensions["kb_storage"].url
    result = CliRunner().invoke(cli, ["agents", "remove", name, "--database", url])
    assert result.exit_code == 0, result.output


def test_a_removed_agents_session_never_signs_in_as_the_next_agent(app: Flask, storage: Storage) -> None:
    storage.add_agent("victim", "correct horse battery")
    victim = app.test_client()
    assert sign_in(victim, name="victim").status_code == 302
    assert "Signed in as <strong>victim</strong>" in victim.get("/agent/").get_data(as_text=True)
    remove_with_the_cli(app, "victim")
    storage.add_agent("newcomer")
    response = victim.get("/agent/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/agent/sign-in?next=")
    assert "newcomer" not in victim.get("/agent/suggest", follow_redirects=True).get_data(as_text=True)


def test_removing_an_agent_ends_its_token_and_sessions_at_once(app: Flask, storage: Storage, token: str) -> None:
    client = app.test_client()
    sign_in(client)
    assert [name for name, _ in session_rows(storage)] == ["maria"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.post("/api/suggest", headers=headers, json={"text": "refund"}).status_code == 200
    remove_with_the_cli(app, "maria")
    assert client.post("/api/suggest", headers=headers, json={"text": "refund"}).status_code == 401
    assert client.get("/agent/").status_code == 302
    with storage.engine.connect() as connection:
        assert connection.execute(text("select count(*) from agent_sessions")).scalar_one() == 0


def test_a_cookie_captured_before_sign_out_stops_working(app: Flask, storage: Storage, token: str) -> None:
    client = app.test_client()
    sign_in(client)
    captured = client.get_cookie("session").value  # type: ignore[union-attr]
    page = client.get("/agent/").get_data(as_text=True)
    assert client.post("/agent/sign-out", data={"csrf_token": csrf_from(page)}).status_code == 302
    thief = app.test_client()
    thief.set_cookie("session", captured)
    response = thief.get("/agent/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/agent/sign-in?next=")
    assert session_rows(storage) == []


def test_only_a_hash_of_the_session_token_is_stored(app: Flask, storage: Storage, token: str) -> None:
    client = app.test_client()
    sign_in(client)
    secret = session_token(app, client)
    assert len(secret) >= 43  # 256 random bits
    assert session_rows(storage) == [("maria", hashlib.sha256(secret.encode()).hexdigest())]
    with storage.engine.connect() as connection:
        stored = " ".join(
            str(value) for row in connection.execute(text("select * from agent_sessions")) for value in row
        )
    assert secret not in stored
    sign_in(client)  # signing in again replaces the session: no fixation, no pile of rows
    assert session_token(app, client) != secret
    assert [name for name, _ in session_rows(storage)] == ["maria"]


def test_sessions_last_the_session_lifetime_and_are_deleted_when_expired(make_app: AppFactory) -> None:
    app = make_app(session_hours=3)
    storage = app.extensions["kb_storage"]
    storage.add_agent("maria", "correct horse battery")
    client = app.test_client()
    sign_in(client)
    with storage.engine.connect() as connection:
        created, expires = connection.execute(text("select created_at, expires_at from agent_sessions")).one()
    lifetime = datetime.datetime.fromisoformat(str(expires)) - datetime.datetime.fromisoformat(str(created))
    assert lifetime == datetime.timedelta(hours=3)
    with storage.engine.begin() as connection:
        connection.execute(text("update agent_sessions set expires_at = '2000-01-01 00:00:00.000000'"))
    assert client.get("/agent/").status_code == 302
    assert session_rows(storage) == []


def test_only_failed_sign_ins_count_towards_the_limit(client: FlaskClient, token: str) -> None:
    for _ in range(12):  # a whole office behind one address signs in
        assert sign_in(client).status_code == 302
        page = client.get("/agent/").get_data(as_text=True)
        assert client.post("/agent/sign-out", data={"csrf_token": csrf_from(page)}).status_code == 302
    assert [sign_in(client, password="guess").status_code for _ in range(9)] == [401] * 9
    assert sign_in(client).status_code == 302  # the right password within the limit always works
    assert sign_in(client, password="guess").status_code == 401
    refused = sign_in(client)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "60"


@pytest.mark.parametrize("trusted_proxies", [0, 1])
def test_behind_a_trusted_proxy_the_sign_in_limit_counts_each_visitor(
    make_app: AppFactory, trusted_proxies: int
) -> None:
    app = make_app(trusted_proxies=trusted_proxies)
    app.extensions["kb_storage"].add_agent(AGENT_NAME, AGENT_PASSWORD)
    attacker, colleague = app.test_client(), app.test_client()
    for client, address in ((attacker, "203.0.113.7"), (colleague, "198.51.100.20")):
        client.environ_base.update(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=address)  # both through the proxy
    assert [sign_in(attacker, password="guess").status_code for _ in range(11)] == [401] * 10 + [429]
    # Trusted, the proxy's header names each visitor; untrusted, a forged header cannot dodge the limit.
    assert sign_in(colleague).status_code == (302 if trusted_proxies else 429)
