""" "Was this helpful?": a plain CSRF-protected form, one vote per visitor changed in place, a thank-you, limits."""

from __future__ import annotations

import dataclasses
import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from kb.config import Settings
from kb.store.counters import counts
from kb.store.models import VoteRow
from kb.store.privacy import today
from tests.conftest import AppFactory, FakeEmbedder, csrf_from, sign_in
from tests.database_faults import refusing_url
from web import create_app

INTERNAL = "refund-escalation-playbook"


def votes(app: Flask) -> list[tuple[str, bool, str, str]]:
    with app.extensions["kb_customer_storage"].session() as session:
        rows = session.scalars(select(VoteRow).order_by(VoteRow.id))
        return [(row.slug, row.helpful, row.reason, row.comment) for row in rows]


def vote(client: FlaskClient, slug: str, answer: str, **fields: str):  # type: ignore[no-untyped-def]
    page = client.get(f"/articles/{slug}").get_data(as_text=True)
    return client.post(f"/articles/{slug}/vote", data={"csrf_token": csrf_from(page), "helpful": answer, **fields})


def test_every_article_ends_with_a_plain_vote_form(client: FlaskClient) -> None:
    page = client.get("/articles/reset-password").get_data(as_text=True)
    form = re.search(r'<section class="feedback" id="feedback".*?</section>', page, re.S)
    assert form is not None
    assert '<h2 id="feedback-heading">Was this helpful?</h2>' in form.group()
    assert '<form class="feedback-answer" method="post" action="/articles/reset-password/vote">' in form.group()
    assert 'name="csrf_token"' in form.group()
    assert '<button type="submit" name="helpful" value="yes">Yes</button>' in form.group()
    assert '<button type="submit" name="helpful" value="no">No</button>' in form.group()
    assert "<script" not in form.group()


def test_a_vote_is_stored_with_a_visitor_cookie_and_thanked(app: Flask, client: FlaskClient) -> None:
    response = vote(client, "reset-password", "yes")
    assert response.status_code == 303
    assert response.headers["Location"] == "/articles/reset-password/feedback?answer=yes"
    cookie = next(value for value in response.headers.getlist("Set-Cookie") if value.startswith("kb_visitor="))
    assert re.match(r"kb_visitor=[A-Za-z0-9_-]{22};", cookie)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Max-Age=31536000" in cookie
    assert votes(app) == [("reset-password", True, "", "")]
    thanks = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Thanks for your feedback!" in thanks and "/contact?from=" not in thanks


def test_a_changed_vote_updates_in_place_and_a_no_offers_the_contact_form(app: Flask, client: FlaskClient) -> None:
    vote(client, "reset-password", "yes")
    response = vote(client, "reset-password", "no")
    assert response.headers["Location"] == "/articles/reset-password/feedback?answer=no"
    thanks = client.get(response.headers["Location"]).get_data(as_text=True)
    assert '<a href="/contact?from=reset-password">contact our support team</a>' in thanks
    assert 'value="outdated"' in thanks and 'name="comment"' in thanks
    told = client.post(
        "/articles/reset-password/vote",
        data={"csrf_token": csrf_from(thanks), "helpful": "no", "reason": "unsolved", "comment": "Link expired."},
    )
    assert told.headers["Location"] == "/articles/reset-password/feedback?answer=no&told=1"
    assert "passed that on" in client.get(told.headers["Location"]).get_data(as_text=True)
    assert votes(app) == [("reset-password", False, "unsolved", "Link expired.")]
    with app.extensions["kb_customer_storage"].session() as session:
        assert counts(session, "votes_helpful", today(), today()) == [(today(), "reset-password", 0)]
        assert counts(session, "votes_unhelpful", today(), today()) == [(today(), "reset-password", 1)]
    other = app.test_client()  # another visitor: a second row
    vote(other, "reset-password", "yes")
    assert len(votes(app)) == 2


def test_bad_answers_are_refused_and_what_was_typed_is_kept(app: Flask, client: FlaskClient) -> None:
    assert vote(client, "welcome", "maybe").status_code == 400
    response = vote(client, "welcome", "no", reason="boring", comment="Kept text")
    assert response.status_code == 400
    assert "Choose one of the reasons listed." in response.get_data(as_text=True)
    long = vote(client, "welcome", "no", comment="x" * 1001)
    assert long.status_code == 400
    assert "please keep it to 1000" in long.get_data(as_text=True) and "x" * 1001 in long.get_data(as_text=True)
    assert client.post("/articles/welcome/vote", data={"helpful": "yes"}).status_code == 400  # no CSRF token
    assert votes(app) == []


def test_votes_are_rate_limited_per_address(make_app: AppFactory) -> None:
    client = make_app(votes_per_minute=2).test_client()
    assert [vote(client, slug, "yes").status_code for slug in ("welcome", "reset-password", "invoice-basics")] == [
        303,
        303,
        429,
    ]


def test_internal_articles_take_votes_from_agents_only(app: Flask, client: FlaskClient, token: str) -> None:
    page = client.get("/articles/welcome").get_data(as_text=True)
    anonymous = client.post(f"/articles/{INTERNAL}/vote", data={"csrf_token": csrf_from(page), "helpful": "no"})
    assert anonymous.status_code == 404
    assert sign_in(client).status_code == 302
    agent_page = client.get(f"/agent/articles/{INTERNAL}").get_data(as_text=True)
    assert f'action="/articles/{INTERNAL}/vote"' in agent_page
    response = client.post(f"/articles/{INTERNAL}/vote", data={"csrf_token": csrf_from(agent_page), "helpful": "no"})
    assert response.status_code == 303
    thanks = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f'href="/agent/articles/{INTERNAL}"' in thanks and "/contact?from=" not in thanks
    assert votes(app) == [(INTERNAL, False, "", "")]


def test_a_database_outage_costs_the_vote_never_the_article(
    built_settings: Settings, fake_embedder: FakeEmbedder
) -> None:
    settings = dataclasses.replace(built_settings, database_url=refusing_url())
    client = create_app({"TESTING": True, "KB_SETTINGS": settings, "KB_EMBEDDER": fake_embedder}).test_client()
    page = client.get("/articles/reset-password")
    assert page.status_code == 200 and "Was this helpful?" in page.get_data(as_text=True)
    response = client.post(
        "/articles/reset-password/vote",
        data={"csrf_token": csrf_from(page.get_data(as_text=True)), "helpful": "no", "comment": "Please keep this"},
    )
    assert response.status_code == 503
    text = response.get_data(as_text=True)
    assert "We could not record your answer just now. Please try again in a moment." in text
    assert "Please keep this" in text and "Traceback" not in text
    assert client.get("/search?q=reset+password").status_code == 200
