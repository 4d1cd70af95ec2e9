"""The contact form: suggestions before sending, a honeypot and a rate limit, and the request stored first.

Without JavaScript the first submit shows the articles that may answer the question ("check these
first"); the second sends. With JavaScript (static/contact.js) the suggestions appear while the
customer types, and a request whose suggestions were already shown is sent at once. Nothing typed is
lost: every refusal (a field to correct, an expired form, the rate limit, a database outage) shows
the form again, filled in, with the reason beside the field or above the form.
"""

from __future__ import annotations

import atexit
import datetime
import re
from typing import Any

from flask import Blueprint, Flask, abort, current_app, redirect, render_template, request, url_for
from flask_wtf.csrf import ValidationError, validate_csrf
from werkzeug.wrappers import Response

from kb.errors import KbError
from kb.index.format import ArticleRecord
from kb.store.contact import (
    new_form_token,
    record_events,
    requests_since,
    store_request,
    visitor_address_hash,
)
from kb.store.contact_form import FIELD_LIMITS, FIELDS, LABELS, cleaned, validate
from kb.store.database import Storage
from kb.store.delivery import configured_channels
from kb.store.models import now
from kb.store.outbox import DeliveryWorker
from kb.store.resilience import DatabaseGuard
from kb.store.schema import display_url
from kb.urls import article_url
from web.state import help_center, settings
from web.visitors import visitor_id

blueprint = Blueprint("contact", __name__)
SUGGESTIONS = 3
FORM_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,32}$")
REFERENCE = re.compile(r"^REQ-[A-Z0-9]{4}-[A-Z0-9]{4}$")
HONEYPOT = "website"  # people never see it; bots that fill every field do
CUSTOMER_WAIT_SECONDS = 5.0  # a customer's request waits out a burst rather than being turned away
RATE_WINDOW = datetime.timedelta(hours=1)
EXPIRED = "This form expired while it was open. Your text is still here: check it and send again."
UNAVAILABLE = (
    "We could not send your request just now. Nothing you typed is lost: it is still in the form below. "
    "Please try sending again in a minute."
)
RATE_LIMITED = (
    "You have sent several requests in the last hour, the most we accept from one connection. "
    "Your text is still here: please send it again later."
)


def customer_storage() -> Storage:
    return current_app.extensions["kb_contact_storage"]


def event_visitor() -> str | None:
    """The visitor cookie's id (web/visitors.py), when the visitor has one; none is made here."""
    return visitor_id()


def products() -> list[str]:
    return [name.strip() for name in settings().contact_products.split(",") if name.strip()]


def public_article(slug: str) -> ArticleRecord | None:
    """The public article `slug`, or None; the form works on when the index cannot be read (it is needed most then)."""
    if not slug:
        return None
    try:
        return help_center().article(slug)
    except KbError:
        return None


def public_slugs(slugs: list[str]) -> list[str]:
    """Those of `slugs` that name public articles, in order, once each, at most 20."""
    return [slug for slug in dict.fromkeys(slugs) if public_article(slug) is not None][:20]


def suggestions_for(subject: str, description: str) -> list[dict[str, str]]:
    """The articles that may answer the request: the same search as the site, on what the customer wrote."""
    text = f"{subject}\n{description}"[: settings().max_query_length].strip()
    if not text:
        return []
    try:
        response = help_center().search(text, SUGGESTIONS)
    except KbError:  # an unusable query, or no index to search: the customer can still send
        return []
    found = []
    for result in response.results:
        anchor = result.url.partition("#")[2]
        found.append({"slug": result.slug, "title": result.title, "section": result.section, "anchor": anchor})
    return found


def render_form(
    values: dict[str, str],
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    notice: str = "",
    suggestions: list[dict[str, str]] | None = None,
) -> tuple[str, int]:
    record = public_article(values.get("came_from", ""))
    page = render_template(
        "contact.html",
        values=values,
        errors=errors or {},
        notice=notice,
        suggestions=suggestions,
        products=products(),
        limits=FIELD_LIMITS,
        labels=LABELS,
        came_from=record,
        today=datetime.datetime.now(datetime.UTC).date().isoformat(),
    )
    return page, status


@blueprint.route("/contact", methods=["GET", "POST"])
def form() -> Any:
    """The empty form (GET), or a submitted one (POST): one endpoint, so the form posts to its own URL."""
    if request.method == "POST":
        return send()
    values = {name: "" for name in FIELDS}
    values["subject"] = cleaned({"subject": request.args.get("q", "")})["subject"][: FIELD_LIMITS["subject"]]
    came_from = request.args.get("from", "")[:200]
    values["came_from"] = came_from if public_article(came_from) is not None else ""
    values["form"] = new_form_token()
    values["shown"] = ""
    return render_form(values)


