"""The contact form: messages per field, the "check these first" step, the honeypot, the rate limit, outages."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from kb.errors import DatabaseUnavailableError
from kb.store.contact import contact_requests, deflection_counts, form_events, settle_deflections
from kb.store.database import Storage
from kb.store.models import ContactRequestRow, OutboxRow, now
from tests.conftest import AppFactory, csrf_from
from tests.database_faults import refusing_url

GOOD = {
    "name": "Ana Lima",
    "email": "ana@example.com",
    "product": "",
    "order_number": "ORD-7731",
    "purchase_date": "2026-03-14",
    "warranty": "",
    "subject": "Cannot reset my password",
    "description": "The reset email never arrives, I tried three times today.",
}


def open_form(client: FlaskClient, url: str = "/contact") -> dict[str, str]:
    """The hidden fields of a fresh form: its CSRF token and form-session token."""
    page = client.get(url).get_data(as_text=True)
    token = re.search(r'name="form" value="([^"]+)"', page)
    assert token is not None
    return {"csrf_token": csrf_from(page), "form": token.group(1)}


def submit(client: FlaskClient, fields: dict[str, str], **extra: str) -> Any:
    return client.post("/contact", data={**open_form(client), **fields, **extra})


def stored(app: Flask) -> list[ContactRequestRow]:
    with app.extensions["kb_contact_storage"].session() as session:
        return list(session.scalars(select(ContactRequestRow)))


def field_error(page: str, name: str) -> str | None:
    match = re.search(rf'<p class="field-error" id="contact-{name}-error">([^<]*)</p>', page)
    return match.group(1) if match else None


def test_every_page_footer_links_to_the_contact_form(client: FlaskClient) -> None:
    for url in ("/", "/search?q=invoice", "/articles/invoice-basics"):
        assert '<a href="/contact">contact support</a>' in client.get(url).get_data(as_text=True)


def test_the_form_prefills_the_subject_from_the_query_and_names_the_article(client: FlaskClient) -> None:
    page = client.get("/contact?q=refund+for+a+double+charge&from=invoice-basics").get_data(as_text=True)
    assert 'id="contact-subject" name="subject" value="refund for a double charge"' in page
    assert 'About the article <a href="/articles/invoice-basics">Invoice basics</a>' in page
    assert 'name="came_from" value="invoice-basics"' in page
    hidden = client.get("/contact?from=refund-escalation-playbook").get_data(as_text=True)
    assert "refund-escalation-playbook" not in hidden  # an internal article is never named to the public


def test_each_wrong_field_gets_its_own_message_and_the_text_is_kept(client: FlaskClient) -> None:
    tomorrow = (datetime.datetime.now(datetime.UTC).date() + datetime.timedelta(days=1)).isoformat()
    fields = {
        **GOOD,
        "name": "",
        "email": "ana at example",
        "order_number": "#!?",
        "purchase_date": tomorrow,
        "warranty": "w" * 201,
        "subject": "",
        "description": "short",
    }
    response = submit(client, fields)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert {name: field_error(page, name) for name in GOOD} == {
        "name": "Enter your name.",
        "email": "Enter an email address like name@example.com.",
        "product": None,
        "order_number": "An order number has only letters, digits, spaces and # . / _ -.",
        "purchase_date": "The purchase date cannot be in the future.",
        "warranty": "Warranty or contract must be at most 200 characters (it has 201).",
        "subject": "Enter a subject: a few words about the problem.",
        "description": "Tell us a little more: at least 10 characters.",
    }
    assert (
        '<input id="contact-email" name="email" type="email" value="ana at example" maxlength="320" '
        'autocomplete="email" required aria-describedby="contact-email-hint contact-email-error" aria-invalid="true">'
    ) in page
    assert f'value="{tomorrow}" aria-describedby="contact-purchase_date-error" aria-invalid="true"' in page
    assert ">short</textarea>" in page and 'value="ORD-7731"' not in page and 'value="#!?"' in page
    assert "Please correct these 7 fields:" in page
    assert stored(client.application) == []


EXAMPLE = "Enter the purchase date as YYYY-MM-DD, for example 2026-03-14."


@pytest.mark.parametrize(
    ("date", "message"),
    [("14/03/2026", EXAMPLE), ("2026-02-30", f"2026-02-30 is not a date in the calendar. {EXAMPLE}")],
)
def test_a_purchase_date_must_be_a_real_day(client: FlaskClient, date: str, message: str) -> None:
    page = submit(client, {**GOOD, "purchase_date": date}).get_data(as_text=True)
    assert field_error(page, "purchase_date") == message


def test_with_products_configured_the_product_is_chosen_from_a_list(make_app: AppFactory) -> None:
    client = make_app(contact_products="Starter, Pro, Enterprise").test_client()
    page = client.get("/contact").get_data(as_text=True)
    assert '<option value="">Choose…</option>' in page and "<option>Pro</option>" in page
    page = submit(client, {**GOOD, "product": "Gold"}).get_data(as_text=True)
    assert field_error(page, "product") == "Choose your product or plan from the list."
    assert submit(client, {**GOOD, "product": "Pro"}, step="send").status_code == 303


def test_without_javascript_the_first_submit_shows_suggestions_and_the_second_sends(client: FlaskClient) -> None:
    hidden = open_form(client)
    first = client.post("/contact", data={**hidden, **GOOD})
    page = first.get_data(as_text=True)
    assert first.status_code == 200
    assert "Check these first" in page and ">Send anyway</button>" in page
    assert f'href="/contact/open?form={hidden["form"]}&amp;slug=reset-password' in page
    shown = re.search(r'name="shown" value="([^"]*)"', page)
    assert shown is not None and "reset-password" in shown.group(1).split()
    assert "refund-escalation-playbook" not in page  # internal articles are never suggested
    assert stored(client.application) == []
    second = client.post("/contact", data={**hidden, **GOOD, "shown": shown.group(1), "step": "send"})
    assert second.status_code == 303
    [row] = stored(client.application)
    assert second.headers["Location"] == f"/contact/sent?ref={row.reference}"
    assert "reset-password" in row.suggestions
    confirmation = client.get(second.headers["Location"]).get_data(as_text=True)
    assert f'Your reference is <strong class="reference">{row.reference}</strong>' in confirmation
    storage: Storage = client.application.extensions["kb_contact_storage"]
    events = form_events(storage, hidden["form"])
    assert events.count(("suggestions_shown", "reset-password")) == 1 and events[-1] == ("sent", "")


def test_a_request_whose_suggestions_were_shown_while_typing_is_sent_at_once(client: FlaskClient) -> None:
    response = submit(client, GOOD, shown="reset-password no-such-article")
    assert response.status_code == 303
    [row] = stored(client.application)
    assert row.suggestions == '["reset-password"]'


def test_opening_a_suggestion_is_recorded_and_lands_on_the_article(client: FlaskClient) -> None:
    token = open_form(client)["form"]
    response = client.get(f"/contact/open?form={token}&slug=reset-password&section=no-such-section")
    assert response.status_code == 303 and response.headers["Location"] == "/articles/reset-password"
    storage: Storage = client.application.extensions["kb_contact_storage"]
    assert form_events(storage, token) == [("suggestion_opened", "reset-password")]
    assert client.get(f"/contact/open?form={token}&slug=refund-escalation-playbook").status_code == 404


def test_the_honeypot_thanks_a_bot_and_stores_nothing(client: FlaskClient) -> None:
    response = submit(client, GOOD, step="send", website="http://spam.example")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "We have your request." in page and "REQ-" not in page
    assert stored(client.application) == []


def test_the_honeypot_is_hidden_by_the_stylesheet_not_inline(client: FlaskClient) -> None:
    page = client.get("/contact").get_data(as_text=True)
    assert '<div class="contact-extra" aria-hidden="true">' in page and "style=" not in page
    assert 'name="website" tabindex="-1" autocomplete="off"' in page
    css = client.get("/static/contact.css").get_data(as_text=True)
    assert ".contact-extra{position:absolute;left:-10000px;" in css  # minified


def test_requests_beyond_the_hourly_limit_keep_the_form_and_say_why(make_app: AppFactory) -> None:
    client = make_app(contact_requests_per_hour=2).test_client()
    assert [submit(client, GOOD, step="send").status_code for _ in range(2)] == [303, 303]
    refused = submit(client, {**GOOD, "subject": "third one"}, step="send")
    page = refused.get_data(as_text=True)
    assert refused.status_code == 429
    assert "the most we accept from one connection" in page and 'value="third one"' in page
    assert len(stored(client.application)) == 2
    with client.application.extensions["kb_contact_storage"].session() as session:
        visitors = set(session.scalars(select(ContactRequestRow.visitor)))
    assert len(visitors) == 1 and "127.0.0.1" not in next(iter(visitors))  # a salted hash, never the address


def test_an_expired_form_keeps_what_was_typed(client: FlaskClient) -> None:
    response = client.post("/contact", data={**GOOD, "csrf_token": "forged", "form": "x" * 22})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "This form expired while it was open." in page and ">The reset email never arrives" in page
    assert stored(client.application) == []


def test_a_database_outage_keeps_the_form_filled_and_says_so(client: FlaskClient, monkeypatch: Any) -> None:
    def unavailable(*args: Any, **kwargs: Any) -> None:
        raise DatabaseUnavailableError("the database is down")

    monkeypatch.setattr("web.contact.visitor_address_hash", unavailable)
    response = submit(client, GOOD, step="send")
    page = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "Nothing you typed is lost" in page and 'value="Cannot reset my password"' in page


def test_with_the_database_refusing_connections_the_form_shows_and_keeps_the_text(make_app: AppFactory) -> None:
    client = make_app(database_url=refusing_url()).test_client()
    assert client.get("/contact").status_code == 200
    assert client.get("/articles/reset-password").status_code == 200
    response = submit(client, GOOD, step="send")
    assert response.status_code == 503
    assert 'value="Cannot reset my password"' in response.get_data(as_text=True)
    token = "t" * 22
    opened = client.get(f"/contact/open?form={token}&slug=reset-password")
    assert opened.status_code == 303 and opened.headers["Location"] == "/articles/reset-password"


def test_without_an_index_the_form_still_sends_when_customers_need_it_most(unbuilt_app: Flask) -> None:
    client = unbuilt_app.test_client()
    assert client.get("/search?q=invoice").status_code == 503
    assert client.get("/contact?from=reset-password").status_code == 200
    response = submit(client, GOOD)  # no suggestions to check first: sent at once
    assert response.status_code == 303
    assert len(stored(unbuilt_app)) == 1


def test_a_customer_who_opens_a_suggestion_and_leaves_is_one_deflection(client: FlaskClient) -> None:
    hidden = open_form(client)
    assert "Check these first" in client.post("/contact", data={**hidden, **GOOD}).get_data(as_text=True)
    client.get(f"/contact/open?form={hidden['form']}&slug=reset-password")
    sender = open_form(client)  # another customer opens one too, and sends anyway
    client.get(f"/contact/open?form={sender['form']}&slug=reset-password")
    assert client.post("/contact", data={**sender, **GOOD, "step": "send"}).status_code == 303
    storage: Storage = client.application.extensions["kb_contact_storage"]
    today = datetime.datetime.now(datetime.UTC).date()
    assert deflection_counts(storage, today, today) == {}  # within the quiet time: they may still come back
    later = now() + datetime.timedelta(minutes=31)
    assert settle_deflections(storage, datetime.timedelta(minutes=30), later) == 1
    assert deflection_counts(storage, today, today) == {today: 1}


def test_a_sent_request_has_one_outbox_row_per_configured_channel(make_app: AppFactory) -> None:
    app = make_app(
        contact_webhook_url="http://127.0.0.1:9/hook",
        contact_smtp_host="127.0.0.1",
        contact_email_from="help@example.com",
        contact_email_to="support@example.com",
    )
    client = app.test_client()
    assert "kb_delivery_worker" not in app.extensions  # tests drive delivery themselves
    assert submit(client, GOOD, step="send").status_code == 303
    with app.extensions["kb_contact_storage"].session() as session:
        assert sorted(session.scalars(select(OutboxRow.channel))) == ["email", "webhook"]
    [request] = contact_requests(app.extensions["kb_contact_storage"])
    assert request.status == "pending"


def test_the_confirmation_page_only_names_references(client: FlaskClient) -> None:
    assert client.get("/contact/sent?ref=<script>").status_code == 404