def submitted_values() -> dict[str, str]:
    """What the customer typed, whole (the request size limit bounds it): a message says what is too long."""
    values = {name: request.form.get(name, "") for name in FIELDS}
    token = request.form.get("form", "")
    values["form"] = token if FORM_TOKEN.match(token) else new_form_token()
    came_from = request.form.get("came_from", "")[:200]
    values["came_from"] = came_from if public_article(came_from) is not None else ""
    values["shown"] = " ".join(public_slugs(request.form.get("shown", "")[:4000].split()))
    return values


def send() -> Any:
    values = submitted_values()
    try:
        validate_csrf(request.form.get("csrf_token"))
    except ValidationError:
        return render_form(values, status=400, notice=EXPIRED)
    if request.form.get(HONEYPOT, ""):
        # A bot: it is thanked like a person, so it learns nothing, and nothing is stored or sent.
        current_app.logger.info("contact form: the honeypot field was filled; nothing stored")
        return render_template("contact_sent.html", reference=None)
    form, errors = validate(values, products(), datetime.datetime.now(datetime.UTC).date())
    if form is None:
        return render_form(values, status=400, errors=errors)
    storage = customer_storage()
    try:
        visitor = visitor_address_hash(storage, request.remote_addr or "")
        if requests_since(storage, visitor, now() - RATE_WINDOW) >= settings().contact_requests_per_hour:
            return render_form(values, status=429, notice=RATE_LIMITED)
        shown = values["shown"].split()
        if request.form.get("step") != "send" and not shown:
            suggestions = suggestions_for(form.subject, form.description)
            if suggestions:
                values["shown"] = " ".join(item["slug"] for item in suggestions)
                record_events(storage, values["form"], "suggestions_shown", values["shown"].split(), event_visitor())
                return render_form(values, suggestions=suggestions)
        reference = store_request(
            storage,
            form,
            channels=configured_channels(settings()),
            form_token=values["form"],
            suggestions=shown,
            came_from=values["came_from"],
            visitor=visitor,
            event_visitor=event_visitor(),
        )
    except KbError as error:  # the database is down or busy: the customer keeps the form, filled in
        current_app.logger.warning("contact request not stored: %s", error)
        return render_form(values, status=503, notice=UNAVAILABLE)
    worker = current_app.extensions.get("kb_delivery_worker")
    if worker is not None:
        worker.wake()
    return redirect(url_for("contact.sent", ref=reference), code=303)


@blueprint.get("/contact/sent")
def sent() -> str:
    reference = request.args.get("ref", "")
    if not REFERENCE.match(reference):
        abort(404, description="We couldn't find that request.")
    return render_template("contact_sent.html", reference=reference)


@blueprint.get("/contact/open")
def open_suggestion() -> Response:
    """A suggested article, opened from the contact form: recorded for the form session, then shown."""
    slug, anchor, token = request.args.get("slug", ""), request.args.get("section", ""), request.args.get("form", "")
    record = help_center().article_or_renamed(slug)
    if record is None:
        abort(404, description="We couldn't find that article. It may have been moved or removed.")
    anchors = {heading["anchor"] for heading in record.headings}
    if FORM_TOKEN.match(token):
        try:
            record_events(customer_storage(), token, "suggestion_opened", [record.slug], event_visitor())
        except KbError as error:  # counting is not worth keeping the customer from the article
            current_app.logger.warning("suggestion opened but not recorded: %s", error)
    return redirect(article_url(record.slug, anchor if anchor in anchors else ""), code=303)


def init_app(app: Flask) -> None:
    """The customers' own database path (patient, beside the agents'), and a delivery worker per process."""
    config = app.config["KB_SETTINGS"]
    agents_storage: Storage = app.extensions["kb_storage"]
    url = agents_storage.url
    guard = DatabaseGuard(
        display_url(url), concurrent_calls=max(1, config.threads // 2), permit_wait_seconds=CUSTOMER_WAIT_SECONDS
    )
    app.extensions["kb_contact_storage"] = Storage(url, guard)
    channels = configured_channels(config)
    if not channels:
        app.logger.info("no KB_CONTACT_WEBHOOK_URL or KB_CONTACT_SMTP_HOST: contact requests are stored, not sent")
    if channels and app.config.get("KB_DELIVERY_WORKER", not app.testing):
        worker = DeliveryWorker(Storage(url, DatabaseGuard(display_url(url), concurrent_calls=1)), config)
        worker.start()
        atexit.register(worker.stop)
        app.extensions["kb_delivery_worker"] = worker
